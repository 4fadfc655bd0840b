"""A session's results in the backtest's own shape, so scripts read both the same way.

Built from what is committed (trades, fills, the equity after each candle), not from
memory: a resumed session reports everything since it was first started.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from engine.source_checks import timeframe_ms
from engine.export import run_document
from engine.metrics import compute_metrics
from engine.runner import BacktestResult
from engine.session import store
from engine.session.codec import position_to_dict
from engine.session.session import LiveSession


def book_result(session: LiveSession, symbol: str) -> BacktestResult:
    """One book as a backtest result: its trades, fills, equity curve and metrics."""
    db, config = session.db, session.config
    book = session.books[symbol]
    rows = store.session_equity(db, session.id, symbol)
    settings = config.book_settings
    step = timeframe_ms(config.timeframe)
    # Bars before the first recorded one (the strategy's warm-up) and the bar now forming,
    # where manual fills land, get times on the candle grid.
    first = rows[0].bar if rows else book.bars
    start_ms = rows[0].time_ms - first * step if rows else (book.last_candle_ms or 0) - (book.bars - 1) * step
    count = book.bars + 1
    times = pd.to_datetime(start_ms + np.arange(count, dtype=np.int64) * step, unit="ms", utc=True)
    equity = np.full(count, settings.balance)
    close = np.full(count, np.nan)
    for row in rows:
        equity[row.bar], close[row.bar] = row.equity, row.close
    equity[-1] = book.equity()
    close[-1] = book.last_price if book.last_price is not None else np.nan
    close = pd.Series(close).ffill().bfill().to_numpy()
    candles = pd.DataFrame({"close": close}, index=times)
    candles.attrs.update(symbol=symbol, timeframe=config.timeframe, source=f"{config.feed} feed")
    trades = store.session_trades(db, session.id, symbol)
    fills = [store.as_fill_record(f) for f in store.session_fills(db, session.id, symbol)]
    base = config.base
    metrics = compute_metrics(
        trades, equity, times, initial_balance=settings.balance, first_price=float(close[0]),
        last_price=float(close[-1]), bars_in_market=book.engine.state.bars_in_market,
    )
    return BacktestResult(replace(base, balance=settings.balance), candles, trades, fills,
                          equity, metrics, book.engine.state.bars_in_market)


def session_document(session: LiveSession) -> dict[str, Any]:
    """One symbol: the backtest's JSON object; several: one such object per symbol under
    ``books``. Either way with the session's name, status and ``open_positions``."""
    books = {symbol: run_document(book_result(session, symbol), None) for symbol in session.books}
    open_positions = [
        {"symbol": symbol, **position_to_dict(pos), "last_price": session.books[symbol].last_price,
         "unrealized_pnl": pos.unrealized_pnl(session.books[symbol].last_price or pos.avg_entry_price)}
        for symbol, pos in session.open_positions().items()
    ]
    row = store.get_session(session.db, session.config.name)
    head = {"session": session.config.name, "session_id": session.id, "mode": session.config.mode,
            "status": row.status if row is not None else "", "feed": session.config.feed}
    if len(books) == 1:
        return {**head, **next(iter(books.values())), "open_positions": open_positions}
    return {**head, "books": books, "open_positions": open_positions}


def session_json(session: LiveSession) -> str:
    import json

    return json.dumps(session_document(session), allow_nan=False, default=str)
