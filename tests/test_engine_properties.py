"""Hypothesis properties of the engine, and parity of the fast run with bar-by-bar stepping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from engine.backtest import Backtest
from engine.config import BacktestSettings
from engine.costs import CostModel
from engine.enums import ExitReason, FillKind, Side
from engine.policy import ExitPolicy, Sizing
from engine.broker import Execution
from engine.strategies.base import Decision
from engine.tracker import PositionTracker
from tests.helpers import Scripted, candles

close_to = lambda a, b: a == pytest.approx(b, rel=1e-9, abs=1e-9)  # noqa: E731


def _continuous(rng: np.random.Generator, n: int, vol: float) -> list[tuple[float, float, float, float]]:
    price, rows = 100.0, []
    for _ in range(n):
        gap = rng.normal(0, vol * 3) if rng.random() < 0.15 else 0.0
        o = price * (1 + gap)
        c = o * (1 + rng.normal(0, vol))
        h = max(o, c) * (1 + abs(rng.normal(0, vol)))
        lo = min(o, c) * (1 - abs(rng.normal(0, vol)))
        rows.append((o, h, lo, c))
        price = c
    return rows


def _on_ticks(rng: np.random.Generator, n: int, tick: float) -> list[tuple[float, float, float, float]]:
    """Whole-tick prices near 100: stops, targets and thresholds of whole percents land
    exactly on opens, highs and lows, so "touching a level exactly" happens often."""
    price, rows = 100.0, []
    for _ in range(n):
        o = price + tick * int(rng.integers(-3, 4)) if rng.random() < 0.2 else price
        c = o + tick * int(rng.integers(-3, 4))
        h = max(o, c) + tick * int(rng.integers(0, 3))
        lo = min(o, c) - tick * int(rng.integers(0, 3))
        o, h, lo, c = (max(x, 10 * tick) for x in (o, h, lo, c))
        rows.append((o, h, lo, c))
        price = c
    return rows


@st.composite
def markets(draw: st.DrawFn) -> tuple[list[tuple[float, float, float, float]], list[int]]:
    n = draw(st.integers(5, 400))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if draw(st.booleans()):
        rows = _on_ticks(rng, n, draw(st.sampled_from([0.5, 1.0])))
    else:
        rows = _continuous(rng, n, draw(st.sampled_from([0.002, 0.01, 0.03])))
    dirs, d = [], 0
    flip = draw(st.sampled_from([0.02, 0.1, 0.3, 0.6]))
    for _ in range(n):
        if rng.random() < flip:
            d = int(rng.integers(-1, 2))
        dirs.append(d)
    return rows, dirs


WHOLE = st.sampled_from([1.0, 2.0, 3.0, 5.0])


@st.composite
def policies(draw: st.DrawFn) -> ExitPolicy:
    kw: dict = {}
    whole = draw(st.booleans())  # whole percents: levels on the tick grid
    pct = WHOLE if whole else st.floats(0.2, 8.0)
    if draw(st.booleans()):
        kw["stop_loss_pct"] = draw(pct)
    if draw(st.booleans()):
        kw["take_profit_pct"] = draw(WHOLE if whole else st.floats(0.5, 15.0))
    if draw(st.booleans()):
        kw["trailing_activation_pct"] = draw(st.sampled_from([0.0, 1.0, 2.0]) if whole else st.floats(0.0, 5.0))
        kw["trailing_distance_pct"] = draw(pct)
    k = draw(st.integers(0, 3))
    if k:
        kw["exit_targets"] = tuple(sorted(draw(st.lists(WHOLE if whole else st.floats(0.2, 10.0), min_size=k, max_size=k))))
        kw["exit_sizes"] = tuple(draw(st.lists(st.floats(0.05, 1.0 / k), min_size=k, max_size=k)))
    m = draw(st.integers(0, 2))
    if m:
        th = st.sampled_from([-3.0, -2.0, -1.0, 1.0, 2.0]) if whole else st.floats(0.3, 6.0) | st.floats(-6.0, -0.3)
        kw["scale_in_thresholds"] = tuple(draw(st.lists(th, min_size=m, max_size=m)))
        kw["scale_in_sizes"] = tuple(draw(st.lists(st.floats(0.1, 1.0), min_size=m, max_size=m)))
        kw["max_scale_ins"] = draw(st.integers(0, m))
    if draw(st.booleans()):
        kw["max_holding_bars"] = draw(st.integers(1, 20))
    return ExitPolicy(**kw)


class PolicyPerTrade(Scripted):
    """A scripted strategy whose ``decide()`` hands each new position its own exit policy."""

    name = "policy_per_trade"

    def __init__(self, directions, per_trade: list[ExitPolicy]) -> None:
        super().__init__(directions)
        self.per_trade = per_trade

    def decide(self, i: int, direction: int, policy: ExitPolicy) -> Decision:
        return Decision(direction, self.per_trade[i % len(self.per_trade)] if self.per_trade else policy)


@st.composite
def setups(draw: st.DrawFn) -> tuple[BacktestSettings, list[ExitPolicy]]:
    leverage = draw(st.sampled_from([1.0, 3.0]))
    settings = BacktestSettings(
        balance=10_000.0,
        costs=CostModel(draw(st.sampled_from([0.0, 0.001, 0.0075])), draw(st.sampled_from([0.0, 0.0, 0.0005, 0.002]))),
        sizing=Sizing(fraction=draw(st.sampled_from([0.25, 1.0])), max_leverage=leverage),
        policy=draw(policies()),
    )
    per_trade = draw(st.lists(policies(), max_size=3))
    return settings, per_trade


def backtest(market, setup) -> Backtest:
    rows, dirs = market
    settings, per_trade = setup
    return Backtest(candles(rows), PolicyPerTrade(dirs, per_trade), settings)


PROPS = hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same_records(a: list, b: list) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        for field in x.__slots__:
            u, v = getattr(x, field), getattr(y, field)
            if isinstance(u, float):
                assert close_to(u, v), (field, u, v)
            else:
                assert u == v, (field, u, v)


@PROPS
@given(markets(), setups())
def test_fast_run_equals_bar_by_bar_stepping(market, setup) -> None:
    fast = backtest(market, setup).run()
    slow = backtest(market, setup)
    while not slow.done:
        slow.step()
    _same_records(fast.fills, slow.fills)
    _same_records(fast.trades, slow.trades)
    np.testing.assert_allclose(fast.equity_curve(), slow.equity_curve(), rtol=1e-9, atol=1e-9)
    assert fast.bars_in_market() == slow.bars_in_market()


@PROPS
@given(markets(), setups(), st.integers(1, 60))
def test_run_until_then_continue_equals_one_run(market, setup, cut) -> None:
    whole = backtest(market, setup).run()
    split = backtest(market, setup).run(until=cut)
    for _ in range(3):
        if not split.done:
            split.step()
    split.run()
    _same_records(whole.fills, split.fills)
    _same_records(whole.trades, split.trades)


@PROPS
@given(markets(), setups(), st.data())
def test_restoring_a_snapshot_steps_back_exactly(market, setup, data) -> None:
    whole = backtest(market, setup).run()
    bt = backtest(market, setup)
    k = data.draw(st.integers(0, bt.n - 1), label="snapshot at")
    m = data.draw(st.integers(k, bt.n), label="step to")
    bt.run(until=k)
    snap = bt.engine.snapshot()
    first = [bt.step() for _ in range(m - k)]
    bt.engine.restore(snap)
    assert bt.bar == k and bt.engine.state == snap.state
    again = [bt.step() for _ in range(m - k)]
    for a, b in zip(first, again):
        assert (a.bar, a.balance, a.equity, a.position, a.in_market) == (b.bar, b.balance, b.equity, b.position, b.in_market)
        _same_records(a.fills, b.fills)
        _same_records(a.trades, b.trades)
    bt.engine.restore(snap)  # and once more, then the fast run to the end
    bt.run()
    _same_records(whole.fills, bt.fills)
    _same_records(whole.trades, bt.trades)
    np.testing.assert_allclose(whole.equity_curve(), bt.equity_curve(), rtol=1e-12, atol=1e-9)
    assert whole.bars_in_market() == bt.bars_in_market()


def test_a_snapshot_holds_no_history() -> None:
    """Copying the state costs O(open position): nothing in it grows with the bars or fills."""
    import dataclasses

    from engine.state import EngineState

    rows = [(100 + i % 7, 101 + i % 7, 99 + i % 7, 100 + i % 5) for i in range(300)]
    bt = backtest((rows, [(-1) ** (i // 3) for i in range(300)]), (BacktestSettings(policy=ExitPolicy(stop_loss_pct=1)), []))
    bt.run(until=299)
    assert len(bt.fills) > 100
    state = bt.engine.snapshot().state
    sizes = {f.name: type(getattr(state, f.name)).__name__ for f in dataclasses.fields(EngineState)}
    assert all(kind in ("int", "float", "NoneType", "OpenPosition", "PendingOrder") for kind in sizes.values()), sizes
    pos = state.position
    assert pos is not None and pos is not bt.position and len(pos.exit_order_ids) <= 1


@PROPS
@given(markets(), setups())
def test_sizes_exits_and_equity_invariants_at_every_bar(market, setup) -> None:
    rows, _ = market
    bt = backtest(market, setup)
    entered: dict[int, float] = {}
    exited: dict[int, float] = {}
    equities: list[float] = []
    while not bt.done:
        report = bt.step()
        equities.append(report.equity)
        for f in report.fills:
            assert f.qty > 0 and f.price > 0 and f.fee >= 0 and f.slippage >= 0
            book = entered if f.kind in (FillKind.ENTRY, FillKind.SCALE_IN) else exited
            book[f.trade_no] = book.get(f.trade_no, 0.0) + f.qty
            # Exits never exceed what is open.
            assert exited.get(f.trade_no, 0.0) <= entered[f.trade_no] * (1 + 1e-9)
        pos = report.position
        open_pnl = 0.0
        if pos is not None:
            assert pos.current_size >= 0 and pos.original_size > 0
            assert close_to(pos.current_size, entered[pos.trade_no] - exited.get(pos.trade_no, 0.0))
            open_pnl = pos.unrealized_pnl(rows[report.bar][3])
        # Equity = balance + open PnL at every bar.
        assert close_to(report.equity, report.balance + open_pnl)
    for t in bt.trades:
        assert close_to(entered[t.trade_no], exited[t.trade_no])
        assert close_to(t.size, entered[t.trade_no])
    # The whole equity curve (built from state segments) agrees with each step's equity.
    np.testing.assert_allclose(bt.equity_curve(), equities, rtol=1e-12, atol=1e-9)
    # Cash is conserved: PnL = sign * (what the exits brought in - what the entries cost) - fees,
    # however partial exits and scale-ins interleave.
    for t in bt.trades:
        sign = 1 if t.side is Side.LONG else -1
        assert close_to(t.pnl, sign * (t.exit_price - t.entry_price) * t.size - t.fees)
    # Every trade's PnL is the sum of its fills; the balance is the start plus all of them.
    for t in bt.trades:
        assert close_to(t.pnl, sum(f.pnl for f in bt.fills if f.trade_no == t.trade_no))
    assert close_to(bt.balance, 10_000.0 + sum(t.pnl for t in bt.trades))
    # Exposure: every bar in which a position was open at some moment, entry and exit bars included.
    held = set()
    for t in bt.trades:
        held.update(range(t.entry_bar, t.exit_bar + 1))
    assert bt.bars_in_market() == len(held)
    # MFE/MAE cover every fill price of the trade.
    for t in bt.trades:
        sign = 1 if t.side is Side.LONG else -1
        first = next(f.price for f in bt.fills if f.trade_no == t.trade_no)
        moves = [sign * (f.price - first) / first * 100 for f in bt.fills if f.trade_no == t.trade_no]
        assert t.mae_pct <= min(moves) + 1e-9 and t.mfe_pct >= max(moves) - 1e-9


@hsettings(max_examples=300, deadline=None)
@given(
    side=st.sampled_from([Side.LONG, Side.SHORT]),
    entry=st.floats(1.0, 1e5),
    qty=st.floats(1e-4, 1e4),
    adds=st.lists(st.tuples(st.floats(0.5, 2.0), st.floats(0.01, 2.0)), max_size=3),
    exit_move=st.floats(0.5, 2.0),
    chunks=st.lists(st.floats(0.01, 1.0), min_size=1, max_size=6),
)
def test_partial_exits_sum_to_a_single_exit_without_fees(side, entry, qty, adds, exit_move, chunks) -> None:
    tracker = PositionTracker()

    def build():
        pos, _ = tracker.open(1, side, 0, Execution(entry, qty, 0.0, 0.0), ExitPolicy())
        for move, frac in adds:
            tracker.scale_in(pos, 1, Execution(entry * move, qty * frac, 0.0, 0.0))
        return pos

    price = entry * exit_move
    single = build()
    whole_pnl = tracker.exit(single, 2, Execution(price, single.current_size, 0.0, 0.0), ExitReason.SIGNAL).trade.pnl
    split = build()
    total = split.current_size
    weights = np.asarray(chunks) / sum(chunks)
    trade = None
    for w in weights[:-1]:
        _, trade = tracker.exit(split, 2, Execution(price, min(total * w, split.current_size), 0.0, 0.0), ExitReason.PARTIAL_TARGET)
        assert split.current_size >= 0
        if trade is not None:
            break
    if trade is None:
        trade = tracker.exit(split, 2, Execution(price, split.current_size, 0.0, 0.0), ExitReason.PARTIAL_TARGET).trade
    assert trade is not None and split.current_size == 0.0
    assert trade.pnl == pytest.approx(whole_pnl, rel=1e-9, abs=1e-9 * entry * qty)


def test_a_run_leaves_the_garbage_collector_alone() -> None:
    """The TUI runs backtests in a worker while other work goes on: no process-wide switches."""
    import gc

    seen = []
    rows = [(100 + i % 3, 101 + i % 3, 99 + i % 3, 100 + i % 3) for i in range(500)]
    bt = backtest((rows, [(i // 7) % 2 for i in range(500)]), (BacktestSettings(), []))
    bt.run(progress=lambda done, total: seen.append(gc.isenabled()))
    assert seen and all(seen) and gc.isenabled()
