"""Pausing Python's cyclic garbage collector around a headless backtest.

A run allocates ~a hundred thousand acyclic records; the cyclic collector rescanning
them costs up to a fifth of the run and finds nothing. Switching it off is a process-wide
decision, so only a short-lived headless process (the CLI, the benchmark) takes it; the
TUI, with other work running, leaves the collector on, but moves what a big load leaves
behind (a replay's journal and saved states: millions of objects) out of its sight with
:func:`freeze_loaded`, or a full collection would stall a frame for a fifth of a second.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused(restore: bool = True) -> Iterator[None]:
    """The collector off inside; on again after unless ``restore`` is false, which a
    process ending right after asks for: switched on, the collector's first pass would
    be a full one over everything the run left (0.15 s after a million bars)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled and restore:
            gc.enable()


def freeze_loaded() -> None:
    """Exempt every object alive now from the cyclic collector's scans (``gc.freeze``).

    They are still freed by reference counting; only cycles among them would outlive their
    use, and the engine's records have none."""
    gc.freeze()
