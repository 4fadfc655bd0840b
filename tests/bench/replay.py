"""Replay figures for `make bench`: key latency on a million bars, and autoplay at 160x50.

Headless with Pilot: the app is the real one, the replay is posted to its Replay
workspace directly (no database), and every key press waits for the screen to settle.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def _replay(bars: int):  # type: ignore[no-untyped-def]
    from engine.config import BacktestSettings
    from engine.costs import CostModel
    from engine.data import synthetic_bars
    from engine.policy import ExitPolicy, Sizing
    from engine.replay import Replay
    from engine.strategies import create_strategy
    from tests.bench.run import LEVERAGE, PARTIALS

    settings = BacktestSettings(balance=1e6, costs=CostModel(0.001, 0.0), sizing=Sizing(max_leverage=LEVERAGE),
                                policy=ExitPolicy(**PARTIALS))
    candles = synthetic_bars(bars, seed=7)
    return Replay(candles, create_strategy("sma_cross", {"fast": 10, "slow": 30, "mode": "long_short"}), settings)


async def _measure(bars: int, presses: int) -> dict[str, float]:
    from screens.replay.messages import ReplayLoaded
    from screens.replay.workspace import SPEEDS, ReplayScreen
    from tests.ui_support import make_app

    from engine.gc_pause import freeze_loaded

    replay = _replay(bars)
    t0 = time.perf_counter()
    replay.prepare()
    prepare_s = time.perf_counter() - t0
    freeze_loaded()  # as the workspace's loader does
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        app.services.clock = time.monotonic  # autoplay keeps time by it: the real one here
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.press("f2")
            screen = app.screen
            assert isinstance(screen, ReplayScreen)
            screen.post_message(ReplayLoaded(0, f"{bars:,} synthetic bars", replay, None))
            await pilot.pause()
            # When each frame was ready to go to the terminal (headless, it is rendered and
            # then dropped): a key is answered when the first frame after it is ready.
            frames_at: list[float] = []
            display = app._display

            def timed(screen_, renderable) -> None:  # type: ignore[no-untyped-def]
                if renderable is not None:
                    frames_at.append(time.perf_counter())
                display(screen_, renderable)

            app._display = timed  # type: ignore[method-assign]
            rng = random.Random(1)
            answered: dict[str, list[float]] = {"step": [], "back": [], "jump": []}
            timings: dict[str, list[float]] = {"step": [], "back": [], "jump": []}
            handler: dict[str, list[float]] = {"step": [], "back": [], "jump": []}
            for i in range(presses):
                moves = [("step", screen.action_step), ("back", screen.action_back)]
                if i % 10 == 0:  # a jump somewhere, as `g` would
                    bar = rng.randrange(bars // 2, bars - 10)
                    moves.insert(0, ("jump", lambda bar=bar: screen.go_to(bar)))
                for name, act in moves:
                    t0 = time.perf_counter()
                    act()  # what the key runs
                    t1 = time.perf_counter()
                    await pilot.pause()  # until the screen has taken the change in
                    handler[name].append(t1 - t0)
                    timings[name].append(time.perf_counter() - t0)
                    answered[name].append(next(t for t in frames_at if t > t1) - t0)
            idle = []
            for _ in range(20):
                t0 = time.perf_counter()
                await pilot.pause()
                idle.append(time.perf_counter() - t0)
            # Autoplay for three seconds at 30 and at 60 bars/s: how many bars did it really show?
            rates, frames = {}, {}
            drawn = [0]
            redraw = screen.redraw

            def counted() -> None:
                drawn[0] += 1
                redraw()

            screen.redraw = counted  # type: ignore[method-assign]
            for speed in (30, 60):
                screen.go_to(bars // 3)
                await pilot.pause()
                screen.speed = SPEEDS.index(speed)
                start, drawn[0] = screen.replay.cursor, 0
                screen.action_play()
                await asyncio.sleep(3.0)
                screen.action_play()
                rates[speed] = (screen.replay.cursor - start) / 3.0
                frames[speed] = drawn[0] / 3.0
    figures = {"open (play once) s": prepare_s}
    for name in timings:
        figures[f"{name}: handler p95 ms"] = _p95(handler[name]) * 1000
        figures[f"{name}: key to frame ready p95 ms"] = _p95(answered[name]) * 1000
        figures[f"{name}: handler + frame + Pilot's pause p95 ms"] = _p95(timings[name]) * 1000
    figures["Pilot's own idle pause, median ms"] = statistics.median(idle) * 1000
    for speed, rate in rates.items():
        figures[f"autoplay at {speed} bars/s: bars/s played"] = rate
        figures[f"autoplay at {speed} bars/s: frames/s drawn"] = frames[speed]
    return figures


def replay_figures(bars: int = 1_000_000, presses: int = 60) -> dict[str, float]:
    return asyncio.run(_measure(bars, presses))


if __name__ == "__main__":
    for key, value in replay_figures().items():
        print(f"{key}: {value:,.1f}")
