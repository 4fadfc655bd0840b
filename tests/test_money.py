"""Hand-computed money examples: every number below is worked out in the comments."""

from __future__ import annotations

import pytest

from engine.enums import ExitReason, FillKind, Side
from tests.helpers import Backtest, Scripted, candles, run, settings, stepped

approx = lambda x: pytest.approx(x, rel=1e-12, abs=1e-9)  # noqa: E731

FLAT4 = [(100, 101, 99, 100), (100, 102, 99.5, 101), (102, 103, 101, 102), (104, 105, 103, 104)]


def test_long_with_fees_and_slippage() -> None:
    # Signal long at bar 0's close -> buy at bar 1's open 100, paying 0.1 % slippage: 100.1.
    # qty = 10,000 / 100 = 100; entry fee = 100.1 * 100 * 0.1 % = 10.01; slippage = 0.1 * 100 = 10.
    # Flat at bar 2's close -> sell at bar 3's open 104 giving up 0.1 %: 103.896;
    # exit fee = 103.896 * 100 * 0.1 % = 10.3896; slippage = 0.104 * 100 = 10.4.
    # exit PnL = (103.896 - 100.1) * 100 - 10.3896 = 369.2104; trade = 369.2104 - 10.01 = 359.2004.
    bt = run(FLAT4, [1, 1, 0, 0], fee=0.001, slippage=0.001)
    (t,) = bt.trades
    assert t.side is Side.LONG and t.entry_bar == 1 and t.exit_bar == 3
    assert t.entry_price == approx(100.1) and t.exit_price == approx(103.896)
    assert t.size == approx(100)
    assert t.fees == approx(10.01 + 10.3896)
    assert t.slippage == approx(10 + 10.4)
    assert t.pnl == approx(359.2004)
    assert t.pnl_pct == approx(359.2004 / 10_010 * 100)
    assert t.exit_reason is ExitReason.SIGNAL
    assert [f.pnl for f in bt.fills] == [approx(-10.01), approx(369.2104)]
    assert bt.balance == approx(10_359.2004)
    assert bt.equity_curve()[-1] == approx(10_359.2004)


def test_short_with_fees_and_slippage() -> None:
    # Short at bar 1's open 100, selling 0.1 % lower: 99.9; qty 100; fee 9.99.
    # Cover at bar 3's open 90 buying 0.1 % higher: 90.09; fee 9.009.
    # exit PnL = (90.09 - 99.9) * 100 * -1 - 9.009 = 971.991; trade = 971.991 - 9.99 = 962.001.
    rows = [(100, 101, 99, 100), (100, 101, 95, 96), (95, 96, 91, 92), (90, 91, 89, 90)]
    bt = run(rows, [-1, -1, 0, 0], fee=0.001, slippage=0.001)
    (t,) = bt.trades
    assert t.side is Side.SHORT
    assert t.entry_price == approx(99.9) and t.exit_price == approx(90.09)
    assert t.pnl == approx(962.001)
    assert bt.balance == approx(10_962.001)
    # Mark-to-market after bar 2's close (92): 10,000 - 9.99 + (92 - 99.9) * 100 * -1 = 10,780.01.
    assert bt.equity_curve()[2] == approx(10_780.01)


def test_partial_exits_after_a_scale_in() -> None:
    # Long 100 @ 100 (fee 0.1 % = 10). Bar 2 rises through the +2 % scale-in level 102:
    # buy 0.5 x original = 50 @ 102, fee 5.1; average entry = (100*100 + 50*102) / 150 = 100.6667.
    # Bar 3: first target +5 % from that average = 105.7; sell 0.5 x ORIGINAL = 50 @ 105.7 (limit: no slippage),
    #   fee 5.285, PnL = (105.7 - 100.6667) * 50 - 5.285 = 246.3817.
    # Bar 4 gaps open at 112 above the +10 % target 110.7333: sell 50 @ 112, fee 5.6, PnL 561.0667.
    # Bar 4's close turns flat: the last 50 go at bar 5's open 111, fee 5.55, PnL 511.1167.
    rows = [
        (100, 101, 99, 100), (100, 101, 99.5, 100.5), (101, 102.5, 100.5, 102),
        (104, 106, 103.5, 105), (112, 113, 111, 112), (111, 112, 110, 111),
    ]
    kw = dict(fee=0.001, leverage=2.0, exit_targets=(5, 10), exit_sizes=(0.5, 0.5), scale_in_thresholds=(2,), scale_in_sizes=(0.5,))
    for bt in (run(rows, [1, 1, 1, 1, 0, 0], **kw), stepped(rows, [1, 1, 1, 1, 0, 0], **kw)):
        avg = 15_100 / 150
        kinds = [(f.kind, f.bar, f.qty) for f in bt.fills]
        assert kinds == [
            (FillKind.ENTRY, 1, approx(100)), (FillKind.SCALE_IN, 2, approx(50)),
            (FillKind.PARTIAL_EXIT, 3, approx(50)), (FillKind.PARTIAL_EXIT, 4, approx(50)), (FillKind.EXIT, 5, approx(50)),
        ]
        assert [f.price for f in bt.fills] == [100, 102, approx(avg * 1.05), 112, 111]
        assert bt.fills[2].pnl == approx((avg * 1.05 - avg) * 50 - avg * 1.05 * 50 * 0.001)
        (t,) = bt.trades
        expected = -10 - 5.1 + (avg * 1.05 - avg) * 50 - avg * 1.05 * 0.05 + (112 - avg) * 50 - 5.6 + (111 - avg) * 50 - 5.55
        assert t.pnl == approx(expected)
        assert t.pnl == pytest.approx(1303.465, abs=5e-4)
        assert t.entry_price == approx(avg)
        assert t.size == approx(150)
        assert t.pnl_pct == approx(expected / 15_100 * 100)
        assert t.exit_reason is ExitReason.SIGNAL


def test_gap_through_a_stop_fills_at_the_open() -> None:
    # Long 100 @ 100 with a 5 % stop at 95; bar 2 opens at 94, below the stop: the fill is 94, not 95.
    rows = [(100, 101, 99, 100), (100, 101, 99, 100), (94, 96, 90, 95), (95, 96, 94, 95)]
    bt = run(rows, [1, 1, 1, 1], stop_loss_pct=5)
    (t,) = bt.trades
    assert t.exit_bar == 2 and t.exit_price == 94 and t.exit_reason is ExitReason.STOP_LOSS
    assert t.pnl == approx(-600)


def test_stop_and_target_in_one_bar_the_stop_wins() -> None:
    rows = [(100, 101, 99, 100), (100, 101, 99, 100), (100, 106, 94, 100), (100, 101, 99, 100)]
    bt = run(rows, [1, 1, 1, 1], stop_loss_pct=5, take_profit_pct=5, slippage=0.001)
    (t,) = bt.trades
    # Entry 100.1 (slippage); stop 5 % below = 95.095, sold 0.1 % lower = 94.999905.
    assert t.exit_reason is ExitReason.STOP_LOSS
    assert t.exit_price == approx(100.1 * 0.95 * 0.999)


def test_take_profit_is_a_limit_fill_without_slippage() -> None:
    rows = [(100, 101, 99, 100), (100, 101, 99, 100), (100, 111, 99, 110), (110, 111, 109, 110)]
    bt = run(rows, [1, 1, 1, 1], take_profit_pct=10, slippage=0.001)
    (t,) = bt.trades
    assert t.exit_reason is ExitReason.TAKE_PROFIT and t.exit_price == approx(100.1 * 1.1)
    assert bt.fills[-1].slippage == 0.0


def test_trailing_stop_ratchets_and_fills_at_its_level() -> None:
    # Activation +2 %, distance 1 %. Entry 100. Bar 1 high 101: not active.
    # Bar 2 high 103 >= 102: active, stop 101.97. Bar 3 high 104: stop 102.96.
    # Bar 4 high 103.8: the stop stays at 102.96 (never loosens). Bar 5 low 102.5 hits it: exit 102.96.
    rows = [
        (100, 100.5, 99.5, 100), (100, 101, 99.5, 100.5), (101, 103, 100.5, 102.5),
        (102.5, 104, 102, 103.5), (103.5, 103.8, 103, 103.2), (103, 103.2, 102.5, 102.6), (102, 103, 101, 102),
    ]
    bt = Backtest(candles(rows), Scripted([1] * 7), settings(trailing_activation_pct=2, trailing_distance_pct=1))
    levels = []
    while not bt.done:
        r = bt.step()
        levels.append(None if r.position is None else r.position.trailing_stop)
    assert levels[:5] == [None, None, approx(101.97), approx(102.96), approx(102.96)]
    (t,) = bt.trades
    assert t.exit_bar == 5 and t.exit_reason is ExitReason.TRAILING_STOP
    assert t.exit_price == approx(102.96) and t.pnl == approx(296)
    assert run(rows, [1] * 7, trailing_activation_pct=2, trailing_distance_pct=1).trades == bt.trades


def test_reversal_closes_and_opens_at_the_same_open() -> None:
    rows = [(100, 101, 99, 100), (100, 101, 99, 100), (101, 102, 100, 101), (102, 103, 101, 102), (99, 100, 98, 99)]
    bt = run(rows, [1, 1, -1, -1, -1], fee=0.001)
    long_, short = bt.trades
    assert long_.exit_reason is ExitReason.REVERSAL and long_.exit_bar == 3 and long_.exit_price == 102
    assert short.side is Side.SHORT and short.entry_bar == 3 and short.entry_price == 102
    # The short is sized from the balance after the long closed: 10,000 - 10 + 200 - 10.2 = 10,179.8.
    assert short.size == approx(10_179.8 / 102)
    assert short.exit_reason is ExitReason.END_OF_DATA and short.exit_price == 99


def test_time_exit_after_max_holding_bars() -> None:
    rows = [(100, 101, 99, 100)] + [(100 + i, 101 + i, 99 + i, 100 + i) for i in range(1, 6)]
    bt = run(rows, [1] * 6, max_holding_bars=2)
    (t,) = bt.trades
    assert t.entry_bar == 1 and t.exit_bar == 3 and t.exit_price == approx(103)
    assert t.exit_reason is ExitReason.TIME_EXIT


def test_short_trailing_stop_and_mfe_mae() -> None:
    # Short 100 @ 100; the low reaches 96 (MFE 4 %), the high 100.5 (MAE -0.5 %).
    # Activation 2 %: active after bar 2 (low 97 <= 98, stop 97.97; bar 3 high 97.9 stays below); stop = 96 * 1.01 = 96.96 after bar 3; bar 4 high 97.5 hits it.
    rows = [(100, 100.5, 99.5, 100), (100, 100.5, 99, 99.5), (99, 99.5, 97, 97.5), (97.5, 97.9, 96, 96.5), (96.5, 97.5, 96.2, 97)]
    bt = run(rows, [-1] * 5, trailing_activation_pct=2, trailing_distance_pct=1)
    (t,) = bt.trades
    assert t.exit_reason is ExitReason.TRAILING_STOP and t.exit_price == approx(96.96) and t.exit_bar == 4
    assert t.mfe_pct == approx(4.0) and t.mae_pct == approx(-0.5)
    assert t.pnl == approx((100 - 96.96) * 100)
