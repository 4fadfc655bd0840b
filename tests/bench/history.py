"""History figures for `make bench`: the run list with 10,000 stored runs, at 160x50.

Headless with Pilot: the real app on a temporary SQLite database seeded with 10,000
runs in one set-based insert (each with a 400-point equity curve, as real runs have),
the newest of them a real backtest with its trades. Every figure is the median time
from the key (or keys) to the first frame ready after what they asked for is on
screen: History opened afresh to its first rows, the key that completes a filter to
the narrowed list, a page turned, the list's end (the oldest run) reached, and a run
detail opened to its trades. ``python -m tests.bench.history`` prints them; BENCH_HISTORY_RUNS changes the
number of runs.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Optional

RUNS = int(os.environ.get("BENCH_HISTORY_RUNS", "10000"))
SAMPLES = 7
FILTERS = ("eth", "rsi", "fast=9", "kind:replay", "sol rsi")


def _seed(url: str, count: int) -> int:
    """``count`` runs, the newest a real backtest (with trades); returns its id."""
    from engine.config import BacktestConfig
    from engine.runner import run_backtest
    from engine.store import open_db, save_backtest
    from tests.run_seed import run_spec, seed_runs

    database = open_db(url)
    seed_runs(database, count - 1)
    newest = run_spec(count)["created_at"] + timedelta(minutes=1)
    run_id = save_backtest(database, run_backtest(BacktestConfig(strategy="sma_cross")), created_at=newest)
    database.dispose()
    return run_id


class Frames:
    """Times the first frame ready to go to the terminal (headless: rendered, then dropped)
    that shows what a key asked for: the condition is checked as each frame goes out, so
    the frame counted is one rendered from the state that fulfils it."""

    def __init__(self, app: Any) -> None:
        self.condition: Optional[Callable[[], Any]] = None
        self.answered: Optional[float] = None
        display = app._display

        def timed(screen: Any, renderable: Any) -> None:
            if renderable is not None and self.condition is not None and self.answered is None and self.condition():
                self.answered = time.perf_counter()
            display(screen, renderable)

        app._display = timed

    async def shown(self, pilot: Any, keys: tuple[str, ...], condition: Callable[[], Any], timeout: float = 60.0) -> float:
        """Seconds from pressing ``keys`` to the first frame ready with ``condition()`` true."""
        self.condition, self.answered = condition, None
        t0 = time.perf_counter()
        await pilot.press(*keys)
        end = time.perf_counter() + timeout
        while self.answered is None:
            if time.perf_counter() > end:
                raise AssertionError(f"no frame after {keys} with the condition met")
            await pilot.pause(0.002)
        self.condition = None
        return self.answered - t0


async def _measure(count: int, samples: int) -> dict[str, float]:
    from engine.run_index import RunFilter
    from screens.history import HistoryScreen
    from screens.run_detail import RunDetailScreen
    from screens.widgets.results_view import ResultsView
    from tests.bench.live import _until
    from tests.ui_support import make_app

    times: dict[str, list[float]] = {"open": [], "filter": [], "page": [], "end": [], "detail": []}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/history.sqlite"
        detail_id = _seed(url, count)
        app = make_app(Path(tmp), db_url=url)
        async with app.run_test(size=(160, 50)) as pilot:
            frames = Frames(app)

            def history() -> Any:
                screen = app.screen
                return screen if isinstance(screen, HistoryScreen) else None

            def settled() -> bool:
                h = history()
                return h is not None and bool(h.order) and not h.reading

            first_open = await frames.shown(pilot, ("f4",), settled)
            for _ in range(samples):  # a History screen made afresh, the database already open
                await pilot.press("f1")
                await app.remove_mode("history")
                app.add_mode("history", HistoryScreen)
                times["open"].append(await frames.shown(pilot, ("f4",), settled))

            screen = history()
            assert screen is not None
            for i in range(samples + 1):
                # All but the filter's last key first; the figure is that last key, the
                # one that completes what the user wanted to see.
                text = FILTERS[i % len(FILTERS)]
                keys = tuple("space" if c == " " else c for c in text)
                await pilot.press("slash", *keys[:-1])
                await _until(pilot, lambda: screen.filter == RunFilter.parse(text[:-1]) and not screen.reading)
                await pilot.pause()
                spent = await frames.shown(pilot, keys[-1:], lambda: screen.filter == RunFilter.parse(text) and settled())
                assert screen.total < count, f"{text!r} did not narrow the list"
                if i:  # the first one warms the query path
                    times["filter"].append(spent)
                # Back to the list, and the filter cleared.
                await frames.shown(pilot, ("escape", "escape"), lambda: not screen.filter and settled())

            last_page = (count - 1) // screen.PAGE_SIZE * screen.PAGE_SIZE
            for _ in range(samples):
                table = screen.query_one("#runs")
                table.move_cursor(row=table.row_count - 1)
                await pilot.pause()
                # Past the page's last row: the next page.
                times["page"].append(await frames.shown(pilot, ("down",), lambda: screen.page_start > 0 and settled()))
                # The oldest run, on the last page.
                times["end"].append(await frames.shown(
                    pilot, ("end",), lambda: screen.page_start == last_page and settled()))
                await frames.shown(pilot, ("home",), lambda: screen.page_start == 0 and settled())

            assert screen.order[0] == detail_id
            for _ in range(samples):
                screen.query_one("#runs").move_cursor(row=0)
                await pilot.pause()

                def detail_shown() -> bool:
                    detail = app.screen
                    return isinstance(detail, RunDetailScreen) and detail.view is not None and \
                        detail.query_one(ResultsView).view is detail.view

                times["detail"].append(await frames.shown(pilot, ("enter",), detail_shown))
                await pilot.press("escape")
                await pilot.pause()

    ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    return {
        "first open, database opened too: ms": first_open * 1000,
        "open History to its first rows: median ms": ms["open"],
        "a filter's last key to the narrowed list: median ms": ms["filter"],
        "turn a page (down past the last row): median ms": ms["page"],
        "End, to the oldest run's page: median ms": ms["end"],
        "open a run detail (332 trades): median ms": ms["detail"],
    }


def history_figures(count: int = RUNS, samples: int = SAMPLES) -> dict[str, float]:
    return asyncio.run(_measure(count, samples))


if __name__ == "__main__":
    print(f"History with {RUNS:,} stored runs at 160x50 (Pilot; key to the first frame ready with the result):")
    for key, value in history_figures().items():
        print(f"  {key:<52}{value:>10,.1f}")
