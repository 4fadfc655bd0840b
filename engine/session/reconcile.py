"""Reconciliation: does the exchange agree with what a live session's database believes?

Run when a live session starts or resumes, before it trades. It asks the exchange what
became of every order left unsettled, then checks two things against the session's
record: every fill the exchange made for the session's orders is one the session has
recorded, and each book's position is covered by the account's balance of its base
asset. It only reports: a difference it can explain (an order's fate learnt, fees taken
in the base asset, a lot step of rounding) is a line in ``resolved``; anything else is a
line in ``unexplained``, and the session halts on it (fail closed) and shows the lines
to the trader. It never invents a fill or changes a book: a trade the session did not
see is for the trader to settle.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional, Protocol

from engine.errors import ExchangeError, InputError
from engine.session.orders import OrderRecord, OrderStatus, num, readable

_FATE_UNKNOWN = (OrderStatus.NEW, OrderStatus.SENT, OrderStatus.UNKNOWN)


class OrderLedger(Protocol):
    def orders(self) -> list[OrderRecord]:
        """Every order of the session, oldest first."""


@dataclass
class Reconciliation:
    """What reconciling found: ``ok`` when nothing is left unexplained."""

    resolved: list[str] = field(default_factory=list)  # differences explained, one line each
    unexplained: list[str] = field(default_factory=list)  # what the session must not trade past
    balances: dict[str, tuple[float, float]] = field(default_factory=dict)  # asset -> (free, locked), as read

    @property
    def ok(self) -> bool:
        return not self.unexplained

    def report(self) -> str:
        """The lines for the trader: what could not be explained first."""
        if self.ok:
            head = ["The exchange agrees with the session."]
        else:
            head = ["Cannot trade on: the exchange and the session disagree.", *(f"  ! {u}" for u in self.unexplained)]
        return "\n".join([*head, *(f"  - {r}" for r in self.resolved)])


def reconcile(broker: Any, store: OrderLedger, books: Mapping[str, float], quote: str, *,
              fills_known: Collection[str] | Mapping[str, float],
              sleep: Optional[Callable[[float], Any]] = None, retries: int = 5) -> Reconciliation:
    """Compare the exchange with the session; nothing is sent and nothing is written but order fates.

    ``books`` maps each traded symbol to the signed base quantity the session's database
    holds; ``fills_known`` holds the client order ids the session has recorded fills for
    (a mapping id -> recorded quantity also checks that no more filled than was recorded).
    ``quote`` is the session's quote currency, whose balance is read with the base assets'.
    Requests go through the broker's own retry (backoff, Retry-After, bans) where it has one
    and no ``sleep`` is given; otherwise through a small retry loop that waits with ``sleep``
    (the broker's sleep by default).
    """
    if retries < 1:
        raise ValueError("retries must be at least 1")
    result = Reconciliation()
    name = str(getattr(broker, "name", None) or getattr(broker.client, "id", "the exchange"))
    try:
        result.resolved.extend(broker.resolve_unresolved())
    except ExchangeError as exc:
        result.unexplained.append(f"could not ask {name} what became of the session's unsettled orders: {exc}")
    orders = _all_orders(store)
    _check_orders(orders, fills_known, name, result)
    call = _caller(broker, sleep, retries)
    try:
        balance = call(f"reading the balances on {name}", broker.client.fetch_balance)
    except ExchangeError as exc:
        result.unexplained.append(f"could not read the account's balances, so the positions are unchecked: {exc}")
        return result
    _check_balances(broker.client, call, books, quote, orders, balance, name, result)
    return result


# -- orders --------------------------------------------------------------------------------------


def _all_orders(store: Any) -> list[OrderRecord]:
    orders = store.orders
    return list(orders() if callable(orders) else orders.values())  # MemoryOrderStore keeps a dict


def _check_orders(orders: list[OrderRecord], fills_known: Collection[str] | Mapping[str, float], name: str,
                  result: Reconciliation) -> None:
    recorded = fills_known if isinstance(fills_known, Mapping) else None
    for order in orders:
        cid = order.client_order_id
        if order.status in _FATE_UNKNOWN:
            result.unexplained.append(f"{order.describe()} is still {order.status.lower()}: whether {name} placed "
                                      f"it is not known" + (f" ({order.message})" if order.message else ""))
        elif cid not in fills_known:
            if order.filled_qty > 0:
                result.unexplained.append(
                    f"{order.describe()} {order.outcome()} on {name}, but the session has no fill for it: "
                    f"it is not in the book and will not be added; settle it by hand")
        elif order.filled_qty <= 0:
            result.unexplained.append(f"the session recorded a fill of {order.describe()}, but {name} says: "
                                      f"{order.outcome()}")
        elif recorded is not None and order.filled_qty > recorded[cid] * (1 + 1e-9) + 1e-12:
            result.unexplained.append(
                f"{order.describe()} filled {num(order.filled_qty)} on {name}, but the session recorded "
                f"{num(recorded[cid])}: {num(order.filled_qty - recorded[cid])} {order.symbol} filled unseen")
    ours = {o.client_order_id for o in orders}
    for cid in sorted(set(fills_known) - ours):
        result.unexplained.append(f"the session recorded fills for order {cid}, which is not among its orders")


# -- balances ------------------------------------------------------------------------------------


def _check_balances(client: Any, call: Callable[..., Any], books: Mapping[str, float], quote: str,
                    orders: list[OrderRecord], balance: dict[str, Any], name: str, result: Reconciliation) -> None:
    groups: dict[str, list[tuple[str, float, float]]] = {}  # base asset -> (symbol, size, lot step)
    for symbol, size in books.items():
        try:
            market = _market(client, call, symbol, name)
        except InputError as exc:
            result.unexplained.append(f"{symbol}: cannot check the position: {exc}")
            continue
        base, step = market["base"], _step(client, market)
        if size < -step:
            result.unexplained.append(f"{symbol}: the book is short {num(-size)} {base}, which a spot account "
                                      f"cannot be")
        groups.setdefault(base, []).append((symbol, size, step))
    for asset in (*groups, quote):
        result.balances[asset] = _free_locked(balance, asset)
    for base, held in groups.items():  # symbols sharing a base asset draw on one balance
        longs = [(symbol, size, step) for symbol, size, step in held if size > 0]
        if longs:
            _check_long(base, longs, orders, result, name)


def _check_long(base: str, longs: list[tuple[str, float, float]], orders: list[OrderRecord],
                result: Reconciliation, name: str) -> None:
    free, locked = result.balances[base]
    have, need = free + locked, sum(size for _, size, _ in longs)
    short = need - have
    if short <= 1e-12:
        return
    symbols = [symbol for symbol, _, _ in longs]
    fees = sum(o.base_fee for o in orders if o.symbol in symbols and o.side == "buy" and o.filled_qty > 0)
    step = max(step for _, _, step in longs)
    label = " + ".join(symbols)
    what = (f"{label}: the book holds {num(need)} {base} but {name} has {num(have)} {base} "
            f"(free {num(free)}, locked {num(locked)})")
    if short <= fees + step + 1e-12:
        within = " plus ".join(part for part, amount in ((f"the fees taken in {base} ({num(fees)})", fees),
                                                          (f"one lot step ({num(step)})", step)) if amount)
        result.resolved.append(f"{what}: the {num(short)} {base} difference is within {within}")
    else:
        result.unexplained.append(f"{what}: {num(short)} {base} short, more than fees in {base} ({num(fees)}) "
                                  f"and rounding ({num(step)}) explain")


def _free_locked(balance: dict[str, Any], asset: str) -> tuple[float, float]:
    entry = balance.get(asset) or {}
    if entry.get("free") is None and entry.get("used") is None:  # some exchanges give only a total
        return float(entry.get("total") or 0.0), 0.0
    return float(entry.get("free") or 0.0), float(entry.get("used") or 0.0)


def _market(client: Any, call: Callable[..., Any], symbol: str, name: str) -> dict[str, Any]:
    if not getattr(client, "markets", None):
        call(f"loading the markets of {name}", client.load_markets)
    if symbol not in client.markets:
        raise InputError(f"{name} has no market {symbol!r}")
    return client.market(symbol)


def _step(client: Any, market: dict[str, Any]) -> float:
    """The market's lot step as a quantity (0 where its precision is in significant digits)."""
    import ccxt

    precision = (market.get("precision") or {}).get("amount")
    mode = getattr(client, "precisionMode", ccxt.TICK_SIZE)
    if precision is None or mode not in (ccxt.TICK_SIZE, ccxt.DECIMAL_PLACES):
        return 0.0
    return float(precision) if mode == ccxt.TICK_SIZE else 10.0 ** -int(precision)


# -- requests ------------------------------------------------------------------------------------


def _caller(broker: Any, sleep: Optional[Callable[[float], Any]], retries: int) -> Callable[..., Any]:
    """The broker's retrying call (backoff, Retry-After, bans), or a small loop of our own."""
    own = getattr(broker, "_call", None)
    if callable(own) and sleep is None:
        return own
    wait = sleep or getattr(broker, "sleep", None) or time.sleep

    def call(what: str, fn: Callable[..., Any], *args: Any) -> Any:
        import ccxt

        for attempt in range(1, retries + 1):
            try:
                return fn(*args)
            except ccxt.NetworkError as exc:
                if attempt == retries:
                    raise ExchangeError(f"no answer while {what} after {retries} attempts: "
                                        f"{readable(exc)}") from exc
                wait(min(0.5 * 2 ** (attempt - 1), 30.0))
            except ccxt.BaseError as exc:
                raise ExchangeError(f"refused {what}: {readable(exc)}") from exc
        raise AssertionError("retries must be at least 1")

    return call
