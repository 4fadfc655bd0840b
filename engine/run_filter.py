"""What a list of stored runs shows and how it is narrowed: plain values, no database.

Kept apart from :mod:`engine.run_index` (the SQL) so that History can hold and parse
them without importing SQLAlchemy before its first frame.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from engine.enums import RunKind

__all__ = ["FIELDS", "RunFilter", "RunSummary", "RunPage"]

# Qualified filter words, e.g. ``strategy:sma symbol:btc kind:replay``.
FIELDS = ("strategy", "symbol", "kind")


@dataclass(frozen=True)
class RunFilter:
    """What a list is narrowed to; every part must hold (AND).

    ``words`` match anywhere in the strategy, symbol, kind or parameters (case-insensitive,
    as substrings); ``strategy``/``symbol``/``kind`` only there; ``params`` are exact
    name=value pairs of the strategy's parameters."""

    words: tuple[str, ...] = ()
    strategy: str = ""
    symbol: str = ""
    kind: str = ""
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> "RunFilter":
        """``sma btc``, ``strategy:sma symbol:"BTC/USDT" kind:replay fast=10``; quotes group words."""
        tokens = text.split()
        for closing in ("", '"', "'"):  # a quote the user has not closed yet counts as closed
            try:
                tokens = shlex.split(text + closing)
                break
            except ValueError:
                continue
        words: list[str] = []
        fields: dict[str, str] = {}
        params: list[tuple[str, str]] = []
        for token in tokens:
            name, colon, value = token.partition(":")
            if colon and name.lower() in FIELDS:
                if value:
                    fields[name.lower()] = value
                continue
            name, equals, value = token.partition("=")
            if equals and name and value:
                params.append((name, value))
            elif token:
                words.append(token)
        return cls(tuple(words), params=tuple(params), **fields)

    def __bool__(self) -> bool:
        return bool(self.words or self.strategy or self.symbol or self.kind or self.params)


@dataclass(frozen=True)
class RunSummary:
    """One run as a list shows it: no trades, no equity curve, three numbers of its metrics."""

    id: int
    kind: RunKind
    created_at: datetime
    strategy: str
    symbol: str
    timeframe: str
    data_source: str
    period_start: Optional[datetime]
    period_end: Optional[datetime]
    params: dict[str, Any]
    parent_run_id: Optional[int]
    total_return_pct: Optional[float]
    max_drawdown_pct: Optional[float]
    trades: Optional[int]


@dataclass(frozen=True)
class RunPage:
    """``rows`` are the runs ``offset`` to ``offset + len(rows)`` of the ``total`` that match."""

    offset: int
    total: int
    rows: tuple[RunSummary, ...]
