"""A finished run's stored row as plain values, made where the run is.

:func:`engine.store.save_run` turns it into the ``Run`` row. The headless CLI makes it in
its own process and hands it, with the run's tables, to the child that stores the run
(:mod:`atb_tui.forked_store`); so this module imports nothing of the database layer.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from engine.enums import RunKind

if TYPE_CHECKING:
    from engine.runner import BacktestResult

POINTS = 400  # of a stored equity curve: a few hundred redraw any chart a terminal can show


def thinned(values: Any, points: int = POINTS) -> np.ndarray:
    """Positions of about ``points`` values of a long curve, enough to redraw it: each of
    ``points / 2`` stretches keeps its lowest and its highest value, in time order, so a
    one-bar spike or crash survives; the first and last values are always kept."""
    arr = np.asarray(values, dtype=np.float64)
    n = len(arr)
    if n <= points:
        return np.arange(n)
    edges = np.linspace(0, n, points // 2 + 1).round().astype(np.int64)
    keep = {0, n - 1}
    for lo, hi in zip(edges[:-1], edges[1:]):
        if hi > lo:
            part = arr[lo:hi]
            keep.add(int(lo + part.argmin()))
            keep.add(int(lo + part.argmax()))
    return np.array(sorted(keep), dtype=np.int64)


def downsample(values: Any, points: int = POINTS) -> list[float]:
    """The values :func:`thinned` keeps."""
    arr = np.asarray(values, dtype=np.float64)
    return arr[thinned(arr, points)].tolist()


def run_row(result: "BacktestResult", kind: RunKind = RunKind.BACKTEST,
            created_at: Optional[datetime] = None, fingerprint: bool = True) -> dict[str, Any]:
    """The ``Run`` row's fields for ``result``; a replay branch (``result.parent_run_id``
    set) keeps its manual actions in its config. ``created_at`` defaults to the row's now.
    Without ``fingerprint`` the candles' fingerprint is left for the caller to add."""
    from engine.fingerprint import candles_fingerprint

    index = result.candles.index
    cfg = result.config
    kept = thinned(result.equity)
    seconds = np.asarray(index[kept].as_unit("s").asi8, dtype=np.int64) if len(kept) else np.zeros(0, np.int64)
    row: dict[str, Any] = dict(
        kind=kind, strategy=cfg.strategy, symbol=result.symbol, timeframe=result.timeframe,
        data_source=result.source, period_start=index[0].to_pydatetime(), period_end=index[-1].to_pydatetime(),
        config={**cfg.to_dict(), **({"actions": result.actions} if result.actions else {})},
        metrics=result.metrics, report=result.report,
        equity_curve=np.asarray(result.equity, dtype=np.float64)[kept].tolist(), equity_times=seconds.tolist(),
        parent_run_id=result.parent_run_id,
    )
    if fingerprint:
        row["data_fingerprint"] = candles_fingerprint(result.candles)
    if created_at is not None:
        row["created_at"] = created_at
    return row
