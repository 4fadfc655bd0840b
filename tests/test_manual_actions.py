"""Manual actions: the amount conversion, hand-computed fills, preview = apply, bad input changes nothing."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from engine.actions import ActionKind, Amount, AmountUnit, ManualAction, to_base_qty
from engine.core import Engine
from engine.enums import ExitReason, FillKind, Side
from engine.errors import InputError
from tests.helpers import settings

approx = lambda x: pytest.approx(x, rel=1e-12, abs=1e-9)  # noqa: E731

OPEN_LONG = ManualAction(ActionKind.OPEN, Amount(100, AmountUnit.BASE), Side.LONG)


def engine_with(action: ManualAction = OPEN_LONG, price: float = 100.0, **kw) -> Engine:
    eng = Engine(settings(**kw))
    eng.apply(action, 0, price)
    return eng


def test_amount_units_become_base_quantities() -> None:
    eng = engine_with(leverage=3.0)
    eng.apply(ManualAction(ActionKind.PARTIAL_EXIT, Amount(40, AmountUnit.BASE)), 1, 100)  # 60 open of 100
    pos = eng.state.position
    assert to_base_qty(Amount(50, AmountUnit.PERCENT), pos, 120) == approx(30)  # half of what is open
    assert to_base_qty(Amount(0.5, AmountUnit.FRACTION), pos, 120) == approx(50)  # half the ORIGINAL 100
    assert to_base_qty(Amount(7.5, AmountUnit.BASE), pos, 120) == 7.5
    assert to_base_qty(Amount(600, AmountUnit.QUOTE), pos, 120) == approx(5)  # 600 / 120
    assert to_base_qty(Amount(600, AmountUnit.QUOTE), None, 120) == approx(5)


@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf])
@pytest.mark.parametrize("unit", list(AmountUnit))
def test_amounts_that_are_not_positive_numbers_are_rejected(value, unit) -> None:
    pos = engine_with().state.position
    with pytest.raises(InputError, match="positive number"):
        to_base_qty(Amount(value, unit), pos, 100)


def test_manual_partial_exit_after_a_scale_in_hand_computed() -> None:
    # Fee 0.1 %, slippage 0.1 %. Open 100 long at 100: buy at 100.1, fee 10.01.
    # Scale in 50 at 110: buy at 110.11, fee 5.5055; average (100.1 * 100 + 110.11 * 50) / 150 = 103.43667.
    # Take 40 % of the 150 open (60) at 120: sell at 119.88, fee 7.1928,
    # PnL = (119.88 - 103.436667) * 60 - 7.1928 = 979.4072.
    eng = engine_with(fee=0.001, slippage=0.001, leverage=2.0)
    eng.apply(ManualAction(ActionKind.SCALE_IN, Amount(50, AmountUnit.BASE)), 1, 110)
    avg = (100.1 * 100 + 110.11 * 50) / 150
    assert eng.state.position.avg_entry_price == approx(avg)
    preview = eng.preview(ManualAction(ActionKind.PARTIAL_EXIT, Amount(40)), 2, 120)
    assert preview.qty == approx(60) and preview.fill_price == approx(119.88)
    assert preview.fees == approx(119.88 * 60 * 0.001)
    assert preview.realized_pnl == approx((119.88 - avg) * 60 - 119.88 * 60 * 0.001)
    assert preview.size_after == approx(90) and preview.avg_entry_after == approx(avg)
    assert eng.state.position.current_size == approx(150)  # a preview changes nothing
    done = eng.apply(ManualAction(ActionKind.PARTIAL_EXIT, Amount(40)), 2, 120)
    assert done == preview
    (fill,) = done.fills
    assert fill.kind is FillKind.PARTIAL_EXIT and fill.reason == "manual" and fill.bar == 2
    assert eng.state.balance == approx(10_000 - 10.01 - 110.11 * 50 * 0.001 + done.realized_pnl)


def test_manual_close_of_a_short_ends_the_trade() -> None:
    eng = engine_with(ManualAction(ActionKind.OPEN, Amount(5_000, AmountUnit.QUOTE), Side.SHORT), price=100)
    assert eng.state.position.current_size == approx(50)
    result = eng.apply(ManualAction(ActionKind.CLOSE), 3, 90)
    assert result.trade is not None and result.trade.exit_reason is ExitReason.MANUAL
    assert result.trade.pnl == approx(500) and eng.state.position is None
    assert eng.state.bars_in_market == 2  # the bar it opened in and the bar it closed in


def test_move_stops_checks_the_side_of_the_price() -> None:
    eng = engine_with()
    eng.apply(ManualAction(ActionKind.MOVE_STOPS, stop_loss=95, take_profit=120), 1, 100)
    assert (eng.state.position.stop_loss, eng.state.position.take_profit) == (95, 120)
    with pytest.raises(InputError, match="long stop-loss must be below the price 100, got 101"):
        eng.apply(ManualAction(ActionKind.MOVE_STOPS, stop_loss=101), 1, 100)
    with pytest.raises(InputError, match="long take-profit must be above the price 100, got 99"):
        eng.apply(ManualAction(ActionKind.MOVE_STOPS, take_profit=99), 1, 100)
    assert (eng.state.position.stop_loss, eng.state.position.take_profit) == (95, 120)


BAD = [
    (ManualAction(ActionKind.PARTIAL_EXIT, Amount(0)), "positive number"),
    (ManualAction(ActionKind.PARTIAL_EXIT, Amount(-5)), "positive number"),
    (ManualAction(ActionKind.PARTIAL_EXIT, Amount(math.nan)), "positive number"),
    (ManualAction(ActionKind.PARTIAL_EXIT, Amount(101)), "at most 100 %"),
    (ManualAction(ActionKind.PARTIAL_EXIT, Amount(150, AmountUnit.BASE)), "only 100 is open"),
    (ManualAction(ActionKind.PARTIAL_EXIT, Amount(2, AmountUnit.FRACTION)), "only 100 is open"),
    (ManualAction(ActionKind.PARTIAL_EXIT), "needs an amount"),
    (ManualAction(ActionKind.SCALE_IN, Amount(1, AmountUnit.FRACTION)), "leverage cap"),
    (ManualAction(ActionKind.OPEN, Amount(1, AmountUnit.BASE), Side.SHORT), "already open"),
    (ManualAction(ActionKind.MOVE_STOPS, stop_loss=-3), "positive price"),
    (ManualAction(ActionKind.MOVE_STOPS, stop_loss=math.nan), "positive price"),
]


@pytest.mark.parametrize("action, message", BAD)
def test_bad_actions_raise_and_change_nothing(action, message) -> None:
    eng = engine_with()
    before, mark = eng.state.copy(), eng.journal.mark()
    with pytest.raises(InputError, match=message):
        eng.apply(action, 1, 100)
    with pytest.raises(InputError, match=message):
        eng.preview(action, 1, 100)
    assert eng.state == before and eng.journal.mark() == mark


def test_actions_that_need_a_position_say_so() -> None:
    eng = Engine(settings())
    for kind in (ActionKind.CLOSE, ActionKind.PARTIAL_EXIT, ActionKind.SCALE_IN, ActionKind.MOVE_STOPS):
        with pytest.raises(InputError, match="no open position"):
            eng.apply(ManualAction(kind, Amount(10)), 0, 100)
    with pytest.raises(InputError, match="needs a side"):
        eng.apply(ManualAction(ActionKind.OPEN), 0, 100)
    with pytest.raises(InputError, match="base quantity or a quote amount"):
        eng.apply(ManualAction(ActionKind.OPEN, Amount(10), Side.LONG), 0, 100)
    with pytest.raises(InputError, match="price must be a positive number"):
        eng.apply(OPEN_LONG, 0, math.nan)
    assert eng.state.position is None and not eng.journal.fills


def test_open_without_an_amount_uses_the_run_sizing() -> None:
    eng = Engine(settings(fraction=0.5))
    eng.apply(ManualAction(ActionKind.OPEN, side=Side.LONG, stop_loss=90), 0, 200)
    assert eng.state.position.current_size == approx(25)  # half of 10,000 at 200
    assert eng.state.position.stop_loss == 90


def test_actions_round_trip_through_json_dicts() -> None:
    for action in (OPEN_LONG, ManualAction(ActionKind.PARTIAL_EXIT, Amount(50)),
                   ManualAction(ActionKind.MOVE_STOPS, stop_loss=95.5, clear_target=True)):
        assert ManualAction.from_dict(action.to_dict()) == action
    assert ManualAction.from_dict({"do": "partial_exit", "percent": 50}) == ManualAction(ActionKind.PARTIAL_EXIT, Amount(50))
    for bad, message in (({"do": "sell"}, "'do' must be one of"), ({"do": "close", "size": 1}, "unknown key 'size'"),
                         ({"do": "scale_in", "percent": 5, "base": 1}, "one amount"),
                         ({"do": "partial_exit", "percent": "half"}, "must be a number")):
        with pytest.raises(InputError, match=message):
            ManualAction.from_dict(bad)


amounts = st.builds(
    Amount,
    st.floats(1e-3, 120.0) | st.sampled_from([0.0, -1.0, math.nan, 100.0]),
    st.sampled_from(list(AmountUnit)),
)
actions = st.one_of(
    st.builds(ManualAction, st.sampled_from([ActionKind.PARTIAL_EXIT, ActionKind.SCALE_IN]), amounts),
    st.just(ManualAction(ActionKind.CLOSE)),
    st.builds(ManualAction, st.just(ActionKind.MOVE_STOPS), stop_loss=st.none() | st.floats(50, 150),
              take_profit=st.none() | st.floats(50, 150)),
    st.builds(ManualAction, st.just(ActionKind.OPEN), amounts, st.sampled_from(list(Side))),
)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    side=st.sampled_from(list(Side)), first=st.sampled_from([None, 20.0, 100.0]),
    price=st.floats(50, 150), fee=st.sampled_from([0.0, 0.001]), slippage=st.sampled_from([0.0, 0.0005]),
    action=actions,
)
def test_applying_an_action_gives_exactly_its_preview(side, first, price, fee, slippage, action) -> None:
    eng = Engine(settings(fee=fee, slippage=slippage, leverage=3.0))
    if first is not None:
        eng.apply(ManualAction(ActionKind.OPEN, Amount(first, AmountUnit.BASE), side), 0, 100.0)
    before, mark = eng.state.copy(), eng.journal.mark()
    try:
        preview = eng.preview(action, 1, price)
    except InputError:
        with pytest.raises(InputError):
            eng.apply(action, 1, price)
        assert eng.state == before and eng.journal.mark() == mark
        return
    assert eng.state == before and eng.journal.mark() == mark  # the preview changed nothing
    done = eng.apply(action, 1, price)
    assert done == preview
    pos = eng.state.position
    assert done.size_after == (0.0 if pos is None else pos.current_size)
    assert done.avg_entry_after == (None if pos is None else pos.avg_entry_price)
    assert done.balance_after == eng.state.balance == before.balance + done.realized_pnl
    assert list(done.fills) == eng.journal.fills[mark.fills:]


def test_levels_follow_a_restored_state_not_a_remembered_one() -> None:
    """Stepping back and opening trade #1 again at another price gives that trade's own levels."""
    eng = Engine(settings(leverage=2.0, scale_in_thresholds=(-2,), scale_in_sizes=(0.5,)))
    before = eng.snapshot()
    eng.apply(ManualAction(ActionKind.OPEN, Amount(10, AmountUnit.BASE), Side.LONG), 0, 100)
    pos = eng.state.position
    assert [lv.price for lv in eng.policy_levels(pos, pos.avg_entry_price)] == [98.0]
    eng.restore(before)
    eng.apply(ManualAction(ActionKind.OPEN, Amount(10, AmountUnit.BASE), Side.LONG), 0, 200)
    pos = eng.state.position
    assert pos.trade_no == 1
    assert [lv.price for lv in eng.policy_levels(pos, pos.avg_entry_price)] == [196.0]
