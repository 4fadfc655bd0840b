"""Backtest workspace figures for `make bench`: a million-bar run's results, and its trades table.

Headless with Pilot at 160x50: the real app and Backtest workspace, its data source a
fake handing over synthetic one-minute bars (sma_cross 10/30 long/short, no fee: about
38,500 trades). Measured:

- engine finished -> results on screen: from the moment ``run_backtest`` returned on the
  worker (the view built after it) to the first frame showing the results' Summary tab
  with its metrics laid out; the run is stored after that, and its id shown: when, and
  how long ``save_backtest`` took;
- key -> frame ready while scrolling the trades table (down, page down, end) and
  sorting it (``s`` cycles the sort column, ``r`` reverses): from the key press to the
  first frame ready after the key's action had run.

BENCH_BACKTEST_UI_PROFILE=FILE profiles the app's thread (cProfile) from the engine's finish
to the results on screen into FILE.results, and while the keys are pressed into FILE.keys.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

SIZE = (160, 50)
SCROLL_KEYS = ("down", "pagedown", "end")


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 2 else samples[0]


def _profiler() -> Any:
    if not os.environ.get("BENCH_BACKTEST_UI_PROFILE"):
        return None
    import cProfile

    profile = cProfile.Profile()
    profile.enable()
    return profile


def _dump(profile: Any, phase: str) -> None:
    if profile is not None:
        profile.disable()
        profile.dump_stats(f"{os.environ['BENCH_BACKTEST_UI_PROFILE']}.{phase}")


def _action_of(widget: Any, key: str) -> str:
    """The name of the action ``key`` runs on ``widget`` (from its bindings)."""
    bindings = widget._bindings.get_bindings_for_key(key)
    return bindings[0].action.split("(")[0]


async def _measure(bars: int, rounds: int, sorts: int) -> dict[str, float]:
    import engine.runner
    import engine.store
    import screens.run_view
    from engine.data import synthetic_bars
    from screens.backtest.form import BacktestForm
    from screens.backtest.messages import BacktestFinished, RunSaved
    from screens.backtest.workspace import BacktestScreen
    from screens.widgets.metrics_panel import MetricsPanel
    from screens.widgets.results_view import ResultsView
    from screens.widgets.trades_table import TradesTable
    from tests.bench.live import _until
    from tests.ui_support import make_app

    candles = synthetic_bars(bars, seed=7)

    def loader(spec: Any, progress: Any = None, cancel: Any = None) -> Any:
        return candles

    marks: dict[str, float] = {}
    run_backtest = engine.runner.run_backtest

    def timed_run(*args: Any, **kw: Any) -> Any:
        result = run_backtest(*args, **kw)
        marks["engine finished"] = time.perf_counter()
        return result

    save_backtest, from_result = engine.store.save_backtest, screens.run_view.RunView.from_result
    from_result_descriptor = screens.run_view.RunView.__dict__["from_result"]

    def timed_save(*args: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        out = save_backtest(*args, **kw)
        marks["save"] = time.perf_counter() - t0
        return out

    def timed_view(*args: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        out = from_result(*args, **kw)
        marks["view"] = time.perf_counter() - t0
        return out

    # The job imports these when it runs (the view's builder, if it builds it there).
    engine.runner.run_backtest, engine.store.save_backtest = timed_run, timed_save
    screens.run_view.RunView.from_result = timed_view  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = make_app(Path(tmp), loader=loader)
            app.services.clock = time.monotonic
            async with app.run_test(size=SIZE) as pilot:
                screen = app.screen
                assert isinstance(screen, BacktestScreen)
                form = screen.query_one(BacktestForm)
                for key, value in {"fee": "0", "slippage": "0", "p-fast": "10", "p-slow": "30",
                                   "p-mode": "long_short"}.items():
                    form.set_value(key, value)
                await pilot.pause()
                table = screen.query_one(TradesTable)
                results = screen.query_one(ResultsView)

                panel = results.query_one(MetricsPanel)
                # When each frame was ready to go to the terminal (headless: rendered, then
                # dropped), and whether the Summary showed the run's metrics by then.
                frames_at: list[float] = []
                shown_at: list[float] = []
                display = app._display

                def timed(screen_: Any, renderable: Any) -> None:
                    if renderable is not None:
                        now = time.perf_counter()
                        frames_at.append(now)
                        if not shown_at and results.view is not None and panel.columns and panel.size.width:
                            shown_at.append(now)
                    display(screen_, renderable)

                app._display = timed  # type: ignore[method-assign]
                post = screen.post_message

                def posted(message: Any) -> bool:
                    if isinstance(message, BacktestFinished):
                        marks["posted"] = time.perf_counter()
                    elif isinstance(message, RunSaved):
                        marks["stored"] = time.perf_counter()
                    return post(message)

                screen.post_message = posted  # type: ignore[method-assign]
                show = results.show

                def shown(view: Any) -> None:
                    marks["handler start"] = time.perf_counter()
                    show(view)
                    marks["handler done"] = time.perf_counter()

                results.show = shown  # type: ignore[method-assign]
                screen.action_run()
                await _until(pilot, lambda: "engine finished" in marks, timeout=300.0)
                profile = _profiler()  # of the app's thread, while the worker stores the run
                await _until(pilot, lambda: bool(shown_at))
                _dump(profile, "results")
                await app.workers.wait_for_complete()
                trades = table.row_count
                finished = marks["engine finished"]
                figures = {
                    "trades": float(trades),
                    "results: engine finished -> on screen ms": (shown_at[0] - finished) * 1000,
                    "results: engine finished -> message posted ms": (marks["posted"] - finished) * 1000,
                    "results:   of which building the view ms": marks.get("view", float("nan")) * 1000,
                    "results: message posted -> handler start ms": (marks["handler start"] - marks["posted"]) * 1000,
                    "results: handler ms": (marks["handler done"] - marks["handler start"]) * 1000,
                    "results: handler done -> on screen ms": (shown_at[0] - marks["handler done"]) * 1000,
                    "stored after (its id shown): engine finished -> ms": (marks["stored"] - finished) * 1000,
                    "stored after:   of which saving the run ms": marks["save"] * 1000,
                }
                await pilot.pause()

                table.focus()  # its tab comes to the front
                await pilot.pause()
                assert table.row_count and table.render_line(1).text.split()[:1] == ["1"]
                handled: list[float] = []

                def mark(action: Callable[..., Any]) -> Callable[..., Any]:
                    def run(*args: Any, **kw: Any) -> Any:
                        out = action(*args, **kw)
                        handled.append(time.perf_counter())
                        return out
                    return run

                for key in (*SCROLL_KEYS, "s", "r"):
                    name = f"action_{_action_of(table, key)}"
                    setattr(table, name, mark(getattr(table, name)))

                answered: dict[str, list[float]] = {k: [] for k in (*SCROLL_KEYS, "sort")}
                in_handler: dict[str, list[float]] = {k: [] for k in answered}

                async def press(key: str, kind: str) -> None:
                    before = len(handled)
                    t0 = time.perf_counter()
                    await pilot.press(key)
                    assert len(handled) == before + 1, f"key {key!r} was not answered"
                    t1 = handled[-1]
                    waited = time.perf_counter() + 60.0
                    while not any(t > t1 for t in frames_at):
                        assert time.perf_counter() < waited, f"no frame came after {key!r}"
                        await asyncio.sleep(0.001)
                    answered[kind].append(next(t for t in frames_at if t > t1) - t0)
                    in_handler[kind].append(t1 - t0)

                profile = _profiler()
                for _ in range(rounds):
                    for _ in range(10):
                        await press("down", "down")
                    for _ in range(10):
                        await press("pagedown", "pagedown")
                    await press("end", "end")
                    await pilot.press("home")
                    await pilot.pause()
                for i in range(sorts):
                    await press("r" if i % 3 == 2 else "s", "sort")
                _dump(profile, "keys")
                for kind in answered:
                    label = "sort (s, r)" if kind == "sort" else kind
                    figures[f"{label}: key to frame ready median ms"] = statistics.median(answered[kind]) * 1000
                    figures[f"{label}: key to frame ready p95 ms"] = _p95(answered[kind]) * 1000
                    figures[f"{label}: key to handler done p95 ms"] = _p95(in_handler[kind]) * 1000
                return figures
    finally:
        engine.runner.run_backtest, engine.store.save_backtest = run_backtest, save_backtest
        screens.run_view.RunView.from_result = from_result_descriptor  # type: ignore[method-assign]


def backtest_ui_figures(bars: int = 1_000_000, rounds: int = 3, sorts: int = 24) -> dict[str, float]:
    return asyncio.run(_measure(bars, rounds, sorts))


if __name__ == "__main__":
    bars = int(os.environ.get("BENCH_BARS", "1000000"))
    sorts = int(os.environ.get("BENCH_SORTS", "24"))
    for key, value in backtest_ui_figures(bars, sorts=sorts).items():
        print(f"{key}: {value:,.1f}")
