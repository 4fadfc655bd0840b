"""A run's report as tables a trader reads: longs against shorts, each exit reason, the
returns month by month in a year-by-month grid, and when the deepest drawdown began,
bottomed and recovered.

Every figure is the engine's (:mod:`engine.reports` for the tables, the metrics for the
"All" row and the drawdown's dates), only formatted here, so the report can never
disagree with the summary. Each table takes the first layout that fits the width
(:mod:`screens.widgets.figure_table`), laid out again when the width changes.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import events
from textual.widgets import Static

from engine.metrics import format_metric
from screens.widgets.figure_table import FigureTable, render
from screens.widgets.metrics_panel import figure_grid, metric_text, signed_text

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SIDE_COLUMNS = ("Trades", "Win rate", "Net profit", "Gross profit", "Gross loss", "Avg PnL", "Profit factor")
# The "All" row from the metrics, in SIDE_COLUMNS order: the same figures for every trade.
ALL_KEYS = ("trades", "win_rate_pct", "net_profit", "gross_profit", "gross_loss", "expectancy", "profit_factor")
SIDE_KEYS = ("trades", "win_rate_pct", "net_profit", "gross_profit", "gross_loss", "avg_pnl", "profit_factor")
FORMATS = ("int", "pct", "money", "money", "money", "money", "ratio")
NO_REPORT = "No report was stored with this run (it is older than reports). Run it again to see one."


def _figures(values: Mapping[str, Any], keys: tuple[str, ...]) -> list[Text]:
    if not values.get("trades"):  # no trades on this side: nothing to sum, not zero
        return [Text("0")] + [Text("—", style="dim") for _ in keys[1:]]
    return [signed_text(k, values.get(k), fmt) for k, fmt in zip(keys, FORMATS)]


def side_table(report: Mapping[str, Any], metrics: Mapping[str, Any]) -> FigureTable:
    sides = report.get("sides") or {}
    rows = [(name.capitalize(), _figures(sides.get(name) or {}, SIDE_KEYS)) for name in ("long", "short")]
    rows.append(("All", _figures(metrics, ALL_KEYS)))
    return FigureTable("Long vs short", "", list(SIDE_COLUMNS), rows)


def exit_table(report: Mapping[str, Any]) -> FigureTable:
    rows = []
    for row in report.get("exit_reasons") or []:
        rows.append((str(row["reason"]).replace("_", " "), [
            Text(format_metric(row.get("trades"), "int")), Text(format_metric(row.get("win_rate_pct"), "pct")),
            signed_text("avg_pnl", row.get("avg_pnl"), "money"), signed_text("net_profit", row.get("net_profit"), "money"),
        ]))
    return FigureTable("Exit reasons", "Exit reason", ["Trades", "Win rate", "Avg PnL", "Net profit"], rows,
                       empty="No trades.")


def _return(value: Optional[float]) -> Text:
    return signed_text("return_pct", value, "ratio") if value is not None else Text("—", style="dim")


def monthly_table(report: Mapping[str, Any]) -> FigureTable:
    """Years down, months across, the year's own return last (percent, by sign)."""
    months: dict[str, dict[int, Optional[float]]] = {}
    for row in report.get("monthly_returns") or []:
        year, month = str(row["period"]).split("-")
        months.setdefault(year, {})[int(month)] = row.get("return_pct")
    years = {str(row["period"]): row.get("return_pct") for row in report.get("yearly_returns") or []}
    rows = []
    for year in sorted(set(months) | set(years)):
        got = months.get(year, {})
        cells = [_return(got[m]) if m in got else Text("") for m in range(1, 13)]
        rows.append((year, cells + [_return(years.get(year))]))
    return FigureTable("Monthly returns (%)", "Year", [*MONTHS, "Year"], rows, empty="No returns.")


DRAWDOWN_ROWS = (
    ("Max drawdown", "max_drawdown_pct", "pct"),
    ("  from (peak)", "max_drawdown_start", "time"),
    ("  bottom", "max_drawdown_bottom", "time"),
    ("  recovered", "max_drawdown_recovery", "time"),
    ("Longest drawdown", "max_drawdown_duration_days", "days"),
    ("Trades per day", "trades_per_day", "ratio"),  # two decimals, as the metrics show it
    ("Trades", "trades", "int"),
)


def drawdown_grid(metrics: Mapping[str, Any]) -> Table:
    return figure_grid([(label, metric_text(key, metrics, fmt)) for label, key, fmt in DRAWDOWN_ROWS], gap=2)


class ReportView(Static):
    DEFAULT_CSS = """
    ReportView { height: auto; padding: 0 1; }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.tables: list[FigureTable] = []
        self.metrics: Mapping[str, Any] = {}
        self.missing = False
        self._width = -1

    def show(self, report: Optional[Mapping[str, Any]], metrics: Mapping[str, Any]) -> None:
        self.metrics = metrics
        self.missing = report is None
        self.tables = [] if report is None else [side_table(report, metrics), exit_table(report), monthly_table(report)]
        self._lay_out()

    def table(self, title: str) -> FigureTable:
        return next(t for t in self.tables if t.title == title)

    def _lay_out(self) -> None:
        self._width = width = self.content_size.width
        parts: list[Any] = []
        if self.missing:
            parts += [Text(NO_REPORT, style="dim"), Text("")]
        # Not laid out yet (no width): as wide as it likes; measured again on the first resize.
        parts += [render(t, width or 10_000) for t in self.tables]
        if self.metrics:
            parts += [Text("Drawdown and activity", style="bold"), drawdown_grid(self.metrics)]
        self.update(Group(*parts))

    def on_resize(self, event: events.Resize) -> None:
        if self.content_size.width != self._width:
            self._lay_out()
