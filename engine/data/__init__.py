"""Candle data: files, the embedded sample, a synthetic generator and exchange downloads.

Every source returns the same canonical frame (see :mod:`engine.data.frame`) and
passes the same validation (:mod:`engine.data.validate`), so nothing downstream
needs to know where candles came from. Importing this package is cheap: ccxt is
imported only when a download actually starts.
"""

from engine.data.exchange import DownloadCancelled, download_candles
from engine.data.frame import CANDLE_COLUMNS, infer_timeframe
from engine.source_checks import timeframe_ms
from engine.data.loader import load_candles
from engine.data.sample import SAMPLE_SOURCE, sample_candles, synthetic_bars
from engine.data.validate import validate_candles

__all__ = [
    "CANDLE_COLUMNS",
    "DownloadCancelled",
    "SAMPLE_SOURCE",
    "download_candles",
    "infer_timeframe",
    "load_candles",
    "sample_candles",
    "synthetic_bars",
    "timeframe_ms",
    "validate_candles",
]
