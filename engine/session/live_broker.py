"""The engine's broker in a live session: each market-type fill the engine asks for becomes
a real market order for one symbol, and the engine books what the exchange filled.

A long's stop also rests on the exchange as a stop-loss order, so the position is
protected while the app is down. Its coins are locked under it: a sell cancels it first,
and if it has already sold (it won the race), its fill is that sell.

Levels (stops, targets, scale-ins) are seen on closed candles, so in a live session they
execute as market orders when the candle closes, at the price the exchange gives then,
not at the level: the engine is told the real fill. A buy whose fee was taken in the coin
bought leaves the position that much smaller, and that fee is not charged twice.
"""

from __future__ import annotations

from typing import Optional

from engine.broker import Execution
from engine.errors import ExchangeError
from engine.records import OpenPosition
from engine.session.exchange_broker import ExchangeBroker
from engine.session.orders import OrderRecord


class LiveExecutions:
    def __init__(self, broker: ExchangeBroker, symbol: str) -> None:
        self.broker, self.symbol = broker, symbol
        self.placed: list[OrderRecord] = []  # this step's orders, in the order of the engine's fills
        self.stop: Optional[OrderRecord] = None  # the stop-loss resting on the exchange

    def market(self, ref_price: float, qty: float, buy: bool) -> Execution:
        if not buy and self.stop is not None:
            stop, self.stop = self.broker.cancel(self.stop), None
            if stop.filled_qty > 0:  # the exchange's stop sold first: that was this exit
                self.placed.append(stop)
                return self.broker.execution(stop)
        order = self.broker.market(self.symbol, "buy" if buy else "sell", qty, ref_price)
        if order.filled_qty <= 0:
            raise ExchangeError(f"{order.describe()}: nothing was filled ({order.outcome()})")
        self.placed.append(order)
        price, filled, fee, slippage = self.broker.execution(order)
        if buy and order.base_fee > 0:
            filled -= order.base_fee
            fee = max(0.0, fee - order.base_fee * price)
        return Execution(price, filled, fee, slippage)

    limit = market  # a level seen on a closed candle is taken at market, now

    def protect(self, pos: Optional[OpenPosition]) -> None:
        """Keep the exchange's stop-loss order in line with the book: a long's effective stop
        for its whole size, nothing otherwise (spot cannot hold a stop for a short)."""
        want = None
        if pos is not None and pos.sign > 0:
            level = pos.effective_stop()
            if level is not None:
                want = (self.broker.check_amount(self.symbol, pos.current_size, level), level)
        have = self.stop
        if have is not None and want is not None and abs(have.qty - want[0]) < 1e-12 \
                and abs((have.stop_price or 0.0) - float(self.broker.client.price_to_precision(self.symbol, want[1]))) < 1e-9:
            return
        if have is not None:
            self.stop = None
            gone = self.broker.cancel(have)
            if gone.filled_qty > 0:
                raise ExchangeError(f"{gone.describe()} sold {gone.filled_qty:g} before the book saw it")
        if want is not None:
            self.stop = self.broker.place_stop(self.symbol, "sell", want[0], want[1])
