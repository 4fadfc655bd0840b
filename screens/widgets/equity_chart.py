"""Equity (with buy and hold beside it) and its drawdown underneath, sharing the time axis.

Both are series charts of a thinned curve (lowest and highest per stretch, so spikes are
kept), with a value axis and dates. The labels are the curve's own figures from every
bar, so they agree with the metrics (the worst drawdown read off a thinned curve was
shallower than the real one). The drawdown hangs down from zero, the deepest point
lowest, as traders draw it.
"""

from __future__ import annotations

from typing import Optional, Sequence

from textual.app import ComposeResult
from textual.containers import Vertical

from engine.metrics import format_metric
from screens.equity_curve import EquityCurve
from screens.widgets.flow_text import FlowLabel
from screens.widgets.series_chart import Series, SeriesChart


def _money(value: Optional[float]) -> str:
    return format_metric(value, "money")


def equity_parts(curve: EquityCurve) -> list[str]:
    parts = [f"Equity {_money(curve.first)} -> {_money(curve.last)}"]
    if curve.low is not None:
        parts.append(f"low {_money(curve.low)}")
    parts.append(f"peak {_money(curve.peak)}")
    if curve.hold_last is not None:
        parts.append(f"buy & hold -> {_money(curve.hold_last)}")
    return parts


def equity_label(curve: EquityCurve) -> str:
    return "  ·  ".join(equity_parts(curve))


def drawdown_label(curve: EquityCurve) -> str:
    return f"Drawdown  worst {format_metric(curve.worst_drawdown_pct, 'pct')}"


def equity_series(curve: EquityCurve, name: str = "Strategy") -> list[Series]:
    """The strategy's equity and, when known, buy and hold: the chart's named series."""
    series = [Series(name, curve.equity_lo, curve.equity_hi, "s0")]
    if len(curve.hold_lo):
        series.append(Series("Buy & hold", curve.hold_lo, curve.hold_hi, "s1"))
    return series


def drawdown_series(curve: EquityCurve) -> Series:
    # Depth below the peak is >= 0; drawn as negative percent, so zero is the top edge.
    return Series(f"Drawdown, worst {format_metric(curve.worst_drawdown_pct, 'pct')}", -curve.depth_hi, -curve.depth_lo)


AXIS = 12  # cells for the value labels of both charts, so their dates line up


class EquityChart(Vertical):
    # The room left under the metrics goes to the equity (a large terminal's spare rows);
    # at least 12 rows for it and 7 for the drawdown, scrolled to when the room is less.
    DEFAULT_CSS = """
    EquityChart { height: 1fr; min-height: 23; }
    EquityChart FlowLabel { margin: 0 1; color: $text-muted; }
    EquityChart SeriesChart { margin: 0 1; }
    EquityChart #equity { height: 1fr; min-height: 12; }
    EquityChart #drawdown { height: 7; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.curve = EquityCurve.empty()

    def compose(self) -> ComposeResult:
        yield FlowLabel(["Equity"], id="equity-label")
        yield SeriesChart(id="equity", empty="No equity curve yet.", axis_width=AXIS)
        yield FlowLabel(["Drawdown"], id="drawdown-label")
        yield SeriesChart(id="drawdown", empty="", axis_width=AXIS)

    def show(self, curve: EquityCurve | Sequence[float], initial_balance: float = 0.0) -> None:
        """Draw ``curve``; a plain list of equity values is taken as every bar's."""
        if not isinstance(curve, EquityCurve):
            curve = EquityCurve.from_equity(curve, initial_balance)
        self.curve = curve
        equity = self.query_one("#equity", SeriesChart)
        drawdown = self.query_one("#drawdown", SeriesChart)
        if not len(curve):
            equity.show([])
            drawdown.show([])
            return
        equity.show(equity_series(curve), curve.times)
        drawdown.show([drawdown_series(curve)], curve.times, area=True, unit="%", legend=False)
        self.query_one("#equity-label", FlowLabel).set_parts(equity_parts(curve))
        self.query_one("#drawdown-label", FlowLabel).set_parts([drawdown_label(curve)])
