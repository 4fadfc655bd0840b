"""The exchange broker: the live session's real orders, through ccxt.

Unlike the simulated broker, an exchange can fail half-way: a request can time out
after the order was placed, and Binance takes a re-used client order id once the
earlier order is done, so a blind retry trades twice. Every order is therefore
committed before it is sent and carries a client order id; an order whose fate is
unknown is asked for by that id before anything is sent again, so one decision
never places two orders.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_CEILING, Decimal
from math import isfinite
from typing import Any, Optional

from engine.broker import Execution
from engine.errors import ExchangeError, InputError
from engine.models import utcnow
from engine.session.orders import (
    _FEE_UNREAD, _LIVE, OrderRecord, OrderRejected, OrderStatus, OrderStore, new_client_order_id, num, readable,
)


class ExchangeBroker:
    """Places, follows, cancels and reconciles real orders for one ccxt client."""

    def __init__(self, client: Any, store: OrderStore, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Any] = time.sleep, now: Callable[[], datetime] = utcnow,
                 retries: int = 5, backoff: tuple[float, float, float] = (0.5, 2.0, 30.0),
                 on_status: Optional[Callable[[str], Any]] = None,
                 new_client_id: Callable[[], str] = new_client_order_id, stop_limit_slack: float = 0.005) -> None:
        import ccxt  # whoever built the client imported it already; the engine's import stays light

        if retries < 1:
            raise ValueError("retries must be at least 1")
        self.x = ccxt
        self.client, self.store = client, store
        self.clock, self.sleep, self.now = clock, sleep, now
        self.retries, self.backoff = retries, backoff
        self.on_status, self.new_client_id = on_status, new_client_id
        self.stop_limit_slack = stop_limit_slack
        self._banned_until = float("-inf")
        self._rejections = (ccxt.InsufficientFunds, ccxt.InvalidOrder, ccxt.BadRequest, ccxt.OperationRejected)

    @property
    def name(self) -> str:
        return str(getattr(self.client, "id", "the exchange"))

    # -- sizes ------------------------------------------------------------------------

    def check_amount(self, symbol: str, qty: float, price: float) -> float:
        """``qty`` rounded down to the market's step; InputError if under its minimum size or notional."""
        market = self._market(symbol)
        if not (isfinite(qty) and qty > 0):
            raise InputError(f"order size must be a positive quantity, got {qty!r}")
        if not (isfinite(price) and price > 0):
            raise InputError(f"a price is needed to check the order's value, got {price!r}")
        amount = self._round_down(symbol, qty)
        least = self.minimum_qty(symbol, price)
        if amount < least * (1 - 1e-9):
            raise InputError(self._under_minimum(market, qty, amount, price, least))
        most = ((market.get("limits") or {}).get("amount") or {}).get("max")
        if most and amount > most:
            raise InputError(f"{num(amount)} {market['base']} is over {symbol}'s largest order of "
                             f"{num(most)} {market['base']}")
        return amount

    def minimum_qty(self, symbol: str, price: float) -> float:
        """The smallest quantity the market takes at ``price``: its minimum size and notional, on its step."""
        market = self._market(symbol)
        limits = market.get("limits") or {}
        least = Decimal(str((limits.get("amount") or {}).get("min") or 0))
        cost_min = (limits.get("cost") or {}).get("min")
        if cost_min and price > 0:
            least = max(least, Decimal(str(cost_min)) / Decimal(str(price)))
        step = self._step(market)
        if step:
            least = max(step, (least / step).to_integral_value(ROUND_CEILING) * step)
        return float(least)

    def _round_down(self, symbol: str, qty: float) -> float:
        try:
            return float(self.client.amount_to_precision(symbol, qty))
        except self.x.InvalidOrder:  # ccxt: it rounds to zero
            return 0.0

    def _step(self, market: dict[str, Any]) -> Optional[Decimal]:
        precision = (market.get("precision") or {}).get("amount")
        if precision is None:
            return None
        mode = getattr(self.client, "precisionMode", self.x.TICK_SIZE)
        if mode == self.x.TICK_SIZE:
            return Decimal(str(precision))
        if mode == self.x.DECIMAL_PLACES:
            return Decimal(1).scaleb(-int(precision))
        return None  # significant digits: no fixed step to round up to

    @staticmethod
    def _under_minimum(market: dict[str, Any], qty: float, amount: float, price: float, least: float) -> str:
        base, quote, symbol = market["base"], market["quote"], market["symbol"]
        amount_min = ((market.get("limits") or {}).get("amount") or {}).get("min") or 0.0
        if amount < amount_min * (1 - 1e-9) or amount == 0:
            return (f"{num(qty)} {base} is under {symbol}'s minimum order size of {num(amount_min)} {base}")
        cost_min = market["limits"]["cost"]["min"]
        return (f"{num(amount)} {base} at {num(price)} is {amount * price:.2f} {quote}, under {symbol}'s "
                f"minimum order value of {num(cost_min)} {quote} (at least {num(least)} {base})")

    # -- placing ----------------------------------------------------------------------------

    def market(self, symbol: str, side: str, qty: float, ref_price: Optional[float] = None) -> OrderRecord:
        """A market order, committed, sent once, and followed until it is done."""
        self._check_ban()
        side = _side(side)
        amount = self.check_amount(symbol, qty, ref_price or self._last_price(symbol))
        order = self._new(symbol, side, "market", amount, ref_price=ref_price)
        params = {"newClientOrderId": order.client_order_id}
        self._place(order, lambda: self.client.create_order(symbol, "market", side, amount, None, params))
        self._follow(order)
        return self._accepted(order)

    def place_stop(self, symbol: str, side: str, qty: float, stop_price: float) -> Optional[OrderRecord]:
        """A stop-loss resting on the exchange, or None where the market has no stop order type."""
        style = self._stop_style(symbol)
        if style is None:
            return None
        self._check_ban()
        side = _side(side)
        amount = self.check_amount(symbol, qty, stop_price)
        stop = float(self.client.price_to_precision(symbol, stop_price))
        limit = None
        if style == "limit":  # a stop-limit needs room below (sell) or above (buy) its trigger to fill
            slack = -self.stop_limit_slack if side == "sell" else self.stop_limit_slack
            limit = float(self.client.price_to_precision(symbol, stop * (1 + slack)))
        order = self._new(symbol, side, "stop_loss", amount, stop_price=stop)
        params = {"stopLossPrice": stop, "newClientOrderId": order.client_order_id}
        self._place(order, lambda: self.client.create_order(symbol, style, side, amount, limit, params))
        return self._accepted(order)

    def cancel(self, order: OrderRecord) -> OrderRecord:
        """Cancel a resting order; it ends CANCELLED with whatever part had filled (or FILLED if it won the race)."""
        if order.unresolved and not order.exchange_order_id:
            self.refresh(order)  # learn its id, or that it never existed
        if order.status not in _LIVE:
            return order
        try:
            answer = self._call(f"cancelling {order.describe()}", self.client.cancel_order,
                                order.exchange_order_id, order.symbol)
        except self.x.OrderNotFound:  # gone already: filled, cancelled elsewhere, or our lost cancel got through
            return self.refresh(order)
        self._apply(order, answer)
        return order

    def refresh(self, order: OrderRecord) -> OrderRecord:
        """Ask the exchange what became of ``order``, record it and save."""
        answer = self._ask(order)
        if answer is not None:
            self._apply(order, answer)
        elif order.exchange_order_id:  # it had been placed: cancelled without fills and since archived
            self._save(order, OrderStatus.CANCELLED, "no longer known to the exchange")
        else:
            self._save(order, OrderStatus.REJECTED, "not found on the exchange")
        return order

    def resolve_unresolved(self) -> list[str]:
        """Ask about every unresolved order in the store; one line per order whose record changed."""
        lines = []
        for order in self.store.unresolved():
            before = (order.status, order.filled_qty)
            self.refresh(order)
            if (order.status, order.filled_qty) != before:
                lines.append(f"{order.describe()} was {before[0].lower()}: {order.outcome()}")
        return lines

    def execution(self, order: OrderRecord) -> Execution:
        """The order's fill as the engine's tracker takes it; slippage is a cost (negative when it helped)."""
        if order.filled_qty <= 0:
            raise ValueError(f"{order.describe()} has no fill")
        slippage = 0.0
        if order.ref_price:
            sign = 1.0 if order.side == "buy" else -1.0
            slippage = sign * (order.avg_price - order.ref_price) * order.filled_qty
        return Execution(order.avg_price, order.filled_qty, order.fee, slippage)

    # -- the send protocol ---------------------------------------------------------------------

    def _new(self, symbol: str, side: str, kind: str, qty: float, **extra: Any) -> OrderRecord:
        stamp = self.now()
        order = OrderRecord(self.new_client_id(), symbol, side, kind, qty, created_at=stamp, updated_at=stamp,
                            **extra)
        self.store.save(order)  # durable before anything leaves: a crash now leaves a NEW order to reconcile
        return order

    def _place(self, order: OrderRecord, create: Callable[[], dict[str, Any]]) -> None:
        """Send until the exchange has the order or refused it; never while an earlier send may stand."""
        last: Optional[BaseException] = None
        for attempt in range(1, self.retries + 1):
            self._save(order, OrderStatus.SENT)
            try:
                answer: Optional[dict[str, Any]] = create()
            except self.x.NetworkError as exc:
                last, answer = exc, self._after_lost_answer(order, exc, attempt)
                if answer is None:
                    continue  # the exchange does not know it: the same client id may go again
            except self.x.BaseError as exc:
                answer = self._after_refusal(order, exc, resent=attempt > 1)
            self._apply(order, answer)
            return
        self._save(order, OrderStatus.REJECTED, f"not placed after {self.retries} attempts")
        raise ExchangeError(f"{self.name} did not take {order.describe()} after {self.retries} attempts: "
                            f"{self._reason(last)}")

    def _after_lost_answer(self, order: OrderRecord, exc: BaseException, attempt: int) -> Optional[dict[str, Any]]:
        self._save(order, OrderStatus.UNKNOWN, f"no answer: {self._reason(exc)}")
        self._pause(attempt, exc)
        found = self._ask(order)
        if found is not None:
            self._status(f"{order.describe()} had reached {self.name}: found by its client order id")
        return found

    def _after_refusal(self, order: OrderRecord, exc: BaseException, *, resent: bool) -> dict[str, Any]:
        """A refusal of a resend may be the earlier send standing ("Duplicate order"): ask first."""
        if resent or not isinstance(exc, (*self._rejections, self.x.AuthenticationError)):
            self._save(order, OrderStatus.UNKNOWN, f"{self.name} answered: {readable(exc)}")
            found = self._ask(order)
            if found is not None:
                return found
        text = f"{self.name} refused {order.describe()}: {readable(exc)}"
        self._save(order, OrderStatus.REJECTED, readable(exc))
        if isinstance(exc, self._rejections):
            raise OrderRejected(text) from exc
        raise ExchangeError(text) from exc

    def _ask(self, order: OrderRecord) -> Optional[dict[str, Any]]:
        """The exchange's view of ``order``, or None when it does not know it.

        By exchange id once we have one: a cancel gives the order a new client id on Binance.
        """
        try:
            if order.exchange_order_id:
                return self._call(f"looking up {order.describe()}", self.client.fetch_order,
                                  order.exchange_order_id, order.symbol)
            return self._call(f"looking up {order.describe()}", self.client.fetch_order, None, order.symbol,
                              {"clientOrderId": order.client_order_id})
        except self.x.OrderNotFound:
            return None

    def _follow(self, order: OrderRecord) -> None:
        """Poll a market order the exchange has not finished yet; it stays OPEN for a later refresh if it lingers."""
        for attempt in range(1, self.retries + 1):
            if order.status not in _LIVE:
                return
            self._pause(attempt, None, f"{order.describe()} is still {order.status.lower()}")
            self.refresh(order)

    def _accepted(self, order: OrderRecord) -> OrderRecord:
        if order.status is OrderStatus.REJECTED:
            raise OrderRejected(f"{self.name} rejected {order.describe()}: {order.message}")
        return order

    # -- recording answers --------------------------------------------------------------------

    def _apply(self, order: OrderRecord, answer: dict[str, Any]) -> None:
        if answer.get("id") is not None:
            order.exchange_order_id = str(answer["id"])
        filled = float(answer.get("filled") or 0.0)
        cost = float(answer.get("cost") or 0.0)
        average = float(answer.get("average") or (cost / filled if filled and cost else 0.0))
        status, message = _status(answer, filled)
        fee_due = filled != order.filled_qty or order.message.startswith(_FEE_UNREAD)
        order.filled_qty, order.avg_price = filled, average if filled else order.avg_price
        self._save(order, status, message)  # the fill is on record before anything else can fail
        if fee_due and filled:
            self._record_fees(order, answer)

    def _record_fees(self, order: OrderRecord, answer: dict[str, Any]) -> None:
        try:
            order.fee, order.base_fee = self._fees(order, answer)
        except InputError as exc:  # refresh() tries again while the message says so
            self._save(order, message=f"{_FEE_UNREAD}: {exc}")
            self._status(f"{order.describe()}: {_FEE_UNREAD}: {exc}")
            return
        self._save(order)

    def _fees(self, order: OrderRecord, answer: dict[str, Any]) -> tuple[float, float]:
        """Total fee in quote, and the part taken in base as a quantity."""
        fees = _fee_list(answer)
        if not fees:  # an order as looked up carries no fees; its trades do
            fees = [f for trade in self._order_trades(order) for f in _fee_list(trade)]
        market = self._market(order.symbol)
        quote = base = 0.0
        for fee in fees:
            cost, currency = float(fee["cost"]), fee.get("currency")
            if currency == market["base"]:
                base += cost
                quote += cost * order.avg_price
            elif currency in (market["quote"], None):
                quote += cost
            else:  # e.g. BNB: at its price now, the nearest we can tell
                quote += cost * self._last_price(f"{currency}/{market['quote']}")
        return quote, base

    def _order_trades(self, order: OrderRecord) -> list[dict[str, Any]]:
        what = f"reading the fills of {order.describe()}"
        if (getattr(self.client, "has", None) or {}).get("fetchOrderTrades"):
            return self._call(what, self.client.fetch_order_trades, order.exchange_order_id, order.symbol) or []
        trades = self._call(what, self.client.fetch_my_trades, order.symbol, None, None,
                            {"orderId": order.exchange_order_id}) or []
        return [t for t in trades if str(t.get("order")) == order.exchange_order_id]

    def _save(self, order: OrderRecord, status: Optional[OrderStatus] = None, message: Optional[str] = None) -> None:
        if status is not None:
            order.status = status
        if message is not None:
            order.message = message
        order.updated_at = self.now()
        self.store.save(order)

    # -- the market ---------------------------------------------------------------------------

    def _market(self, symbol: str) -> dict[str, Any]:
        if not getattr(self.client, "markets", None):
            self._call("loading its markets", self.client.load_markets)
        try:
            return self.client.market(symbol)
        except self.x.BadSymbol:
            raise InputError(f"{self.name} has no market {symbol!r}") from None

    def _last_price(self, symbol: str) -> float:
        self._market(symbol)
        ticker = self._call(f"reading the price of {symbol}", self.client.fetch_ticker, symbol) or {}
        for key in ("last", "close", "ask", "bid"):
            if ticker.get(key):
                return float(ticker[key])
        raise ExchangeError(f"{self.name} gave no price for {symbol}")

    def _stop_style(self, symbol: str) -> Optional[str]:
        """"market" (STOP_LOSS), "limit" (STOP_LOSS_LIMIT) or None, from the market's own order types if listed."""
        types = (self._market(symbol).get("info") or {}).get("orderTypes")
        if isinstance(types, list):
            return "market" if "STOP_LOSS" in types else "limit" if "STOP_LOSS_LIMIT" in types else None
        has = getattr(self.client, "has", None) or {}
        if has.get("createStopLossOrder") or has.get("createStopMarketOrder"):
            return "market"
        return "limit" if has.get("createStopLimitOrder") else None

    # -- retries ------------------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``, retrying the network family with backoff; other ccxt errors become ExchangeError.

        OrderNotFound passes through: to a caller asking about an order, it is an answer.
        """
        for attempt in range(1, self.retries + 1):
            self._check_ban()
            try:
                return fn(*args)
            except self.x.NetworkError as exc:
                if attempt == self.retries:
                    raise ExchangeError(f"{self.name} did not answer while {what} after {self.retries} "
                                        f"attempts: {self._reason(exc)}") from exc
                self._pause(attempt, exc)
            except self.x.OrderNotFound:
                raise
            except self.x.BaseError as exc:
                raise ExchangeError(f"{self.name} refused {what}: {readable(exc)}") from exc

    def _pause(self, attempt: int, exc: Optional[BaseException], reason: str = "") -> None:
        first, factor, cap = self.backoff
        delay = first * factor ** (attempt - 1)
        wait = self._retry_after(exc)
        if wait > cap:  # a ban: every request before it ends lengthens it, so stop asking
            self._banned_until = self.clock() + wait
            self._check_ban()
        delay = min(max(delay, wait), cap)
        self._status(f"retrying in {delay:g} s: {reason or self._reason(exc)}")
        self.sleep(delay)

    def _retry_after(self, exc: Optional[BaseException]) -> float:
        if not isinstance(exc, (self.x.DDoSProtection, self.x.RateLimitExceeded)):
            return 0.0
        headers = getattr(self.client, "last_response_headers", None) or {}
        for name, value in headers.items():
            if name.lower() == "retry-after":
                try:
                    return float(value)
                except ValueError:
                    return 0.0
        return 0.0

    def _check_ban(self) -> None:
        left = self._banned_until - self.clock()
        if left > 0:
            raise ExchangeError(f"{self.name} asked us to stop sending requests for {left:.0f} s more "
                                f"(rate limit); try again then")

    def _reason(self, exc: Optional[BaseException]) -> str:
        if exc is None:
            return "no answer"
        x = self.x
        kinds = ((x.RequestTimeout, "no answer in time"), (x.DDoSProtection, "rate limited"),
                 (x.RateLimitExceeded, "rate limited"), (x.ExchangeNotAvailable, "exchange unavailable"))
        kind = next((label for cls, label in kinds if isinstance(exc, cls)), type(exc).__name__)
        return f"{kind} ({readable(exc)[:160]})"

    def _status(self, text: str) -> None:
        if self.on_status is not None:
            self.on_status(text)


def _side(side: str) -> str:
    side = str(side).lower()
    if side not in ("buy", "sell"):
        raise InputError(f"order side must be buy or sell, got {side!r}")
    return side


def _fee_list(item: dict[str, Any]) -> list[dict[str, Any]]:
    fees = item.get("fees") or ([item["fee"]] if item.get("fee") else [])
    return [f for f in fees if f and f.get("cost") is not None]


def _status(answer: dict[str, Any], filled: float) -> tuple[OrderStatus, str]:
    state = answer.get("status")
    if state == "closed":
        return OrderStatus.FILLED, ""
    if state in ("canceled", "cancelled", "expired"):
        return OrderStatus.CANCELLED, "expired" if state == "expired" else "cancelled"
    if state == "rejected":
        return OrderStatus.REJECTED, "rejected by the exchange"
    return (OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.OPEN), ""
