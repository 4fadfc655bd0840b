"""The ccxt client a session talks to: the exchange, its test network, or another root.

``--api-url`` re-roots every REST endpoint of the exchange (keeping each one's path), so
a gateway, a testnet mirror or a test server speaking the exchange's dialect can stand in
for the real one.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlparse

from engine.errors import InputError


def _reroot(urls: Any, root: str) -> Any:
    if isinstance(urls, dict):
        return {k: _reroot(v, root) for k, v in urls.items()}
    if isinstance(urls, str) and urls.startswith("http"):
        return root.rstrip("/") + urlparse(urls).path
    return urls


def exchange_client(exchange_id: str, *, sandbox: bool = False, api_url: str = "",
                    credentials: Optional[dict[str, str]] = None, timeout_ms: int = 10_000) -> Any:
    import ccxt

    if exchange_id not in ccxt.exchanges:
        raise InputError(f"--exchange: {exchange_id!r} is not a ccxt exchange id (e.g. binance, kraken, bybit)")
    options: dict[str, Any] = {"enableRateLimit": True, "timeout": timeout_ms, **(credentials or {})}
    if exchange_id == "binance":
        options["options"] = {"fetchMarkets": {"types": ["spot"]}}  # spot only: no futures markets to load
    client = getattr(ccxt, exchange_id)(options)
    if sandbox:
        try:
            client.set_sandbox_mode(True)
        except ccxt.NotSupported:
            raise InputError(f"--sandbox: {exchange_id} has no test network in ccxt") from None
    if api_url:
        if not api_url.startswith(("http://", "https://")):
            raise InputError(f"--api-url: expected an http(s) URL, got {api_url!r}")
        client.urls["api"] = _reroot(client.urls["api"], api_url)
    return client
