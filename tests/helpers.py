"""Small builders shared by the engine tests: candle frames and a scripted strategy."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from engine.backtest import Backtest
from engine.config import BacktestSettings
from engine.costs import CostModel
from engine.policy import ExitPolicy, Sizing
from engine.strategies.base import Strategy


def candles(rows: Sequence[Sequence[float]], freq: str = "1h") -> pd.DataFrame:
    """Rows of (open, high, low, close); volume 1."""
    arr = np.asarray(rows, dtype=np.float64)
    idx = pd.date_range("2024-01-01", periods=len(arr), freq=freq, tz="UTC", name="timestamp")
    df = pd.DataFrame(arr[:, :4], index=idx, columns=["open", "high", "low", "close"])
    df["volume"] = 1.0
    df.attrs["source"] = "test"
    return df


class Scripted(Strategy):
    """Holds the direction it is given bar by bar."""

    name = "scripted"

    def __init__(self, directions: Sequence[int]) -> None:
        super().__init__()
        self.directions = np.asarray(directions, dtype=np.int8)

    def signals(self, candles: pd.DataFrame) -> np.ndarray:
        return self.directions[: len(candles)]


def settings(
    *, balance: float = 10_000.0, fee: float = 0.0, slippage: float = 0.0, fraction: float = 1.0,
    leverage: float = 1.0, **policy: object
) -> BacktestSettings:
    return BacktestSettings(
        balance=balance,
        costs=CostModel(fee_rate=fee, slippage_rate=slippage),
        sizing=Sizing(fraction=fraction, max_leverage=leverage),
        policy=ExitPolicy(**policy),  # type: ignore[arg-type]
    )


def run(rows: Sequence[Sequence[float]], directions: Sequence[int], **kw: object) -> Backtest:
    return Backtest(candles(rows), Scripted(directions), settings(**kw)).run()  # type: ignore[arg-type]


def stepped(rows: Sequence[Sequence[float]], directions: Sequence[int], **kw: object) -> Backtest:
    bt = Backtest(candles(rows), Scripted(directions), settings(**kw))  # type: ignore[arg-type]
    while not bt.done:
        bt.step()
    return bt
