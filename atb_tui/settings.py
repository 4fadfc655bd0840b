"""User settings: a typed dataclass, a TOML file under the user config dir, env overrides.

Precedence: defaults < ``settings.toml`` < ``ATB_TUI_<FIELD>`` environment variables.
A settings file that does not parse is reported, never silently replaced; saving is
atomic so a crash cannot leave half a file.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Mapping, Optional

from engine.errors import InputError

ENV_PREFIX = "ATB_TUI_"
# Textual's built-in themes (textual is pinned; a test checks this list against it): what
# the command palette's theme picker offers, so any theme picked there can be saved.
# Spelled out because importing textual.theme costs the headless CLI a fifth of a second.
THEMES = (
    "ansi-dark", "ansi-light", "atom-one-dark", "atom-one-light", "catppuccin-frappe", "catppuccin-latte",
    "catppuccin-macchiato", "catppuccin-mocha", "dracula", "flexoki", "gruvbox", "monokai", "nord", "rose-pine",
    "rose-pine-dawn", "rose-pine-moon", "solarized-dark", "solarized-light", "textual-dark", "textual-light",
    "tokyo-night",
)


def config_dir() -> Path:
    env = os.environ.get(ENV_PREFIX + "CONFIG_DIR")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("atb-tui"))


def default_export_dir() -> Path:
    """Where exports go unless the settings say otherwise: ``atb-tui`` in the user's
    documents folder (a checkout under ``make run`` is no place for them)."""
    from platformdirs import user_documents_dir

    return Path(user_documents_dir()) / "atb-tui"


@dataclass(frozen=True)
class Settings:
    default_exchange: str = "binance"
    fee_pct: float = 0.1
    slippage_pct: float = 0.05
    balance: float = 10_000.0
    db_url: str = ""  # empty: SQLite under the user data dir
    theme: str = "textual-dark"
    export_dir: str = ""  # empty: default_export_dir()

    def problems(self) -> dict[str, str]:
        """Field name -> what is wrong with it, as a sentence; empty when valid.

        The numbers' bounds and the exchange ids are the engine's (engine.limits,
        engine.exchange_ids), which the Backtest form and the CLI ask too: a value saved
        here is one the form accepts after a restart."""
        from engine.exchange_ids import exchange_problem
        from engine.limits import problem

        out: dict[str, str] = {}
        checks = {
            "default_exchange": lambda: exchange_problem(self.default_exchange),
            "fee_pct": lambda: problem("fee", self.fee_pct),
            "slippage_pct": lambda: problem("slippage", self.slippage_pct),
            "balance": lambda: problem("balance", self.balance),
        }
        for name, check in checks.items():
            text = check()
            if text is not None:
                out[name] = text
        if self.db_url and "://" not in self.db_url:
            out["db_url"] = "must be a database URL like sqlite:///path/runs.sqlite, or empty for the default"
        if self.theme not in THEMES:
            out["theme"] = "must be one of " + ", ".join(THEMES)
        folder = Path(self.export_dir).expanduser()
        if self.export_dir.strip() and folder.exists() and not folder.is_dir():
            out["export_dir"] = "must be a folder (this is a file), or empty for the default"
        return out

    def export_folder(self) -> Path:
        return Path(self.export_dir).expanduser() if self.export_dir.strip() else default_export_dir()

    def validated(self, where: str = "") -> "Settings":
        problems = self.problems()
        if problems:
            name, what = next(iter(problems.items()))
            raise InputError(f"{where + ': ' if where else ''}setting {name}: {what}")
        return self

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str) -> "Settings":
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in data.items():
            if key not in known:
                raise InputError(f"{where}: unknown setting {key!r}")
            kind = type(getattr(cls(), key))
            try:
                values[key] = kind(raw)
            except (TypeError, ValueError):
                raise InputError(f"{where}: setting {key} must be a {kind.__name__}, got {raw!r}") from None
        return cls(**values)


def settings_path() -> Path:
    return config_dir() / "settings.toml"


def load_settings(path: Optional[Path] = None, environ: Optional[Mapping[str, str]] = None) -> Settings:
    path = path or settings_path()
    environ = os.environ if environ is None else environ
    base = Settings()
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not valid TOML ({exc})") from None
        base = Settings.from_mapping(data, str(path))
    overrides = {
        f.name: environ[ENV_PREFIX + f.name.upper()]
        for f in fields(Settings)
        if ENV_PREFIX + f.name.upper() in environ
    }
    where = str(path) if path.exists() else ""
    if overrides:
        base = Settings.from_mapping({**asdict(base), **overrides}, "environment")
        where = f"{where} or the environment" if where else "environment"
    return base.validated(where)


def save_settings(settings: Settings, path: Optional[Path] = None) -> Path:
    import tomli_w

    settings.validated()
    path = path or settings_path()
    _write_atomic(path, lambda fh: tomli_w.dump(asdict(settings), fh))
    return path


def write_json_atomic(path: Path, data: Any) -> None:
    """A small JSON file (the Backtest form's last entries), written whole or not at all."""
    import json

    _write_atomic(path, lambda fh: fh.write(json.dumps(data, indent=1, sort_keys=True).encode()))


def _write_atomic(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
