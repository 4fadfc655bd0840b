"""Hand-computed examples of the intrabar path, exact touches, exposure, MFE/MAE and the leverage cap.

Each example runs both ways (the fast run and bar-by-bar stepping) and must agree.
"""

from __future__ import annotations

import pytest

from engine.enums import ExitReason, FillKind, Side
from engine.policy import Sizing
from engine.risk import position_size
from tests.helpers import run, stepped

approx = lambda x: pytest.approx(x, rel=1e-12, abs=1e-9)  # noqa: E731

FLAT = (100, 100, 100, 100)  # bar 0: the signal bar; the entry fills at bar 1's open (100)


def both(rows, directions, **kw):
    fast, slow = run(rows, directions, **kw), stepped(rows, directions, **kw)
    assert [(f.kind, f.bar, f.price, f.qty) for f in fast.fills] == [(f.kind, f.bar, f.price, f.qty) for f in slow.fills]
    assert fast.trades == slow.trades
    assert fast.bars_in_market() == slow.bars_in_market()
    return fast


def test_averaging_down_scale_in_fills_before_the_stop_below_it() -> None:
    # Long 100 @ 100, scale-in -3 % (97) of 0.5 x original, stop 5 % (95). Bar 2 opens at 99
    # (-1 %) and trades down to 94: on the way down the price passes 97 (buy 50, average
    # (100*100 + 97*50) / 150 = 99) and then 95 (sell all 150). PnL = (95 - 99) * 150 = -600.
    rows = [FLAT, (100, 100.5, 99.5, 100), (99, 99.5, 94, 95), (95, 95, 95, 95)]
    bt = both(rows, [1] * 4, leverage=2.0, stop_loss_pct=5, scale_in_thresholds=(-3,), scale_in_sizes=(0.5,))
    assert [(f.kind, f.bar, f.price, f.qty) for f in bt.fills] == [
        (FillKind.ENTRY, 1, 100, 100), (FillKind.SCALE_IN, 2, 97, 50), (FillKind.EXIT, 2, 95, 150),
    ]
    (t,) = bt.trades
    assert t.exit_reason is ExitReason.STOP_LOSS
    assert t.pnl == approx(-600)
    assert t.entry_price == approx(14_850 / 150)  # cost basis: total entry notional / total entered
    # The trade lived from 100 down to its stop at 95 (the low of 94 came after it was out).
    assert t.mae_pct == approx(-5.0)
    assert t.mfe_pct == approx(0.5)


def test_a_low_exactly_at_the_stop_stops_out() -> None:
    rows = [FLAT, (100, 100, 100, 100), (99, 99.5, 95, 96), (96, 97, 96, 97)]
    bt = both(rows, [1] * 4, stop_loss_pct=5)
    (t,) = bt.trades
    assert t.exit_bar == 2 and t.exit_price == 95 and t.exit_reason is ExitReason.STOP_LOSS


def test_a_high_exactly_at_a_short_stop_stops_out() -> None:
    rows = [FLAT, (100, 100, 100, 100), (101, 104, 100.5, 103), (103, 103.5, 103, 103)]
    bt = both(rows, [-1] * 4, stop_loss_pct=4)
    (t,) = bt.trades
    assert t.exit_bar == 2 and t.exit_price == 104 and t.exit_reason is ExitReason.STOP_LOSS
    assert t.pnl == approx(-400)


def test_a_high_exactly_at_the_target_takes_profit() -> None:
    rows = [FLAT, (100, 100, 100, 100), (101, 110, 100.5, 109), (109, 109, 109, 109)]
    bt = both(rows, [1] * 4, take_profit_pct=10)
    (t,) = bt.trades
    assert t.exit_bar == 2 and t.exit_price == 110 and t.exit_reason is ExitReason.TAKE_PROFIT


def test_a_low_exactly_at_a_short_partial_target_exits_part() -> None:
    # Short 100 @ 100; the first target (2 %) is 98 for 0.5 x original: the low touches it exactly.
    rows = [FLAT, (100, 100, 100, 100), (99, 99.5, 98, 98.5), (98.5, 98.5, 98.5, 98.5)]
    bt = both(rows, [-1] * 4, exit_targets=(2, 4), exit_sizes=(0.5, 0.5))
    kinds = [(f.kind, f.bar, f.price, f.qty) for f in bt.fills]
    assert kinds[1] == (FillKind.PARTIAL_EXIT, 2, 98, 50)


def test_an_open_exactly_at_the_stop_fills_at_the_open() -> None:
    rows = [FLAT, (100, 100, 100, 100), (95, 96, 94, 95.5), (95, 95, 95, 95)]
    bt = both(rows, [1] * 4, stop_loss_pct=5)
    (t,) = bt.trades
    assert t.exit_bar == 2 and t.exit_price == 95


def test_a_short_gapping_through_its_stop_fills_at_the_open_with_slippage() -> None:
    # Short 100 @ 100 sold 0.1 % lower: 99.9. Stop 5 % above the fill: 104.895. Bar 2 opens at
    # 107, above the stop: buy back at the open plus 0.1 % = 107.107. PnL = (99.9 - 107.107) * 100.
    rows = [FLAT, (100, 100, 100, 100), (107, 108, 106, 107), (107, 107, 107, 107)]
    bt = both(rows, [-1] * 4, stop_loss_pct=5, slippage=0.001)
    (t,) = bt.trades
    assert t.exit_bar == 2 and t.exit_reason is ExitReason.STOP_LOSS
    assert t.exit_price == approx(107.107)
    assert t.pnl == approx((99.9 - 107.107) * 100)
    assert t.mae_pct == approx((99.9 - 107.107) / 99.9 * 100)


def test_scale_in_after_a_partial_exit_is_sized_from_the_original_size() -> None:
    # Long 100 @ 100. Bar 2 reaches the +2 % target: sell 0.5 x 100 = 50 @ 102. Bar 3 reaches the
    # +3 % scale-in (from the first entry, 103): buy 0.5 x ORIGINAL = 50 (not 0.5 x the 50 open).
    # Average entry: (100 * 50 + 103 * 50) / 100 = 101.5 (exits never move it).
    rows = [FLAT, (100, 100, 100, 100), (101, 102, 100.5, 101.5), (102, 103, 101.8, 102.5), (102.5, 102.5, 102.5, 102.5)]
    bt = both(rows, [1, 1, 1, 1, 0], leverage=2.0, exit_targets=(2,), exit_sizes=(0.5,),
              scale_in_thresholds=(3,), scale_in_sizes=(0.5,))
    kinds = [(f.kind, f.bar, f.price, f.qty) for f in bt.fills]
    assert kinds[:3] == [(FillKind.ENTRY, 1, 100, 100), (FillKind.PARTIAL_EXIT, 2, 102, 50), (FillKind.SCALE_IN, 3, 103, 50)]
    assert bt.fills[2].avg_entry == approx(101.5)
    (t,) = bt.trades
    # Exit 100 @ 102.5 at the end of the data: (102 - 100) * 50 + (102.5 - 101.5) * 100 = 200.
    assert t.pnl == approx(200)
    assert t.entry_price == approx((100 * 100 + 103 * 50) / 150)


def test_scale_in_is_cut_at_the_leverage_cap() -> None:
    # Long 100 @ 100 with 3x allowed; scale-in at +1 % (101) of 3 x original = 300 would make
    # 400 units = 40,400 of notional on 10,100 of equity (4x). The cap allows 3 x 10,100 / 101
    # - 100 = 200 more: 300 units = 30,300 = 3x equity.
    rows = [FLAT, (100, 100, 100, 100), (100.5, 101, 100.5, 101), (101, 101, 101, 101)]
    bt = both(rows, [1] * 4, leverage=3.0, scale_in_thresholds=(1,), scale_in_sizes=(3.0,))
    assert [(f.kind, f.qty) for f in bt.fills[:2]] == [(FillKind.ENTRY, 100), (FillKind.SCALE_IN, approx(200))]
    assert "leverage cap" in bt.engine.journal.notes[0].text


def test_scale_in_at_the_cap_is_skipped_with_the_reason_recorded() -> None:
    rows = [FLAT, (100, 100, 100, 100), (100.5, 101, 100.5, 101), (101, 101, 101, 101)]
    bt = both(rows, [1] * 4, leverage=1.0, scale_in_thresholds=(1,), scale_in_sizes=(0.5,))
    assert [f.kind for f in bt.fills] == [FillKind.ENTRY, FillKind.EXIT]
    (note,) = bt.engine.journal.notes
    assert note.bar == 2 and note.kind == "scale_in_skipped" and "1x leverage cap" in note.text


def test_a_trade_opened_and_stopped_in_one_bar_counts_one_bar_of_exposure() -> None:
    rows = [FLAT, (100, 100.5, 90, 91), (91, 91, 91, 91), (91, 91, 91, 91)]
    bt = both(rows, [1, 0, 0, 0], stop_loss_pct=5)
    (t,) = bt.trades
    assert t.entry_bar == t.exit_bar == 1
    assert bt.bars_in_market() == 1


def test_exposure_counts_entry_and_exit_bars() -> None:
    # In from bar 1's open to bar 3's open: bars 1, 2 and 3 each saw the position open.
    rows = [FLAT] * 6
    assert both(rows, [1, 1, 0, 0, 0, 0]).bars_in_market() == 3


def test_risk_based_size() -> None:
    # 1 % of 10,000 at risk over a 2 % stop from 100: 100 / 2 = 50 units (5,000 notional).
    assert position_size(Sizing(mode="risk", risk_pct=1.0), 10_000, 100, 2.0) == approx(50)
    # A 0.1 % stop would need 1,000 units (10x); the 2x leverage cap holds it to 200.
    assert position_size(Sizing(mode="risk", risk_pct=1.0, max_leverage=2.0), 10_000, 100, 0.1) == approx(200)


def test_move_stops_through_the_tracker() -> None:
    from engine.broker import Execution
    from engine.errors import InputError
    from engine.policy import ExitPolicy
    from engine.tracker import PositionTracker

    pos, _ = PositionTracker.open(1, Side.LONG, 0, Execution(100, 1, 0, 0), ExitPolicy(stop_loss_pct=5, take_profit_pct=10))
    assert (pos.stop_loss, pos.take_profit) == (95, approx(110))
    PositionTracker.move_stops(pos, stop_loss=98)
    assert (pos.stop_loss, pos.take_profit) == (98, approx(110))
    PositionTracker.move_stops(pos, clear_target=True)
    assert pos.take_profit is None and pos.stop_loss == 98
    with pytest.raises(InputError, match="stop-loss must be a positive price"):
        PositionTracker.move_stops(pos, stop_loss=-1)
    assert pos.stop_loss == 98
