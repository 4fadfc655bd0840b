"""Where a job's time goes: named phases in order, each timed until the next begins.

A backtest passes through loading, signals, the run and its metrics (the CLI adds
storing and output). The CLI's ``--timings`` prints the split, the benchmark reads it,
and the TUI names the phase a long job is in.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

# Called with a phase's name as it begins.
PhaseListener = Callable[[str], None]


class PhaseClock:
    """Call it with each phase's name as that phase begins; ``durations`` splits the
    time since the clock was made (the first phase is ``first``)."""

    def __init__(self, first: str = "imports", clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._marks: list[tuple[str, float]] = [(first, clock())]
        self._alongside: dict[str, tuple[float, str]] = {}

    def __call__(self, name: str) -> None:
        self._marks.append((name, self._clock()))

    def durations(self, until: Optional[float] = None) -> dict[str, float]:
        end = self._clock() if until is None else until
        out: dict[str, float] = {}
        for (name, start), (_next, stop) in zip(self._marks, self._marks[1:] + [("", end)]):
            out[name] = out.get(name, 0.0) + stop - start
        return out

    def alongside(self, name: str, seconds: float, other: str) -> None:
        """Phase ``name`` took ``seconds`` in another process, at the same time as phase
        ``other`` here: the line shows its own time, the total only the wall clock's."""
        self._alongside[name] = (seconds, other)

    def line(self) -> str:
        parts = self.durations()
        total = sum(parts.values())

        def part(name: str, seconds: float) -> str:
            if name in self._alongside:
                seconds, other = self._alongside[name]
                return f"{name} {seconds:.3f} s (alongside {other})"
            return f"{name} {seconds:.3f} s"

        return "timings: " + ", ".join(part(n, s) for n, s in parts.items()) + f"; total {total:.3f} s"
