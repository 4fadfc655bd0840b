"""Run a configured backtest end to end: data -> strategy -> engine -> metrics.

The CLI and the TUI's worker call the same function, so a run from either produces
the same trades and metrics; storing the result is a separate step (``engine.store``)
so that nothing is written when anything before it fails or is cancelled.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np
import pandas as pd

from engine.backtest import Backtest
from engine.config import BacktestConfig, DataSpec, parse_date
from engine.errors import DataError
from engine.metrics import compute_metrics
from engine.phases import PhaseListener
from engine.records import FillRecord, TradeRecord
from engine.strategies import create_strategy
from engine.strategies.base import Strategy

if TYPE_CHECKING:
    from engine.run_tables import RunTables

Progress = Callable[[int, int], None]


def load_data(spec: DataSpec, progress: Optional[Progress] = None, cancel: Optional[threading.Event] = None) -> pd.DataFrame:
    from engine import data

    if spec.kind == "sample":
        return data.sample_candles()
    if spec.kind == "file":
        return data.load_candles(spec.path)
    since = parse_date(spec.since, "since")
    until = parse_date(spec.until, "until") if spec.until else None
    return data.download_candles(
        spec.exchange, spec.symbol, spec.timeframe, since, until, progress=progress, cancel=cancel
    )


@dataclass
class BacktestResult:
    config: BacktestConfig
    candles: pd.DataFrame
    trades: list[TradeRecord]
    fills: list[FillRecord]
    equity: np.ndarray
    metrics: dict[str, Any]
    bars_in_market: int
    parent_run_id: Optional[int] = None  # set for a replay branch
    actions: list[dict[str, Any]] = field(default_factory=list)  # the branch's manual actions, as JSON

    @property
    def source(self) -> str:
        return str(self.candles.attrs.get("source", self.config.data.describe()))

    @property
    def symbol(self) -> str:
        return str(self.candles.attrs.get("symbol") or self.config.data.symbol or "")

    @property
    def timeframe(self) -> str:
        return str(self.candles.attrs.get("timeframe") or self.config.data.timeframe or "")

    @cached_property
    def tables(self) -> "RunTables":
        """The trades and fills as columns, for the store, the exports and the screens."""
        from engine.run_tables import run_tables

        return run_tables(self)

    @cached_property
    def report(self) -> dict[str, Any]:
        """Longs against shorts, exit reasons, monthly and yearly returns (engine.reports)."""
        from engine.reports import run_report

        return run_report(self.tables.trades, self.equity, self.candles.index, self.config.balance)


def checked_strategy(config: BacktestConfig, candles: pd.DataFrame) -> Strategy:
    """The configured strategy, or DataError if the candles are too few for its warm-up."""
    strategy = create_strategy(config.strategy, config.params)
    if len(candles) <= strategy.warmup + 1:
        raise DataError(
            f"{candles.attrs.get('source', 'data')}: {len(candles)} candles is too few for "
            f"{strategy.describe()} (needs more than {strategy.warmup + 1})"
        )
    return strategy


def result_of(config: BacktestConfig, candles: pd.DataFrame, bt: Backtest, **extra: Any) -> BacktestResult:
    """The result of a finished driver (backtest or replay): its trades, equity and metrics.

    The lists are copies: a replay goes on (and steps back) after its result is taken."""
    equity = bt.equity_curve()
    close = candles["close"].to_numpy()
    metrics = compute_metrics(
        bt.trades, equity, candles.index, initial_balance=config.balance,
        first_price=float(close[0]), last_price=float(close[-1]), bars_in_market=bt.bars_in_market(),
    )
    return BacktestResult(config, candles, list(bt.trades), list(bt.fills), equity, metrics, bt.bars_in_market(), **extra)


def run_backtest(
    config: BacktestConfig,
    candles: Optional[pd.DataFrame] = None,
    *,
    progress: Optional[Progress] = None,
    cancel: Optional[threading.Event] = None,
    phase: Optional[PhaseListener] = None,
) -> BacktestResult:
    """``phase`` hears each phase's name as it begins: load, signals, run, metrics."""
    phase = phase or (lambda _name: None)
    if candles is None:
        create_strategy(config.strategy, config.params)  # bad parameters fail before any download
        phase("load")
        candles = load_data(config.data, cancel=cancel)
    phase("signals")
    strategy = checked_strategy(config, candles)
    bt = Backtest(candles, strategy, config.settings)
    phase("run")
    bt.run(progress=progress, cancel=cancel)
    phase("metrics")
    return result_of(config, candles, bt)
