"""Which exchange ids ccxt knows, without paying for ccxt's import.

The Backtest form checks an exchange id as it is typed, the settings loader checks
the default exchange on every start and the downloader checks before its first
request: all by :func:`exchange_problem`. Importing ccxt takes over half a second
(every exchange class is loaded), so the id list is read from the literal
``exchanges = [...]`` in ccxt's ``__init__.py``; if a ccxt release ever spells it
differently, ccxt is imported after all. A test holds the two equal.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import re
from functools import lru_cache
from pathlib import Path
from typing import Optional

_LIST = re.compile(r"^exchanges = (\[.*?\])", re.MULTILINE | re.DOTALL)


def _read_list() -> Optional[tuple[str, ...]]:
    spec = importlib.util.find_spec("ccxt")
    if spec is None or spec.origin is None:
        return None
    try:
        match = _LIST.search(Path(spec.origin).read_text(encoding="utf-8"))
        ids = ast.literal_eval(match.group(1)) if match else None
    except (OSError, ValueError, SyntaxError):
        return None
    if not isinstance(ids, list) or len(ids) < 10 or not all(isinstance(i, str) for i in ids):
        return None
    return tuple(ids)


@lru_cache(maxsize=1)
def known_exchanges() -> tuple[str, ...]:
    """ccxt's exchange ids, in its order."""
    ids = _read_list()
    if ids is None:
        import ccxt

        ids = tuple(ccxt.exchanges)
    return ids


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def exchange_problem(exchange_id: str) -> Optional[str]:
    """None for an id ccxt knows; else one line saying what is wrong (with a guess)."""
    text = exchange_id.strip()
    if not text:
        return "an exchange id is needed, e.g. binance or kraken"
    known = known_exchanges()
    if text in known:
        return None
    guess = suggest(text.lower(), known)
    return f"unknown exchange {text!r}" + (guess or f"; ccxt knows {len(known)}, e.g. binance, kraken, coinbase, bybit, okx")
