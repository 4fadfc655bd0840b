"""Download candles from an exchange through ccxt, page by page, into the local cache.

Exchanges hand out history a few hundred candles per request, throttle callers who
ask too fast, and drop connections. This module pages through a range, spaces and
retries requests, turns ccxt's exceptions into one-line errors a trader can act on,
and goes through :mod:`engine.data.cache` so only missing candles are ever fetched.
ccxt is imported on first use: it is slow to import and most sessions never download.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.data.cache import Interval, cache_path, default_cache_dir, missing_intervals, read_cache, write_cache
from engine.data.frame import empty_frame, make_frame
from engine.source_checks import timeframe_ms
from engine.data.validate import fmt_time, validate_candles
from engine.errors import DataError, ExchangeError, InputError
from engine.exchange_ids import exchange_problem, suggest

log = logging.getLogger(__name__)
Progress = Callable[[int, "int | None"], None]
DEFAULT_PAGE_LIMIT = 500
MAX_BACKOFF_S = 60.0


class DownloadCancelled(Exception):
    """The caller's cancel event was set. Candles downloaded so far are kept in the cache."""


def _now_ms() -> int:
    return int(time.time() * 1000)


def parse_when(value: Any, name: str) -> int | None:
    """Epoch milliseconds from a datetime, date, pandas Timestamp or ISO text (naive = UTC)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(f"{name}: expected a date, got {value!r}")
    try:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                raise ValueError(text)
            stamp = pd.to_datetime(text, format="ISO8601", utc=True)
        elif isinstance(value, (int, np.integer)):
            stamp = pd.Timestamp(int(value), unit="ms", tz="UTC")
        elif isinstance(value, (dt.date, np.datetime64, pd.Timestamp)):
            stamp = pd.Timestamp(value)
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        else:
            raise TypeError(type(value).__name__)
        if pd.isna(stamp):
            raise ValueError(value)
    except (ValueError, TypeError, OverflowError):
        raise InputError(f"{name}: cannot read {value!r} as a date "
                         f"(use ISO 8601 like 2024-01-31 or 2024-01-31T13:00)") from None
    return int(stamp.value // 1_000_000)


def _short(exc: BaseException | None) -> str:
    if exc is None:
        return "no response"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _check_exchange_id(ccxt: Any, exchange_id: str) -> None:
    if exchange_id not in ccxt.exchanges:
        # The form and the settings say the same, as the id is typed (engine.exchange_ids).
        raise InputError(exchange_problem(exchange_id) or f"unknown exchange {exchange_id!r}", "exchange")


def _make_client(ccxt: Any, exchange_id: str) -> Any:
    _check_exchange_id(ccxt, exchange_id)
    return getattr(ccxt, exchange_id)({"enableRateLimit": True})


class _Exchange:
    """One client, with request spacing, retries and error translation."""

    def __init__(self, client: Any, exchange_id: str, ccxt: Any, *, sleep: Callable[[float], Any],
                 clock: Callable[[], float], attempts: int, own_throttle: bool,
                 cancel: threading.Event | None = None):
        self.client, self.id, self.ccxt = client, exchange_id, ccxt
        self.cancel = cancel
        self.sleep, self.clock, self.attempts = sleep, clock, attempts
        # A client we built throttles itself (enableRateLimit); a client handed to us
        # may be a bare subclass or a stand-in, so we space its calls ourselves.
        self.spacing = float(getattr(client, "rateLimit", 0) or 0) / 1000 if own_throttle else 0.0
        self._last_call: float | None = None

    def _throttle(self) -> None:
        if self.spacing > 0 and self._last_call is not None:
            wait = self._last_call + self.spacing - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last_call = self.clock()

    def backoff(self, attempt: int) -> float:
        return min(max(1.0, self.spacing) * 2 ** (attempt - 1), MAX_BACKOFF_S)

    def call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        ccxt, last = self.ccxt, None
        for attempt in range(1, self.attempts + 1):
            self._throttle()
            try:
                return fn(*args, **kwargs)
            except (ccxt.NetworkError, ConnectionError, TimeoutError) as exc:
                last = exc
            except ccxt.BadSymbol as exc:
                raise InputError(f"{self.id} rejected the market while {what}: {_short(exc)}", "symbol") from exc
            except (ccxt.AuthenticationError, ccxt.PermissionDenied) as exc:
                raise ExchangeError(f"{self.id} refused {what} (it wants API keys or permissions): "
                                    f"{_short(exc)}") from exc
            except ccxt.BaseError as exc:
                raise ExchangeError(f"{self.id} refused {what}: {_short(exc)}") from exc
            if attempt < self.attempts:
                delay = self.backoff(attempt)
                self.sleep(delay)
                # A cancel during the backoff ends the download now, not after every retry.
                _check_cancel(self.cancel, f"{self.id} ({what})")
                if self._last_call is not None:
                    self._last_call -= delay  # the backoff already spaced the next call
        raise ExchangeError(f"cannot reach {self.id} (network error after {self.attempts} attempts "
                            f"while {what}): {_short(last)}") from last

    def resolve_market(self, symbol: str, timeframe: str) -> str:
        """The exchange's own spelling of ``symbol``, after checking it offers candles at all."""
        has = getattr(self.client, "has", None) or {}
        if not has.get("fetchOHLCV"):
            raise InputError(f"{self.id} does not provide candle history (no fetchOHLCV in ccxt)", "exchange")
        timeframes = getattr(self.client, "timeframes", None) or {}
        if timeframes and timeframe not in timeframes:
            raise InputError(f"{self.id} has no {timeframe} candles (it offers: {', '.join(timeframes)})", "timeframe")
        markets = self.call("loading its markets", self.client.load_markets) or {}
        if symbol in markets:
            return symbol
        if symbol.upper() in markets:
            return symbol.upper()
        by_id = getattr(self.client, "markets_by_id", None) or {}
        if symbol in by_id and by_id[symbol]:
            entry = by_id[symbol]
            return (entry[0] if isinstance(entry, list) else entry)["symbol"]
        raise InputError(f"{self.id} has no market {symbol!r}{suggest(symbol.upper(), list(markets))}", "symbol")

    def page_limit(self, symbol: str) -> int:
        """The largest page the exchange serves, from ccxt's feature table when it has one."""
        features = getattr(self.client, "features", None) or {}
        market = (getattr(self.client, "markets", None) or {}).get(symbol) or {}
        node = features.get(market.get("type") or "spot") or {}
        if isinstance(node, dict) and "fetchOHLCV" not in node:
            node = node.get(market.get("subType") or "linear") or {}
        limit = ((node or {}).get("fetchOHLCV") or {}).get("limit") if isinstance(node, dict) else None
        return int(limit) if isinstance(limit, (int, float)) and limit > 0 else DEFAULT_PAGE_LIMIT


def _rows_to_arrays(rows: list[list[Any]]) -> tuple[np.ndarray, np.ndarray]:
    table = np.array([list(r[:6]) + [None] * (6 - len(r)) for r in rows], dtype=np.float64).reshape(-1, 6)
    volume = table[:, 5]
    volume[np.isnan(volume)] = 0.0  # some exchanges send no volume; zero is the honest fill
    return table[:, 0].astype(np.int64), table[:, 1:]


def _merge(frame: pd.DataFrame, rows: list[list[Any]], *, source: str, symbol: str, timeframe: str) -> pd.DataFrame:
    """Cached candles plus new rows, sorted, newer rows winning on equal timestamps."""
    new_ms, new_values = _rows_to_arrays(rows)
    ms = np.concatenate([frame.index.as_unit("ms").asi8, new_ms])
    values = np.concatenate([frame.to_numpy(dtype=np.float64), new_values])
    order = np.argsort(ms, kind="stable")
    ms, values = ms[order], values[order]
    keep = np.append(ms[1:] != ms[:-1], True) if len(ms) else np.zeros(0, dtype=bool)
    return make_frame(pd.to_datetime(ms[keep], unit="ms", utc=True), values[keep], source=source,
                      symbol=symbol, timeframe=timeframe)


def _validated(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    ns = frame.index.asi8
    return validate_candles(frame, label, locate=lambda i: f"candle at {fmt_time(ns[i])}")


def _check_cancel(cancel: threading.Event | None, label: str) -> None:
    if cancel is not None and cancel.is_set():
        raise DownloadCancelled(f"download of {label} cancelled")


def _fetch_gaps(exchange: _Exchange, market: str, timeframe: str, gaps: list[Interval],
                cancel: threading.Event | None, label: str, rows: list[list[Any]], fetched: list[Interval],
                on_page: Callable[[int], None]) -> None:
    """Page through each gap, appending candles to ``rows`` and covered ranges to ``fetched``.

    The lists are filled in place so that, if a page fails or the caller cancels,
    everything before it can still be cached.
    """
    limit = exchange.page_limit(market)
    # The shortest possible gap between two candles: calendar months can be 28 days.
    spacing = timeframe_ms(timeframe) * (28 if timeframe.endswith("M") else 30) // 30
    for gap_start, gap_end in gaps:
        cursor = gap_start
        while cursor < gap_end:
            _check_cancel(cancel, label)
            batch = exchange.call(f"downloading {timeframe} candles", exchange.client.fetch_ohlcv,
                                  market, timeframe, since=cursor, limit=limit) or []
            # Some exchanges repeat the candle at `since` or send older ones; only newer count.
            page = [r for r in batch if r and r[0] is not None and int(r[0]) >= cursor]
            if not page:  # nothing new: the exchange has no more candles in this range
                fetched.append((cursor, gap_end))
                break
            last = max(int(r[0]) for r in page)
            in_range = [r for r in page if int(r[0]) < gap_end]
            rows += in_range
            # Candles are a timeframe apart, so once the next one would start at or past
            # the end, asking again would only return candles we drop.
            page_start, cursor = cursor, (gap_end if last + spacing >= gap_end else last + 1)
            fetched.append((page_start, cursor))
            on_page(len(in_range))


def download_candles(exchange_id: str, symbol: str, timeframe: str, since: Any, until: Any = None, *,
                     cache_dir: str | Path | None = None, client: Any = None, progress: Progress | None = None,
                     cancel: threading.Event | None = None, sleep: Callable[[float], Any] = time.sleep,
                     max_retries: int = 5, clock: Callable[[], float] = time.monotonic) -> pd.DataFrame:
    """Closed candles with open time in [since, until) from ``exchange_id``, via the local cache.

    ``until=None`` means up to now. Only ranges the cache has not covered are
    requested. ``max_retries`` is the number of attempts per request on network
    errors (with exponential backoff through ``sleep``). ``progress(done, total)`` is
    called after each page (total is an estimate, or None for month/year candles).
    Raises InputError for bad arguments, ExchangeError when the exchange cannot be
    reached or refuses, DataError when it returns unusable candles, and
    DownloadCancelled when ``cancel`` is set (what was fetched so far stays cached).
    """
    if max_retries < 1:
        raise InputError(f"max_retries must be at least 1, got {max_retries}")
    exchange_id = (exchange_id or getattr(client, "id", "") or "").strip().lower()
    symbol, timeframe = (symbol or "").strip(), (timeframe or "").strip()
    if not symbol:
        raise InputError("no symbol given (e.g. BTC/USDT)", "symbol")
    tf_ms = timeframe_ms(timeframe)
    start, until_ms = parse_when(since, "since"), parse_when(until, "until")
    if start is None:
        raise InputError("since: a start date is required")
    if until_ms is not None and until_ms <= start:
        raise InputError(f"until ({fmt_time(until_ms * 10**6)}) must be after since ({fmt_time(start * 10**6)})")
    # Only closed candles: the one still forming would be cached with a close that changes.
    end = _now_ms() - tf_ms + 1 if until_ms is None else min(until_ms, _now_ms() - tf_ms + 1)
    if end <= start:
        raise InputError(f"no closed {timeframe} candle after {fmt_time(start * 10**6)} yet")

    import ccxt  # slow import, so only here

    label = f"{exchange_id} {symbol} {timeframe}"
    if client is None:
        _check_exchange_id(ccxt, exchange_id)
    path = cache_path(cache_dir if cache_dir is not None else default_cache_dir(), exchange_id, symbol, timeframe)
    cached = read_cache(path, source=label, symbol=symbol, timeframe=timeframe)
    frame = cached.frame if cached else empty_frame(source=label, symbol=symbol, timeframe=timeframe)
    coverage: list[Interval] = list(cached.coverage) if cached else []
    total = None if timeframe[-1] in "My" else math.ceil((end - start) / tf_ms)
    index_ms = frame.index.as_unit("ms").asi8
    done = int(((index_ms >= start) & (index_ms < end)).sum())

    gaps = missing_intervals(coverage, start, end)
    if gaps:
        if cancel is not None and sleep is time.sleep:
            sleep = cancel.wait  # a backoff (up to a minute) ends as soon as the trader cancels
        exchange = _Exchange(client if client is not None else _make_client(ccxt, exchange_id), exchange_id, ccxt,
                             sleep=sleep, clock=clock, attempts=int(max_retries), own_throttle=client is not None,
                             cancel=cancel)
        rows: list[list[Any]] = []
        fetched: list[Interval] = []

        def on_page(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, total)

        try:
            _check_cancel(cancel, label)
            market = exchange.resolve_market(symbol, timeframe)
            on_page(0)
            _fetch_gaps(exchange, market, timeframe, gaps, cancel, label, rows, fetched, on_page)
        except (DownloadCancelled, ExchangeError):
            _save_partial(path, frame, rows, coverage + fetched, label, symbol, timeframe)
            raise
        frame = _merge(frame, rows, source=label, symbol=symbol, timeframe=timeframe)
        if len(frame):  # an empty answer is reported below, in terms of the requested range
            _write_quietly(path, _validated(frame, label), coverage + fetched)

    index_ms = frame.index.as_unit("ms").asi8
    result = frame.iloc[(index_ms >= start) & (index_ms < end)].copy()
    if result.empty:
        raise DataError(f"{label}: the exchange has no candles between {fmt_time(start * 10**6)} "
                        f"and {fmt_time(end * 10**6)}")
    result.attrs.update(source=label, symbol=symbol, timeframe=timeframe)
    if progress is not None:
        progress(len(result), len(result))
    return result


def _save_partial(path: Path, frame: pd.DataFrame, rows: list[list[Any]], coverage: list[Interval],
                  label: str, symbol: str, timeframe: str) -> None:
    """Keep what an interrupted download fetched, so the next run resumes instead of restarting."""
    if not rows:
        return
    try:
        merged = _validated(_merge(frame, rows, source=label, symbol=symbol, timeframe=timeframe), label)
    except DataError:
        return  # the interruption is the error to report; bad candles are not cached
    _write_quietly(path, merged, coverage)


def _write_quietly(path: Path, frame: pd.DataFrame, coverage: list[Interval]) -> None:
    # An unwritable cache (read-only home, full disk) costs the next run a re-download;
    # it must not throw away the candles this run already has.
    try:
        write_cache(path, frame, coverage)
    except OSError as exc:
        log.warning("cannot write candle cache %s: %s", path, exc)
