"""Equity curve with its drawdown underneath, sharing the time axis.

Both are range charts of a thinned curve (lowest and highest per column, so spikes are
kept); the labels are the curve's own figures from every bar, so they agree with the
metrics (the worst drawdown read off a thinned curve was shallower than the real one).
"""

from __future__ import annotations

from typing import Optional, Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from engine.metrics import format_metric
from screens.equity_curve import EquityCurve
from screens.widgets.range_chart import RangeChart


def _money(value: Optional[float]) -> str:
    return format_metric(value, "money")


def equity_label(curve: EquityCurve) -> str:
    extremes = f"low {_money(curve.low)}, peak {_money(curve.peak)}" if curve.low is not None else f"peak {_money(curve.peak)}"
    return f"Equity  {_money(curve.first)} -> {_money(curve.last)}  ({extremes})"


def drawdown_label(curve: EquityCurve) -> str:
    return f"Drawdown  worst {format_metric(curve.worst_drawdown_pct, 'pct')}"


class EquityChart(Vertical):
    DEFAULT_CSS = """
    EquityChart { height: auto; }
    EquityChart RangeChart { height: 5; margin: 0 1; }
    EquityChart #drawdown { height: 3; }
    EquityChart #drawdown > .range-chart--fill { color: $error; }
    EquityChart #drawdown > .range-chart--band { color: $error-muted; }
    EquityChart Label { margin: 0 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Label("Equity", id="equity-label")
        yield RangeChart(id="equity")
        yield Label("Drawdown", id="drawdown-label")
        yield RangeChart(id="drawdown")

    def show(self, curve: EquityCurve | Sequence[float], initial_balance: float = 0.0) -> None:
        """Draw ``curve``; a plain list of equity values is taken as every bar's."""
        if not isinstance(curve, EquityCurve):
            curve = EquityCurve.from_equity(curve, initial_balance)
        self.query_one("#equity", RangeChart).show(curve.equity_lo, curve.equity_hi)
        # Drawn as depth below the peak so the worst drawdown is the tallest column.
        self.query_one("#drawdown", RangeChart).show(curve.depth_lo, curve.depth_hi)
        if len(curve):
            self.query_one("#equity-label", Label).update(equity_label(curve))
            self.query_one("#drawdown-label", Label).update(drawdown_label(curve))
