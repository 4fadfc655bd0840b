"""Hypothesis properties of the engine, and parity of the fast run with bar-by-bar stepping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from engine.backtest import Backtest
from engine.config import BacktestSettings
from engine.costs import CostModel
from engine.enums import FillKind, Side
from engine.policy import ExitPolicy, Sizing
from engine.tracker import PositionTracker
from tests.helpers import Scripted, candles

close_to = lambda a, b: a == pytest.approx(b, rel=1e-9, abs=1e-9)  # noqa: E731


@st.composite
def markets(draw: st.DrawFn) -> tuple[list[tuple[float, float, float, float]], list[int]]:
    n = draw(st.integers(5, 90))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    vol = draw(st.sampled_from([0.002, 0.01, 0.03]))
    price = 100.0
    rows = []
    for _ in range(n):
        gap = rng.normal(0, vol * 3) if rng.random() < 0.15 else 0.0
        o = price * (1 + gap)
        c = o * (1 + rng.normal(0, vol))
        h = max(o, c) * (1 + abs(rng.normal(0, vol)))
        lo = min(o, c) * (1 - abs(rng.normal(0, vol)))
        rows.append((o, h, lo, c))
        price = c
    dirs, d = [], 0
    for _ in range(n):
        if rng.random() < draw(st.sampled_from([0.1, 0.3, 0.6])):
            d = int(rng.integers(-1, 2))
        dirs.append(d)
    return rows, dirs


@st.composite
def policies(draw: st.DrawFn) -> ExitPolicy:
    kw: dict = {}
    pct = st.floats(0.2, 8.0)
    if draw(st.booleans()):
        kw["stop_loss_pct"] = draw(pct)
    if draw(st.booleans()):
        kw["take_profit_pct"] = draw(st.floats(0.5, 15.0))
    if draw(st.booleans()):
        kw["trailing_activation_pct"] = draw(st.floats(0.0, 5.0))
        kw["trailing_distance_pct"] = draw(pct)
    k = draw(st.integers(0, 3))
    if k:
        kw["exit_targets"] = tuple(sorted(draw(st.lists(st.floats(0.2, 10.0), min_size=k, max_size=k))))
        kw["exit_sizes"] = tuple(draw(st.lists(st.floats(0.05, 1.0 / k), min_size=k, max_size=k)))
    m = draw(st.integers(0, 2))
    if m:
        kw["scale_in_thresholds"] = tuple(draw(st.lists(st.floats(0.3, 6.0) | st.floats(-6.0, -0.3), min_size=m, max_size=m)))
        kw["scale_in_sizes"] = tuple(draw(st.lists(st.floats(0.1, 1.0), min_size=m, max_size=m)))
        kw["max_scale_ins"] = draw(st.integers(0, m))
    if draw(st.booleans()):
        kw["max_holding_bars"] = draw(st.integers(1, 20))
    return ExitPolicy(**kw)


@st.composite
def setups(draw: st.DrawFn) -> BacktestSettings:
    return BacktestSettings(
        balance=10_000.0,
        costs=CostModel(draw(st.sampled_from([0.0, 0.001, 0.0075])), draw(st.sampled_from([0.0, 0.0005, 0.002]))),
        sizing=Sizing(fraction=draw(st.sampled_from([0.25, 1.0]))),
        policy=draw(policies()),
    )


PROPS = hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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
    rows, dirs = market
    fast = Backtest(candles(rows), Scripted(dirs), setup).run()
    slow = Backtest(candles(rows), Scripted(dirs), setup)
    while not slow.done:
        slow.step()
    _same_records(fast.fills, slow.fills)
    _same_records(fast.trades, slow.trades)
    np.testing.assert_allclose(fast.equity_curve(), slow.equity_curve(), rtol=1e-9, atol=1e-9)
    assert fast.bars_in_market() == slow.bars_in_market()


@PROPS
@given(markets(), setups(), st.integers(1, 60))
def test_run_until_then_continue_equals_one_run(market, setup, cut) -> None:
    rows, dirs = market
    whole = Backtest(candles(rows), Scripted(dirs), setup).run()
    split = Backtest(candles(rows), Scripted(dirs), setup).run(until=cut)
    for _ in range(3):
        if not split.done:
            split.step()
    split.run()
    _same_records(whole.fills, split.fills)
    _same_records(whole.trades, split.trades)


@PROPS
@given(markets(), setups())
def test_sizes_exits_and_equity_invariants_at_every_bar(market, setup) -> None:
    rows, dirs = market
    bt = Backtest(candles(rows), Scripted(dirs), setup)
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
    tracker = PositionTracker(CostModel(0.0, 0.0))

    def build():
        pos, _ = tracker.open(1, side, 0, entry, qty, ExitPolicy())
        for move, frac in adds:
            tracker.scale_in(pos, 1, entry * move, qty * frac)
        return pos

    price = entry * exit_move
    single = build()
    whole_pnl = tracker.close(single, 2, price, reason=__import__("engine.models").models.ExitReason.SIGNAL).trade.pnl
    split = build()
    total = split.current_size
    weights = np.asarray(chunks) / sum(chunks)
    trade = None
    for w in weights[:-1]:
        _, trade = tracker.partial_exit(split, 2, price, total * w)
        assert split.current_size >= 0
    if trade is None:
        trade = tracker.partial_exit(split, 2, price, split.current_size).trade
    assert trade is not None and split.current_size == 0.0
    assert trade.pnl == pytest.approx(whole_pnl, rel=1e-9, abs=1e-9 * entry * qty)
