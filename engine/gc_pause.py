"""Pausing Python's cyclic garbage collector around a headless backtest.

A run allocates ~a hundred thousand acyclic records; the cyclic collector rescanning
them costs up to a fifth of the run and finds nothing. Switching it off is a process-wide
decision, so only a short-lived headless process (the CLI, the benchmark) takes it; the
TUI, with other work running, leaves the collector alone.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
