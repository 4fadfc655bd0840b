"""Live figures for `make bench`: key latency in the Live workspace while prices stream.

Headless with Pilot at 160x50: the real app and Live workspace, a paper session started
through the `n` dialog on a bench feed of 20 symbols. The feed plays a few candles at
full speed (the books warm up and get a last price), every symbol then gets a position
(the strategy's, or a manual open), and from then on the feed sends a new price for all
20 symbols ten times a second, in real time, and no candle. With that flowing, keys the
workspace answers at once (cursor down/up on the positions table, space to pause and
continue) are timed from the key to the first frame ready after the key's handler ran.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

SYMBOLS = [f"S{i:02d}/USDT" for i in range(20)]
WARMUP = 40  # candles of history per symbol (the strategy's warm-up)
CANDLES = 20  # then candles per symbol at full speed, before prices alone
PRICE_HZ = 10.0
KEYS = ["down"] * 5 + ["space", "space"] + ["up"] * 5  # pause and continue at once: prices keep flowing


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


class StreamingFeed:
    """Candles at full speed, then a price for every symbol ``hz`` times a second, for ever."""

    def __init__(self, symbols: list[str], *, hz: float = PRICE_HZ, seed: int = 1,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        from engine.session.feed import FeedStatus, ReplayFeed, sample_feed_candles

        frames = {s: c.iloc[: WARMUP + CANDLES] for s, c in sample_feed_candles(symbols).items()}
        self._candles = ReplayFeed(frames, None, warmup=WARMUP)
        self.symbols = list(symbols)
        self.status = FeedStatus("connected", "bench: candles, then prices at 10 Hz")
        self.period = 1.0 / hz
        self.clock, self.sleep = clock, sleep
        self._rng = random.Random(seed)
        self._last = {s: float(f["close"].iloc[-1]) for s, f in frames.items()}
        self._last_ms = max(int(f.index[-1].value // 1_000_000) for f in frames.values())
        self._next_tick: Optional[float] = None
        self.candles_done = False
        self.ticks = 0

    def history(self, symbol: str, through_ms: Optional[int]) -> Any:
        return self._candles.history(symbol, through_ms)

    def resume_after(self, symbol: str, time_ms: int) -> None:
        self._candles.resume_after(symbol, time_ms)

    @property
    def ended(self) -> bool:
        return False

    def poll(self) -> list[Any]:
        from engine.session.feed import Price

        if not self._candles.ended:
            out = self._candles.poll()
            self.status.last_candle_ms = self._candles.status.last_candle_ms
            return out
        self.candles_done = True
        now = self.clock()
        if self._next_tick is None:
            self._next_tick = now
        if now < self._next_tick:
            self.sleep(min(self._next_tick - now, 0.05))
            return []
        # Ten ticks a second; a late tick is not made up in a burst.
        self._next_tick = max(self._next_tick + self.period, now)
        self.ticks += 1
        t_ms = self._last_ms + int(self.ticks * self.period * 1000)
        out = []
        for symbol in self.symbols:
            self._last[symbol] *= 1.0 + self._rng.gauss(0.0, 0.0005)
            out.append(Price(symbol, self._last[symbol], t_ms))
        return out

    def close(self) -> None:
        pass


def _profiler() -> Any:
    """BENCH_LIVE_PROFILE=FILE: cProfile the app's thread while the keys are pressed, into FILE."""
    if not os.environ.get("BENCH_LIVE_PROFILE"):
        return None
    import cProfile

    profile = cProfile.Profile()
    profile.enable()
    return profile


async def _until(pilot: Any, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        await pilot.pause(0.02)


async def _measure(presses: int) -> dict[str, float]:
    from textual.widgets import Input

    from engine.actions import ActionKind, Amount, AmountUnit, ManualAction
    from engine.enums import Side
    from screens.live.start import StartSessionScreen
    from screens.live.workspace import LiveScreen
    from tests.ui_support import make_app

    feeds: list[StreamingFeed] = []

    def factory(config: Any) -> StreamingFeed:
        feeds.append(StreamingFeed(list(config.symbols)))
        return feeds[-1]

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        app.services.feed_factory = factory
        app.services.clock = time.monotonic
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.press("f3")
            screen = app.screen
            assert isinstance(screen, LiveScreen)
            await pilot.press("n")
            await _until(pilot, lambda: isinstance(app.screen, StartSessionScreen))
            app.screen.query_one("#symbols", Input).value = ", ".join(SYMBOLS)
            await pilot.pause()
            assert app.screen.config is not None and app.screen.config.symbols == tuple(SYMBOLS), app.screen.problem
            await pilot.press("ctrl+s")
            await _until(pilot, lambda: isinstance(app.screen, LiveScreen) and screen.session is not None)
            session, feed = screen.session, feeds[-1]
            await _until(pilot, lambda: feed.candles_done)
            # Whatever the strategy left flat is opened by hand (no candle comes to close anything).
            for symbol in SYMBOLS:
                if symbol not in session.open_positions():
                    session.act(symbol, ManualAction(ActionKind.OPEN, Amount(100.0, AmountUnit.QUOTE), side=Side.LONG))
            await _until(pilot, lambda: len(session.open_positions()) == len(SYMBOLS)
                         and sum(1 for b in screen.books.values() if b.position is not None) == len(SYMBOLS))
            table = screen.query_one("#positions")
            table.focus()
            await pilot.pause(0.5)  # prices streaming, the table drawn with them

            # When each frame was ready to go to the terminal (headless: rendered, then dropped).
            frames_at: list[float] = []
            display = app._display

            def timed(screen_, renderable) -> None:  # type: ignore[no-untyped-def]
                if renderable is not None:
                    frames_at.append(time.perf_counter())
                display(screen_, renderable)

            app._display = timed  # type: ignore[method-assign]
            # When the key's handler had run: the actions the bindings call, wrapped.
            handled: list[float] = []

            def mark(action: Callable[..., None]) -> Callable[..., None]:
                def run(*args: Any) -> None:
                    action(*args)
                    handled.append(time.perf_counter())
                return run

            table.action_move = mark(table.action_move)  # type: ignore[method-assign]
            screen.action_pause = mark(screen.action_pause)  # type: ignore[method-assign]
            # Price redraws: _draw_prices draws the books it moved (only=...) when it has any.
            redraws: list[float] = []
            draw_books = screen._draw_books

            def counted(only: Optional[set[str]] = None) -> None:
                t0 = time.perf_counter()
                draw_books(only)
                if only is not None:
                    redraws.append(time.perf_counter() - t0)

            screen._draw_books = counted  # type: ignore[method-assign]

            rng = random.Random(1)
            answered: list[float] = []
            handler: list[float] = []
            with_pilot: list[float] = []
            profile = _profiler()
            del redraws[:]
            ticks0, start = feed.ticks, time.perf_counter()
            for i in range(presses):
                await asyncio.sleep(rng.uniform(0.0, 0.1))  # keys land anywhere in the redraw cycle
                before = len(handled)
                t0 = time.perf_counter()
                await pilot.press(KEYS[i % len(KEYS)])
                t_pilot = time.perf_counter() - t0
                assert len(handled) == before + 1, f"key {KEYS[i % len(KEYS)]!r} was not answered"
                t1 = handled[-1]
                waited = time.perf_counter() + 5.0
                while not any(t > t1 for t in frames_at):  # normally already there
                    assert time.perf_counter() < waited, "no frame came after the key"
                    await asyncio.sleep(0.001)
                handler.append(t1 - t0)
                answered.append(next(t for t in frames_at if t > t1) - t0)
                with_pilot.append(t_pilot)
            elapsed = time.perf_counter() - start
            ticks, redrawn = feed.ticks - ticks0, len(redraws)
            if profile is not None:
                profile.disable()
                profile.dump_stats(os.environ["BENCH_LIVE_PROFILE"])
            idle = []
            for _ in range(20):
                t0 = time.perf_counter()
                await pilot.pause()
                idle.append(time.perf_counter() - t0)
            assert len(session.open_positions()) == len(SYMBOLS)
            screen.action_stop()
            await app.workers.wait_for_complete()
    return {
        "live: key to frame ready p95 ms": _p95(answered) * 1000,
        "live: key to frame ready median ms": statistics.median(answered) * 1000,
        "live: key to handler done p95 ms": _p95(handler) * 1000,
        "live: key + Pilot's wait p95 ms": _p95(with_pilot) * 1000,
        "live: price ticks per s (feed)": ticks / elapsed,
        "live: price redraws per s": redrawn / elapsed,
        "live: price redraw handler p95 ms": _p95(redraws[:redrawn]) * 1000 if redrawn >= 2 else float("nan"),
        "live: Pilot's own idle pause, median ms": statistics.median(idle) * 1000,
    }


def live_figures(presses: int = 60) -> dict[str, float]:
    return asyncio.run(_measure(presses))


if __name__ == "__main__":
    for key, value in live_figures().items():
        print(f"{key}: {value:,.1f}")
