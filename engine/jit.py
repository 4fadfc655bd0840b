"""Optional compilation of the few scalar kernels on the backtest's hot path.

With numba installed the kernels are compiled (and cached on disk); without it, or
with ``ATB_TUI_NO_JIT=1``, they run as the very same Python functions, only slower.
Either way there is one implementation of each rule.

Numba's on-disk cache only notices changes to a kernel's own file, not to the kernels
it calls from other modules (a stale scanner would keep an old trailing rule). So the
cache lives in a directory keyed by the engine's source files (path, size, mtime):
any change to any of them starts a fresh cache.
"""

from __future__ import annotations

import os
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def _identity(fn: F) -> F:
    return fn


def _cache_dir() -> str:
    import hashlib
    from pathlib import Path

    from platformdirs import user_cache_dir

    root = Path(__file__).resolve().parent
    digest = hashlib.sha1()
    for path in sorted(root.rglob("*.py")):
        st = path.stat()
        digest.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return str(Path(user_cache_dir("atb-tui")) / "numba" / digest.hexdigest()[:16])


def _choose() -> Callable[[F], F]:
    if os.environ.get("ATB_TUI_NO_JIT"):
        return _identity
    os.environ.setdefault("NUMBA_CACHE_DIR", _cache_dir())
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a declared dependency
        return _identity

    def compile_(fn: F) -> F:
        return numba.njit(cache=True, nogil=True)(fn)  # type: ignore[return-value]

    return compile_


njit = _choose()
ENABLED = njit is not _identity
