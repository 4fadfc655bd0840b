"""What a live session needs to place orders: the exchange client with the trader's keys
from the OS keyring, and a broker whose orders are committed to the session's database."""

from __future__ import annotations

from typing import Any, Callable, Optional

from sqlalchemy.engine import Engine as Database

from engine.errors import InputError
from engine.session.config import SessionConfig


def live_exchange(config: SessionConfig, db: Database, keyring: Optional[Any] = None) -> tuple[Any, Callable[[int], Any]]:
    """(client, broker factory); InputError when no keys are stored or no keyring exists."""
    from engine.session.credentials import ccxt_options, load_credentials
    from engine.session.exchange_broker import ExchangeBroker
    from engine.session.exchange_client import exchange_client
    from engine.session.order_store import SqlOrderStore

    creds = load_credentials(config.exchange, keyring)
    if creds is None:
        raise InputError(f"no API keys for {config.exchange} in the OS keyring: add them in the TUI "
                         "(Settings, then API keys…) first")
    client = exchange_client(config.exchange, sandbox=config.sandbox, api_url=config.api_url,
                             credentials=ccxt_options(creds))
    return client, lambda session_id: ExchangeBroker(client, SqlOrderStore(db, session_id))
