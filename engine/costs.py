"""The cost calculator: executed price, fee and slippage cost of one fill.

It decides nothing. Slippage is adverse and applies to market-type fills only
(entries, scale-ins, signal exits, stops); limit-type fills (take-profit, partial
targets) fill at their price. The fee is ``fee_rate`` x executed notional.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isfinite
from typing import NamedTuple

from engine.errors import InputError


class Execution(NamedTuple):
    price: float
    fee: float
    slippage: float  # cost of slippage in quote currency (>= 0)


@dataclass(frozen=True, slots=True)
class CostModel:
    fee_rate: float = 0.001
    slippage_rate: float = 0.0

    def __post_init__(self) -> None:
        if not (isfinite(self.fee_rate) and 0.0 <= self.fee_rate < 0.1):
            raise InputError(f"fee must be between 0 % and 10 %, got {self.fee_rate * 100:g} %")
        if not (isfinite(self.slippage_rate) and 0.0 <= self.slippage_rate < 0.1):
            raise InputError(f"slippage must be between 0 % and 10 %, got {self.slippage_rate * 100:g} %")

    def execute(self, ref_price: float, qty: float, buy: bool, market: bool) -> tuple[float, float, float]:
        """Fill ``qty`` at ``ref_price``: buying pays up, selling gives up, on market fills.

        Returns ``(price, fee, slippage)`` as a plain tuple (the hot loop unpacks it);
        :meth:`quote` names the parts.
        """
        if market and self.slippage_rate:
            price = ref_price * (1.0 + self.slippage_rate) if buy else ref_price * (1.0 - self.slippage_rate)
            slippage = abs(price - ref_price) * qty
        else:
            price = ref_price
            slippage = 0.0
        return price, price * qty * self.fee_rate, slippage

    def quote(self, ref_price: float, qty: float, buy: bool, market: bool) -> Execution:
        return Execution(*self.execute(ref_price, qty, buy, market))
