"""A small machine-learning strategy: walk-forward logistic regression on price features.

It exists to show how a learned model fits the no-look-ahead contract. The model is
refitted every ``retrain`` bars on the last ``train`` bars only, and a sample's label
(did the NEXT close rise?) is only used once that next close has happened: the
model used at bar ``t`` was fitted on samples ``j`` with ``j + 1 <= fit bar <= t``.
The bar-by-bar form keeps just those ``train`` bars, refits on the same schedule and
predicts each new bar with the model in force.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Optional

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

from engine.strategies import register
from engine.strategies.base import Param, Strategy, mode_param
from engine.strategies.incremental import Bars, IncrementalStrategy
from engine.strategies.logistic import Model, fit_logistic, predict_up
from engine.strategies.plots import LOWER, Plot
from engine.strategies.ml_features import (
    FEATURE_WARMUP,
    LOOKBACK,
    N_FEATURES,
    RSI_BARS,
    feature_rows,
    market_features,
    next_bar_up,
)
from engine.strategies.tail import History, Tail
from engine.strategies.wilder import Rsi

# A window with fewer usable samples than this is bad data: stay flat rather than fit on scraps.
MIN_SAMPLES = 2 * (N_FEATURES + 1)


class Refit(NamedTuple):
    """One walk-forward block: fitted at ``fit_at`` on samples [lo, hi), used for bars [fit_at, until)."""

    fit_at: int
    lo: int
    hi: int
    until: int


def walk_forward_schedule(n: int, train: int, retrain: int, start: int = 0) -> list[Refit]:
    """The refits at bars ``start..n-1``. The schedule depends on the bar index only, never
    on ``n`` beyond truncation, so a prefix of the data sees the same models.

    Samples end at ``hi = fit_at``: the last one is ``fit_at - 1``, whose label needs
    ``close[fit_at]``, the close of the bar the model is fitted at.
    """
    first = FEATURE_WARMUP + train
    if start > first:
        first += -(-(start - first) // retrain) * retrain  # the first refit at or after start
    return [Refit(t, t - train, t, min(t + retrain, n)) for t in range(first, n, retrain)]


def fit_window(features: np.ndarray, label: np.ndarray) -> Optional[Model]:
    """The model fitted on a training window's usable samples, or None if too few."""
    usable = np.isfinite(features).all(axis=1) & np.isfinite(label)
    if usable.sum() < MIN_SAMPLES:
        return None
    return fit_logistic(features[usable], label[usable])


@register
class MlBasic(Strategy):
    name = "ml_basic"
    description = "Walk-forward logistic regression on price features predicting the next bar's direction."
    params = (
        Param("train", int, 1000, "bars in each training window", min=50),
        Param("retrain", int, 250, "bars between refits", min=10),
        Param("threshold", float, 0.05, "margin over 50 % the up/down probability must clear", min=0, max=0.49),
        mode_param(),
    )

    def __init__(self, **values: object) -> None:
        super().__init__(**values)
        self.p_up: np.ndarray | None = None

    @property
    def warmup(self) -> int:
        return FEATURE_WARMUP + self.train

    def signals(self, candles: pd.DataFrame) -> np.ndarray:
        live = self.incremental()
        directions = live.feed_frame(candles)
        self.p_up = live.p_up
        return directions

    def incremental(self) -> IncrementalMlBasic:
        return IncrementalMlBasic(self)

    def plots(self, candles: pd.DataFrame) -> list[Plot]:
        """The model's probability of an up bar, with the thresholds that trade it."""
        if self.p_up is None or len(self.p_up) != len(candles):
            self.signals(candles)
        assert self.p_up is not None
        t = self.threshold
        guides = (0.5 - t, 0.5 + t) if self.allows_short else (0.5 + t,)
        return [Plot("P(up)", self.p_up, LOWER, guides, (0.0, 1.0))]


class IncrementalMlBasic(IncrementalStrategy):
    columns = ("high", "low", "close")

    def __init__(self, strategy: MlBasic) -> None:
        super().__init__(strategy)
        self.prices = History(self.columns, LOOKBACK)
        self.rsi = Rsi(RSI_BARS)
        # What a refit reads: the last `train` bars' features, and their closes for the labels.
        self.rows = Tail(strategy.train, (N_FEATURES,))
        self.closes = Tail(strategy.train)
        self.model: Optional[Model] = None
        self.p_up = np.empty(0)  # of the latest chunk

    def _feed(self, bars: Bars) -> np.ndarray:
        (high, low, close), start = self.prices.extend(bars)
        rows, first = self.rows.extend(feature_rows(high, low, close, self.rsi.feed(close, start), start))
        closes, _ = self.closes.extend(close[start:])
        self.p_up = p_up = self._p_up(rows, next_bar_up(closes), first)
        # NaN (no model yet, or a bar without features) compares False: flat.
        direction = (p_up > 0.5 + self.strategy.threshold).astype(np.int8)
        if self.strategy.allows_short:
            direction -= (p_up < 0.5 - self.strategy.threshold).astype(np.int8)
        return direction

    def _p_up(self, rows: np.ndarray, label: np.ndarray, first: int) -> np.ndarray:
        """P(up) of the chunk's bars ``rows[first:]``, refitting where the schedule says."""
        g0 = self.bars  # the chunk's first bar
        offset = g0 - first  # the bar of rows[0]
        end = offset + len(rows)
        p_up = np.full(len(rows) - first, np.nan)

        def predict(lo: int, hi: int) -> None:  # bars [lo, hi) with the model in force
            if self.model is not None and hi > lo:
                p_up[lo - g0 : hi - g0] = predict_up(self.model, rows[lo - offset : hi - offset])

        blocks = walk_forward_schedule(end, self.strategy.train, self.strategy.retrain, start=g0)
        predict(g0, blocks[0].fit_at if blocks else end)  # the model carried from the last chunk
        for b in blocks:
            self.model = fit_window(rows[b.lo - offset : b.hi - offset], label[b.lo - offset : b.hi - offset])
            predict(b.fit_at, b.until)
        p_up[~np.isfinite(rows[first:]).all(axis=1)] = np.nan  # a bar with broken prices gets no opinion
        return p_up

    def retained(self) -> dict[str, int]:
        return {**self.prices.sizes(), "feature_rows": len(self.rows), "label_closes": len(self.closes)}


__all__ = ["FEATURE_WARMUP", "MlBasic", "Refit", "fit_logistic", "market_features", "walk_forward_schedule"]
