"""The split of a job's time the CLI prints with --timings."""

from engine.phases import PhaseClock


def _clock(*times: float):
    ticks = iter(times)
    return lambda: next(ticks)


def test_phases_are_timed_until_the_next_begins() -> None:
    clock = PhaseClock("imports", _clock(0.0, 0.5, 1.25, 2.0))
    clock("run")
    clock("output")
    assert clock.line() == "timings: imports 0.500 s, run 0.750 s, output 0.750 s; total 2.000 s"


def test_a_phase_in_another_process_shows_its_own_time_but_not_in_the_total() -> None:
    clock = PhaseClock("run", _clock(0.0, 1.0, 1.1, 1.6))
    clock("store")  # the fork: 0.1 s here, 0.45 s in the child, beside the output
    clock("output")
    clock.alongside("store", 0.45, "output")
    assert clock.line() == "timings: run 1.000 s, store 0.450 s (alongside output), output 0.500 s; total 1.600 s"
