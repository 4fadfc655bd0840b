"""The engine's broker in a live session: each market-type fill the engine asks for becomes
a real market order for one symbol, and the engine books what the exchange filled.

Levels (stops, targets, scale-ins) are seen on closed candles, so in a live session they
execute as market orders when the candle closes, at the price the exchange gives then,
not at the level: the engine is told the real fill. A buy whose fee was taken in the coin
bought leaves the position that much smaller, and that fee is not charged twice.
"""

from __future__ import annotations

from engine.broker import Execution
from engine.errors import ExchangeError
from engine.session.exchange_broker import ExchangeBroker, OrderRecord


class LiveExecutions:
    def __init__(self, broker: ExchangeBroker, symbol: str) -> None:
        self.broker, self.symbol = broker, symbol
        self.placed: list[OrderRecord] = []  # this step's orders, in the order of the engine's fills

    def market(self, ref_price: float, qty: float, buy: bool) -> Execution:
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
