"""A fingerprint of a run's candles, so a replay can tell that its data has changed.

Stored with every run; a replay recomputes it from the candles it loads and refuses to
pretend that a different market is the one the run saw.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

COLUMNS = ("open", "high", "low", "close", "volume")


def candles_fingerprint(candles: pd.DataFrame) -> str:
    """32 hex digits over the timestamps and OHLCV values (bytes, not text: ~50 ms per million bars)."""
    digest = hashlib.blake2b(digest_size=16)
    index = pd.DatetimeIndex(candles.index)
    digest.update(np.ascontiguousarray(index.as_unit("ns").asi8).tobytes())
    for name in COLUMNS:
        if name in candles.columns:
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(candles[name].to_numpy(dtype=np.float64)).tobytes())
    return digest.hexdigest()
