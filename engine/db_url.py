"""Database URLs as users type them: the PostgreSQL driver chosen, passwords never shown.

A user writes ``postgresql://user:pass@host/db``; SQLAlchemy maps a bare
``postgresql://`` to psycopg2, which atb-tui does not install. The ``postgres`` extra
(``pip install 'atb-tui[postgres]'``) brings psycopg 3, so a bare URL is pointed at it
here. A URL naming its driver (``postgresql+psycopg2://``, ``sqlite+pysqlite://``) is
left as it is.

Every message that shows a URL shows :func:`redacted` instead, so no password reaches a
screen or a log.
"""

from __future__ import annotations

import importlib
import re

__all__ = ["normalise_db_url", "redacted"]

# libpq takes ``postgres://`` as well as ``postgresql://``; SQLAlchemy only the latter.
_BARE_POSTGRES = re.compile(r"^(postgresql|postgres)://", re.IGNORECASE)
# scheme://user:PASSWORD@...: the password runs to the LAST "@", so a password holding an
# unescaped "@" is hidden whole (a later "@" in the path or query hides a little more).
_USERINFO_PASSWORD = re.compile(r"^([A-Za-z][\w+.-]*://[^:/?#@]*):.*@", re.DOTALL)
# ...?password=PASSWORD&...: libpq also reads a password from the query string.
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def _psycopg_importable() -> bool:
    try:
        importlib.import_module("psycopg")  # ImportError too when no libpq wrapper is available
    except ImportError:
        return False
    return True


def normalise_db_url(url: str) -> str:
    """``postgresql://`` (or ``postgres://``) -> ``postgresql+psycopg://`` when psycopg is
    importable; any other URL, one naming its driver included, comes back unchanged."""
    match = _BARE_POSTGRES.match(url)
    if match is None:
        return url
    rest = url[match.end():]
    if _psycopg_importable():
        return "postgresql+psycopg://" + rest
    return "postgresql://" + rest  # SQLAlchemy's default driver; open_db says if it is missing


def redacted(url: str) -> str:
    """``url`` with its password, in the user part or the query string, replaced by ``***``."""
    out = _USERINFO_PASSWORD.sub(r"\1:***@", url, count=1)
    return _QUERY_PASSWORD.sub(r"\1***", out)
