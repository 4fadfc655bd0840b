"""Optional compilation of the few scalar kernels on the backtest's hot path.

With numba installed the kernels are compiled (and cached on disk); without it, or
with ``ATB_TUI_NO_JIT=1``, they run as the very same Python functions, only slower.
Either way there is one implementation of each rule.
"""

from __future__ import annotations

import os
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def _identity(fn: F) -> F:
    return fn


def _choose() -> Callable[[F], F]:
    if os.environ.get("ATB_TUI_NO_JIT"):
        return _identity
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a declared dependency
        return _identity

    def compile_(fn: F) -> F:
        return numba.njit(cache=True, nogil=True)(fn)  # type: ignore[return-value]

    return compile_


njit = _choose()
ENABLED = njit is not _identity
