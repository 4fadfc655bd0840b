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

import functools
import importlib.util
import os
import threading
from typing import Any, Callable, Optional, TypeVar

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


_LOCK = threading.RLock()


class Kernel:
    """A kernel compiled on its first call, so that importing the engine (the TUI's first
    frame lists the strategies) does not import numba, which takes a fifth of a second.

    Before compiling, the kernels it calls (found among its module's globals) are compiled
    and put in their place, because numba can only call compiled functions.
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        functools.update_wrapper(self, fn)
        self.py_func = fn
        self._compiled: Optional[Callable[..., Any]] = None

    def compiled(self) -> Callable[..., Any]:
        if self._compiled is None:
            with _LOCK:
                if self._compiled is None:
                    globals_ = self.py_func.__globals__
                    for name in self.py_func.__code__.co_names:  # the globals it refers to
                        value = globals_.get(name)
                        if isinstance(value, Kernel) and value is not self:
                            globals_[name] = value.compiled()
                    os.environ.setdefault("NUMBA_CACHE_DIR", _cache_dir())
                    import numba

                    self._compiled = numba.njit(cache=True, nogil=True)(self.py_func)
        return self._compiled

    def __call__(self, *args: Any) -> Any:
        return (self._compiled or self.compiled())(*args)


def _choose() -> Callable[[F], F]:
    if os.environ.get("ATB_TUI_NO_JIT") or importlib.util.find_spec("numba") is None:
        return _identity
    return Kernel  # type: ignore[return-value]


njit = _choose()
ENABLED = njit is not _identity


def compiled(fn: F) -> F:
    """The compiled form of a kernel (compiling it now), for hot Python loops that call it
    many times; a plain function when compilation is off."""
    return fn.compiled() if isinstance(fn, Kernel) else fn  # type: ignore[return-value]
