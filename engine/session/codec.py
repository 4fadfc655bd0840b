"""The engine's state as JSON, exactly: what a session row holds to rebuild its books.

A killed session restarts from the last committed state, so the round trip must be
exact: floats are written with ``repr`` precision by ``json`` and come back bit for bit.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Optional

from engine.enums import ExitReason, Side
from engine.policy import ExitPolicy
from engine.records import OpenPosition
from engine.state import EngineState, PendingOrder
from engine.strategies.base import Decision

_POSITION_FIELDS = [f.name for f in fields(OpenPosition)]


def _policy(policy: Optional[ExitPolicy]) -> Optional[dict[str, Any]]:
    return None if policy is None else policy.to_dict()


def _unpolicy(data: Optional[dict[str, Any]]) -> Optional[ExitPolicy]:
    return None if data is None else ExitPolicy.from_dict(data)


def position_to_dict(pos: OpenPosition) -> dict[str, Any]:
    out = {name: getattr(pos, name) for name in _POSITION_FIELDS}
    out["side"] = pos.side.value
    out["policy"] = pos.policy.to_dict()
    out["exit_order_ids"] = list(pos.exit_order_ids)
    return out


def position_from_dict(data: dict[str, Any]) -> OpenPosition:
    values = dict(data)
    values["side"] = Side(values["side"])
    values["policy"] = ExitPolicy.from_dict(values["policy"])
    return OpenPosition(**values)


def state_to_dict(state: EngineState) -> dict[str, Any]:
    pending = state.pending
    return {
        "balance": state.balance, "bar": state.bar, "direction": state.direction, "trade_no": state.trade_no,
        "bars_in_market": state.bars_in_market, "last_market_bar": state.last_market_bar,
        "position": None if state.position is None else position_to_dict(state.position),
        "pending": None if pending is None else {
            "close_reason": None if pending.close_reason is None else pending.close_reason.value,
            "direction": pending.decision.direction, "policy": _policy(pending.decision.policy),
        },
    }


def state_from_dict(data: dict[str, Any]) -> EngineState:
    raw = data.get("pending")
    pending = None
    if raw is not None:
        reason = None if raw["close_reason"] is None else ExitReason(raw["close_reason"])
        pending = PendingOrder(reason, Decision(int(raw["direction"]), _unpolicy(raw["policy"])))
    return EngineState(
        float(data["balance"]), int(data["bar"]),
        None if data["position"] is None else position_from_dict(data["position"]), pending,
        int(data["direction"]), int(data["trade_no"]), int(data["bars_in_market"]), int(data["last_market_bar"]),
    )
