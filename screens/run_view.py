"""One run as the screens show it, whether it just finished or comes from the database.

The results panel, the trade detail and History all read this shape, so a run looks
the same straight after the backtest and when opened again later. Both constructors do
their work (arrays, widths, the thinned curve and candles) where they are called, which
is a worker: the UI thread only hands the finished view to its widgets.

A fresh run has its candles; a stored one does not (the database keeps trades, not the
market), so its price chart and buy-and-hold curve wait for :func:`load_prices`, which
reads the candles again from the run's data source and checks they are the ones the
run saw (its data fingerprint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from engine.metrics import format_metric
from screens.equity_curve import EquityCurve
from screens.run_columns import FillColumns, FillRow, TradeColumns, TradeRow, epoch_ns
from screens.widgets.price_bars import Markers, PriceBars
from screens.widgets.trade_cells import widths

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine

    from engine.runner import BacktestResult

__all__ = ["RunView", "TradeRow", "FillRow", "load_prices"]


def market_text(symbol: str, timeframe: str, fallback: str) -> str:
    return " ".join(p for p in (symbol, timeframe) if p) or fallback


@dataclass
class RunView:
    run_id: Optional[int]
    title: str
    source: str
    metrics: dict[str, Any]
    curve: EquityCurve
    initial_balance: float
    trades: TradeColumns
    trade_widths: tuple[int, ...]  # the trades table's column widths, measured with the rest
    config: dict[str, Any] = field(default_factory=dict)
    fills_of: Callable[[int], list[FillRow]] = lambda _n: []
    report: Optional[dict[str, Any]] = None  # engine.reports; None: stored before there were reports
    market: str = ""  # "BTC/USDT 1h"
    prices: Optional[PriceBars] = None  # None: not loaded (a stored run) or none
    markers: Optional[Markers] = None
    parent_run_id: Optional[int] = None  # a replay branch's run
    data_fingerprint: Optional[str] = None  # of the candles the run saw
    kind: str = "backtest"

    @property
    def period(self) -> str:
        """The run's first and last day ("2023-01-01..2024-12-31"), from the metrics."""
        start, end = self.metrics.get("start"), self.metrics.get("end")
        return f"{start[:10]}..{end[:10]}" if isinstance(start, str) and isinstance(end, str) else ""

    def properties(self) -> dict[str, Any]:
        """What the run itself was, beside its configuration (for the properties view)."""
        m = self.metrics
        return {
            "Id": self.run_id if self.run_id is not None else "not saved", "Kind": self.kind,
            "Branch of run": self.parent_run_id, "Market": self.market, "Data source": self.source,
            "From": format_metric(m.get("start"), "time"), "To": format_metric(m.get("end"), "time"),
            "Bars": f"{m['bars']:,}" if isinstance(m.get("bars"), int) else None,
            "Data fingerprint": self.data_fingerprint,
        }

    @classmethod
    def from_result(cls, result: "BacktestResult", run_id: Optional[int]) -> "RunView":
        tables = result.tables  # built once per run; storing the run has usually built it already
        trades = TradeColumns.from_frame(tables.trades)
        fills = FillColumns.from_frame(tables.fills)
        cfg = result.config
        candles = result.candles
        curve = EquityCurve.from_equity(result.equity, cfg.balance, times=epoch_ns(candles.index),
                                        close=candles["close"].to_numpy(dtype="float64"))
        return cls(
            run_id, f"{cfg.strategy} on {result.symbol or result.source}", result.source, result.metrics,
            curve, cfg.balance, trades, widths(trades), cfg.to_dict(), fills.of, result.report,
            market_text(result.symbol, result.timeframe, result.source), PriceBars.from_candles(candles),
            Markers.of_trades(trades), result.parent_run_id, None, "replay" if result.parent_run_id else "backtest",
        )

    @classmethod
    def from_store(cls, engine: "Engine", run_id: int) -> Optional["RunView"]:
        from engine.store import get_run
        from engine.stored_trades import stored_fills, stored_trades

        run = get_run(engine, run_id)
        if run is None:
            return None
        trades = TradeColumns.from_frame(stored_trades(engine, run_id))
        # All of them now, on the worker that reads the run: opening a trade then reads no
        # database on the UI thread.
        fills = FillColumns.from_frame(stored_fills(engine, run_id))

        balance = float(run.config.get("balance", 0.0)) or 1.0
        metrics = dict(run.metrics)
        return cls(
            run.id, f"{run.strategy} on {run.symbol or run.data_source}", run.data_source, metrics,
            EquityCurve.from_stored(list(run.equity_curve), balance, metrics, run.equity_times), balance, trades,
            widths(trades), dict(run.config), fills.of, run.report, market_text(run.symbol, run.timeframe, run.data_source),
            None, Markers.of_trades(trades), run.parent_run_id, run.data_fingerprint, run.kind.value,
        )

    @property
    def can_load_prices(self) -> bool:
        """A stored run whose configuration says where its candles came from."""
        return self.prices is None and bool((self.config.get("data") or {}).get("kind"))


def load_prices(view: RunView, load: Callable[[Any], "pd.DataFrame"]) -> tuple[PriceBars, EquityCurve]:
    """A stored run's candles again, through ``load`` (the app's candle loader) from its
    data spec: the price chart's bars and the curve with buy and hold. Raises ValueError
    (an InputError or DataError from the loader, or candles that are not the run's)."""
    from engine.config import DataSpec
    from engine.fingerprint import candles_fingerprint

    spec = DataSpec(**{k: v for k, v in (view.config.get("data") or {}).items() if k in DataSpec.__dataclass_fields__})
    candles = load(spec)
    start, end = view.metrics.get("start"), view.metrics.get("end")
    if isinstance(start, str) and isinstance(end, str) and len(candles):
        # A download "until now" goes on past the run: its own bars are those of its period.
        candles = candles.loc[(candles.index >= start) & (candles.index <= end)]
    if not len(candles):
        raise ValueError(f"no candles of {spec.describe()} in the run's period")
    if view.data_fingerprint and candles_fingerprint(candles) != view.data_fingerprint:
        raise ValueError(f"the candles of {spec.describe()} have changed since the run was stored")
    bars = PriceBars.from_candles(candles)
    assert bars is not None
    return bars, view.curve.with_hold(candles["close"].to_numpy(dtype="float64"), view.initial_balance)

