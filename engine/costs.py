"""The cost calculator: executed price, fee and slippage cost of one fill.

It decides nothing. Slippage is adverse and applies to market-type fills only
(entries, scale-ins, signal exits, stops); limit-type fills (take-profit, partial
targets) fill at their price. The fee is ``fee_rate`` x executed notional.
"""

from __future__ import annotations

from dataclasses import dataclass
from engine.limits import check


@dataclass(frozen=True, slots=True)
class CostModel:
    fee_rate: float = 0.001
    slippage_rate: float = 0.0

    def __post_init__(self) -> None:
        # The limits are in percent, as traders type them (engine.limits).
        check("fee", self.fee_rate * 100.0)
        check("slippage", self.slippage_rate * 100.0)

    def execute(self, ref_price: float, qty: float, buy: bool, market: bool) -> tuple[float, float, float]:
        """Fill ``qty`` at ``ref_price``: buying pays up, selling gives up, on market fills.

        Returns ``(price, fee, slippage)``, slippage being its cost in quote currency,
        as a plain tuple: the hot loop unpacks it.
        """
        if market and self.slippage_rate:
            price = ref_price * (1.0 + self.slippage_rate) if buy else ref_price * (1.0 - self.slippage_rate)
            slippage = abs(price - ref_price) * qty
        else:
            price = ref_price
            slippage = 0.0
        return price, price * qty * self.fee_rate, slippage
