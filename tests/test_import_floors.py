"""The floors between packages: engine <- screens <- atb_tui (DESIGN.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"engine": ("textual", "screens", "atb_tui"), "screens": ("atb_tui",)}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_runs_the_wrong_way(package: str) -> None:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, name in _imports(path):
            if name.split(".")[0] in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def test_importing_every_engine_module_loads_no_ui() -> None:
    code = (
        "import importlib, pkgutil, sys, engine\n"
        "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    if not m.name.endswith('make_sample'): importlib.import_module(m.name)\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('textual', 'screens', 'atb_tui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "", f"engine pulled in: {out.stdout}"


def test_the_checker_catches_a_wrong_way_import(tmp_path: Path) -> None:
    bad = tmp_path / "mod.py"
    bad.write_text("import os\nfrom textual.app import App\n")
    assert (2, "textual.app") in _imports(bad)


def test_the_first_frame_imports_neither_pandas_nor_numba_nor_sqlalchemy() -> None:
    """Start-up is felt on every launch: the app and the strategy list load without the heavy
    libraries (they come with the first run, replay or database read, on workers)."""
    code = (
        "import sys\n"
        "from atb_tui.app import create_app\n"
        "from engine.strategies import strategy_names; strategy_names()\n"
        "print(','.join(sorted(m for m in ('pandas', 'numba', 'sqlalchemy') if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "", f"start-up imported: {out.stdout}"
