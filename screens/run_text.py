"""How a stored run is named on screen, the same in the History list, its dialogs and Compare.

Works on a full :class:`~engine.models.Run` and on a list's
:class:`~engine.run_index.RunSummary` alike: both have the fields used here, except that
a Run keeps its parameters inside its config.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional


def utc_minute(when: Optional[datetime]) -> str:
    """UTC text to the minute; naive times are already UTC (that is how the store writes them)."""
    if when is None:
        return "—"
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return f"{when:%Y-%m-%d %H:%M}"


def period_text(run: Any) -> str:
    if run.period_start is None or run.period_end is None:
        return "—"
    return f"{run.period_start:%Y-%m-%d}..{run.period_end:%Y-%m-%d}"


def params_of(run: Any) -> dict[str, Any]:
    params = getattr(run, "params", None)
    if params is None:
        params = (getattr(run, "config", None) or {}).get("params")
    return params or {}


def params_text(params: dict[str, Any], default: str = "default parameters") -> str:
    if not params:
        return default
    return ", ".join(f"{k}={v}" for k, v in params.items())


def market_text(run: Any) -> str:
    return " ".join(p for p in (run.symbol, run.timeframe) if p) or run.data_source or "unknown data"


def run_heading(run: Any) -> str:
    """One line naming a run: id, strategy with parameters, market."""
    return f"run #{run.id} {run.strategy} ({params_text(params_of(run))}) on {market_text(run)}"
