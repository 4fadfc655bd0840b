"""A run's trades and fills as arrays, one per column, built on a worker.

A million-bar run has tens of thousands of trades. One Python object per trade (and a
pandas lookup per time) took seconds after the engine had finished, on the UI thread;
arrays are built in one go off it, and a :class:`TradeRow` or a trade's fills are made
only for the one trade someone opens. Sort orders are stable argsorts, kept once made.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def utc_datetime(ns: int) -> datetime:
    """Epoch nanoseconds -> aware UTC datetime (to the microsecond, as pandas gives it)."""
    return EPOCH + timedelta(microseconds=int(ns) // 1000)


def epoch_ns(times: Any) -> np.ndarray:
    """Aware or naive (taken as UTC) times -> int64 epoch nanoseconds, in one go."""
    import pandas as pd

    index = pd.DatetimeIndex(times)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.as_unit("ns").asi8.copy()


@dataclass(frozen=True)
class TradeRow:
    trade_no: int
    side: str
    entry_time: datetime
    entry_price: float
    exit_time: datetime
    exit_price: float
    size: float
    pnl: float
    pnl_pct: float
    fees: float
    slippage: float
    exit_reason: str
    mfe_pct: float
    mae_pct: float
    duration_bars: int


@dataclass(frozen=True)
class FillRow:
    kind: str
    time: datetime
    price: float
    qty: float
    fee: float
    slippage: float
    pnl: float
    reason: str
    avg_entry: Optional[float] = None  # the moving average entry after the fill (None: not recorded)


@dataclass(eq=False)
class TradeColumns:
    """Trades in trade-number order. Times are int64 epoch ns (UTC); side and exit
    reason are their enum values (str, in object arrays)."""

    trade_no: np.ndarray
    side: np.ndarray
    entry_time: np.ndarray
    entry_price: np.ndarray
    exit_time: np.ndarray
    exit_price: np.ndarray
    size: np.ndarray
    pnl: np.ndarray
    pnl_pct: np.ndarray
    fees: np.ndarray
    slippage: np.ndarray
    exit_reason: np.ndarray
    mfe_pct: np.ndarray
    mae_pct: np.ndarray
    duration_bars: np.ndarray
    _orders: dict[tuple[str, bool], np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def from_frame(cls, frame: "pd.DataFrame") -> "TradeColumns":
        """From ``engine.run_tables`` trades (or :func:`engine.stored_trades.stored_trades`)."""
        frame = frame.sort_values("trade_no", kind="stable") if not frame["trade_no"].is_monotonic_increasing else frame
        data: dict[str, np.ndarray] = {}
        for f in fields(cls):
            if f.name.startswith("_"):
                continue
            column = frame[f.name]
            if f.name in ("entry_time", "exit_time"):
                data[f.name] = epoch_ns(column)
            elif f.name in ("side", "exit_reason"):
                data[f.name] = np.asarray(column.astype(str).to_numpy(), dtype=object)
            elif f.name in ("trade_no", "duration_bars"):
                data[f.name] = column.to_numpy(dtype=np.int64)
            else:
                data[f.name] = column.to_numpy(dtype=np.float64)
        return cls(**data)

    @classmethod
    def empty(cls) -> "TradeColumns":
        data = {f.name: np.empty(0, dtype=object if f.name in ("side", "exit_reason") else np.float64)
                for f in fields(cls) if not f.name.startswith("_")}
        for name in ("trade_no", "entry_time", "exit_time", "duration_bars"):
            data[name] = np.empty(0, dtype=np.int64)
        return cls(**data)

    def __len__(self) -> int:
        return len(self.trade_no)

    def row(self, i: int) -> TradeRow:
        """Trade at position ``i`` (in trade-number order) as one object, for its detail."""
        return TradeRow(
            int(self.trade_no[i]), str(self.side[i]), utc_datetime(self.entry_time[i]), float(self.entry_price[i]),
            utc_datetime(self.exit_time[i]), float(self.exit_price[i]), float(self.size[i]), float(self.pnl[i]),
            float(self.pnl_pct[i]), float(self.fees[i]), float(self.slippage[i]), str(self.exit_reason[i]),
            float(self.mfe_pct[i]), float(self.mae_pct[i]), int(self.duration_bars[i]),
        )

    def position(self, trade_no: int) -> Optional[int]:
        """Where trade ``trade_no`` is, or None."""
        i = int(np.searchsorted(self.trade_no, trade_no))
        return i if i < len(self) and self.trade_no[i] == trade_no else None

    def order(self, key: str, descending: bool = False) -> np.ndarray:
        """Positions sorted by column ``key``, stable both ways: equal values keep trade-number
        order, ascending and descending alike (as ``sorted(..., reverse=True)`` does)."""
        cached = self._orders.get((key, descending))
        if cached is not None:
            return cached
        values = getattr(self, key)
        if values.dtype == object:
            # Text sorts by its rank among its few distinct values (ints negate exactly).
            rank = {v: r for r, v in enumerate(sorted(set(values)))}
            values = np.fromiter(map(rank.__getitem__, values), dtype=np.int64, count=len(values))
        if descending:
            values = -values
        # int32: every order of every column is kept (TradesTable makes them ahead).
        order = np.argsort(values, kind="stable").astype(np.int32 if len(values) < 2**31 else np.int64)
        self._orders[(key, descending)] = order
        return order

    def sort_ahead(self, keys: Sequence[str], stop: Callable[[], bool] = lambda: False) -> None:
        """Make and keep every order by ``keys`` both ways, until ``stop()`` says enough: run
        on a worker as a table opens, it leaves every sort key pressed later to a lookup."""
        for key in keys:
            for descending in (False, True):
                if stop():
                    return
                self.order(key, descending)


@dataclass(eq=False)
class FillColumns:
    """Fills grouped by trade number (in the order they happened within each trade)."""

    trade_no: np.ndarray
    kind: np.ndarray
    time: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    fee: np.ndarray
    slippage: np.ndarray
    pnl: np.ndarray
    reason: np.ndarray
    avg_entry: np.ndarray  # NaN: not recorded

    @classmethod
    def from_frame(cls, frame: "pd.DataFrame") -> "FillColumns":
        """From ``engine.run_tables`` fills."""
        order = np.argsort(frame["trade_no"].to_numpy(dtype=np.int64), kind="stable")
        return cls(
            trade_no=frame["trade_no"].to_numpy(dtype=np.int64)[order],
            kind=np.asarray(frame["kind"].astype(str).to_numpy(), dtype=object)[order],
            time=epoch_ns(frame["time"])[order],
            price=frame["price"].to_numpy(dtype=np.float64)[order],
            qty=frame["qty"].to_numpy(dtype=np.float64)[order],
            fee=frame["fee"].to_numpy(dtype=np.float64)[order],
            slippage=frame["slippage"].to_numpy(dtype=np.float64)[order],
            pnl=frame["pnl"].to_numpy(dtype=np.float64)[order],
            reason=np.asarray(frame["reason"].astype(str).to_numpy(), dtype=object)[order],
            avg_entry=frame["avg_entry"].to_numpy(dtype=np.float64, na_value=np.nan)[order],
        )

    def of(self, trade_no: int) -> list[FillRow]:
        start, stop = np.searchsorted(self.trade_no, [trade_no, trade_no + 1])
        return [
            FillRow(str(self.kind[i]), utc_datetime(self.time[i]), float(self.price[i]), float(self.qty[i]),
                    float(self.fee[i]), float(self.slippage[i]), float(self.pnl[i]), str(self.reason[i]),
                    None if np.isnan(self.avg_entry[i]) else float(self.avg_entry[i]))
            for i in range(start, stop)
        ]
