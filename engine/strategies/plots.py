"""What a strategy draws: its indicators as series a chart can show beside the candles.

A replay is only readable if the trader sees what the strategy saw, so each strategy
names its own lines (both SMAs, the Donchian channel, RSI with its levels). Values
are per bar and use bars ``0..i`` only, like the signals, so a chart cut at the
cursor shows nothing from the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

PRICE = "price"  # drawn over the candles, on their scale
LOWER = "lower"  # a sub-panel under the candles, on its own scale


@dataclass(frozen=True)
class Plot:
    label: str
    values: np.ndarray  # float64, one per bar, NaN during the warm-up
    pane: str = PRICE
    guides: tuple[float, ...] = ()  # reference levels of a lower pane (RSI's oversold line, say)
    bounds: Optional[tuple[float, float]] = None  # a lower pane's fixed scale (RSI: 0..100)
