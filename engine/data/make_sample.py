"""Generate the embedded sample: two years of synthetic hourly BTC/USDT-like candles.

Run ``python -m engine.data.make_sample`` to rewrite ``sample_btcusdt_1h.parquet``
next to this file. The result is shipped rather than generated at run time because
numpy does not promise the same random stream across versions, and the sample must
be identical on every install (tests and screenshots depend on it).

The model, chosen to give strategies something realistic to chew on:

* a log-price anchor through hand-placed turning points loosely shaped like
  2023-2024 BTC (rallies, sell-offs, long ranges); the price mean-reverts to the
  anchor slowly, so trends and ranges emerge without being drawn exactly;
* GARCH(1,1) volatility with Student-t shocks (clustering and fat tails), higher in
  US/EU hours and lower at weekends;
* rare gaps where a bar opens away from the previous close;
* high and low sampled from the maximum/minimum of a Brownian bridge between open
  and close, so OHLC is consistent by construction;
* volume rising with volatility and with the size of the move.

Prices are stored in integer cents and volume in 1e-4 units (exact and compact).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SAMPLE_FILE = "sample_btcusdt_1h.parquet"
SEED = 20230101
START, END = "2023-01-01", "2025-01-01"  # hourly bars in [START, END)

# (date, anchor price): the macro path the simulated market is pulled towards.
TURNING_POINTS = [
    ("2023-01-01", 16_500), ("2023-01-14", 21_000), ("2023-02-25", 23_200),
    ("2023-03-10", 20_000), ("2023-04-14", 30_500), ("2023-06-15", 25_000),
    ("2023-07-10", 30_600), ("2023-09-11", 25_200), ("2023-10-15", 27_000),
    ("2023-12-08", 44_000), ("2024-01-23", 39_500), ("2024-03-14", 72_500),
    ("2024-05-01", 57_500), ("2024-06-06", 71_000), ("2024-08-05", 52_000),
    ("2024-10-01", 63_000), ("2024-11-13", 90_000), ("2024-12-17", 105_000),
    ("2025-01-01", 93_500),
]

PULL = 1 / 150          # per hour: how fast the price returns to the anchor
HOURLY_VOL = 0.0055     # long-run hourly volatility of log returns
GARCH_ALPHA, GARCH_BETA = 0.07, 0.91
T_DOF = 4.0
GAP_PROBABILITY = 0.004
BASE_VOLUME = 1_400.0   # BTC per hour at average volatility


def _anchor(index: pd.DatetimeIndex) -> np.ndarray:
    points = pd.DatetimeIndex([pd.Timestamp(d, tz="UTC") for d, _ in TURNING_POINTS])
    log_prices = np.log([p for _, p in TURNING_POINTS])
    return np.interp(index.asi8.astype(float), points.asi8.astype(float), log_prices)


def _session_factor(index: pd.DatetimeIndex) -> np.ndarray:
    hour = index.hour.to_numpy()
    # Busiest when Europe and the US overlap, quietest in the late US evening.
    intraday = 1.0 + 0.25 * np.exp(-0.5 * ((hour - 15) / 3.0) ** 2) - 0.12 * np.exp(-0.5 * ((hour - 3) / 2.5) ** 2)
    weekend = np.where(index.day_of_week.to_numpy() >= 5, 0.75, 1.0)
    return intraday * weekend


def build_sample(seed: int = SEED) -> pd.DataFrame:
    """The sample as a float frame (before rounding to cents for storage)."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(START, END, freq="1h", tz="UTC", inclusive="left")
    n = len(index)
    anchor = _anchor(index)
    session = _session_factor(index)
    # Fat tails, but no 15-sigma hours: those read as data errors, not markets.
    shocks = np.clip(rng.standard_t(T_DOF, n) / np.sqrt(T_DOF / (T_DOF - 2)), -6.0, 6.0)
    gaps = np.where(rng.random(n) < GAP_PROBABILITY, rng.normal(0.0, 1.0, n), 0.0)
    omega = (1 - GARCH_ALPHA - GARCH_BETA) * HOURLY_VOL ** 2

    log_open = np.empty(n)
    log_close = np.empty(n)
    sigma = np.empty(n)
    variance = HOURLY_VOL ** 2
    previous = np.log(16_500.0)
    last_shock = 0.0
    for t in range(n):  # GARCH is recursive; 17,544 steps take a few milliseconds
        variance = omega + GARCH_ALPHA * last_shock ** 2 + GARCH_BETA * variance
        sigma[t] = np.sqrt(variance) * session[t]
        opened = previous + (gaps[t] * 3.0 * sigma[t] if t else 0.0)
        last_shock = sigma[t] * shocks[t]
        closed = opened + PULL * (anchor[t] - opened) + last_shock
        log_open[t], log_close[t] = opened, closed
        previous = closed

    move = log_close - log_open
    # Max and min of a Brownian bridge from 0 to `move` with variance sigma^2.
    spread_hi = np.sqrt(move ** 2 - 2 * sigma ** 2 * np.log(rng.random(n)))
    spread_lo = np.sqrt(move ** 2 - 2 * sigma ** 2 * np.log(rng.random(n)))
    log_high = log_open + (move + spread_hi) / 2
    log_low = log_open + (move - spread_lo) / 2

    vol_ratio = sigma / (HOURLY_VOL * session.mean())
    volume = BASE_VOLUME * session * vol_ratio ** 1.2 * (1 + 40 * np.abs(move)) \
        * np.exp(rng.normal(-0.08, 0.4, n))

    frame = pd.DataFrame({"open": np.exp(log_open), "high": np.exp(log_high), "low": np.exp(log_low),
                          "close": np.exp(log_close), "volume": volume},
                         index=index.as_unit("ns").rename("timestamp"))
    return frame


def to_storage(frame: pd.DataFrame):
    """A pyarrow table of integer cents / 1e-4 volume units, compact and exact."""
    import pyarrow as pa

    cents = {c: np.round(frame[c].to_numpy() * 100).astype(np.int64) for c in ("open", "high", "low", "close")}
    # Rounding to cents is monotonic, so high >= open/close >= low survives it.
    return pa.table({
        "timestamp": pa.array(frame.index.as_unit("ms").asi8, type=pa.int64()),
        **{f"{c}_cents": pa.array(v) for c, v in cents.items()},
        "volume_e4": pa.array(np.round(frame["volume"].to_numpy() * 10_000).astype(np.int64)),
    })


def write_sample(path: Path) -> Path:
    import pyarrow.parquet as pq

    table = to_storage(build_sample())
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd", compression_level=19, use_dictionary=False,
                   column_encoding="DELTA_BINARY_PACKED")
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path(__file__).with_name(SAMPLE_FILE)
    write_sample(path)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
