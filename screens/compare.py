"""Two stored runs' metrics side by side, with the difference B − A for every number.

One row per entry of the engine's METRIC_SPECS, grouped as the results panel groups
them, so the comparison can never list a metric the engine does not compute. The
difference is not coloured: whether more is better depends on the metric (fees,
volatility), and a wrong colour would mislead more than no colour.
"""

from __future__ import annotations

from datetime import timezone
from typing import TYPE_CHECKING, Any, Optional

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from engine.metrics import METRIC_SPECS, format_metric
from screens.widgets.equity_chart import EquityChart

if TYPE_CHECKING:
    from engine.models import Run


def params_text(config: dict[str, Any]) -> str:
    params = config.get("params") or {}
    if not params:
        return "default parameters"
    return ", ".join(f"{k}={v}" for k, v in params.items())


def run_heading(run: Run) -> str:
    """One line naming a run: id, strategy with parameters, market."""
    market = " ".join(p for p in (run.symbol, run.timeframe) if p) or run.data_source or "unknown data"
    return f"run #{run.id} {run.strategy} ({params_text(run.config or {})}) on {market}"


def _run_card(letter: str, run: Run) -> Text:
    period = "—"
    if run.period_start is not None and run.period_end is not None:
        period = f"{run.period_start:%Y-%m-%d}..{run.period_end:%Y-%m-%d}"
    created = run.created_at
    if created.tzinfo is not None:
        created = created.astimezone(timezone.utc)
    return Text.assemble(
        (f"{letter}  run #{run.id}  {run.strategy}\n", "bold"),
        f"   {params_text(run.config or {})}\n",
        f"   {' '.join(p for p in (run.symbol, run.timeframe) if p) or '—'}   {period}\n",
        (f"   {run.data_source}\n", "dim"),
        (f"   saved {created:%Y-%m-%d %H:%M} UTC", "dim"),
        _lineage(run),
    )


def _lineage(run: Run) -> str:
    """For a replay branch: whose branch it is and what was done by hand."""
    if run.parent_run_id is None:
        return ""
    actions = (run.config or {}).get("actions") or []
    done = ", ".join(f"{a.get('do', '?').replace('_', ' ')} at bar {a.get('bar', '?')}" for a in actions[:3])
    more = f" and {len(actions) - 3} more" if len(actions) > 3 else ""
    return f"\n   branch of run #{run.parent_run_id}: {done or 'no action'}{more}"


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def difference(a: Any, b: Any, fmt: str) -> str:
    """B − A in the metric's own unit; percentages differ in percentage points."""
    if fmt == "text":
        return ""
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return "—"
    d = y - x
    sign = "+" if d > 0 else ""
    if fmt == "pct":
        return f"{sign}{d:.2f} pp"
    return sign + format_metric(d, fmt)


class CompareScreen(Screen):
    CSS_PATH = "compare.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("1", "tab('tab-metrics')", "Metrics"),
        Binding("2", "tab('tab-equity')", "Equity"),
        Binding("3", "tab('tab-trades')", "Changed trades"),
    ]

    def __init__(self, run_a: int, run_b: int) -> None:
        super().__init__()
        self.run_ids = (run_a, run_b)
        # metric key -> (A text, B text, difference text): what the table shows, for tests and copy.
        self.values: dict[str, tuple[str, str, str]] = {}
        self.changed_trades: list[int] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="compare-cards"):
            yield Static("", id="compare-a", classes="run-card")
            yield Static("", id="compare-b", classes="run-card")
        with TabbedContent(id="compare-tabs"):
            with TabPane("Metrics", id="tab-metrics"):
                yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Equity", id="tab-equity"):
                with VerticalScroll():
                    yield Static("A", classes="curve-title", id="equity-a-title")
                    yield EquityChart(id="equity-a")
                    yield Static("B", classes="curve-title", id="equity-b-title")
                    yield EquityChart(id="equity-b")
            with TabPane("Trades that changed", id="tab-trades"):
                yield Static("", id="changed-title")
                yield DataTable(id="changed-trades", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        a_id, b_id = self.run_ids
        self.sub_title = f"History › compare #{a_id} and #{b_id}"
        from engine.store import get_run

        database = self.app.services.database()
        run_a, run_b = get_run(database, a_id), get_run(database, b_id)
        if run_a is None or run_b is None:
            gone = a_id if run_a is None else b_id
            self.query_one("#compare-a", Static).update(f"Run #{gone} is no longer in the database.")
            return
        self.query_one("#compare-a", Static).update(_run_card("A", run_a))
        self.query_one("#compare-b", Static).update(_run_card("B", run_b))
        self._fill(run_a, run_b)
        for letter, run in (("a", run_a), ("b", run_b)):
            self.query_one(f"#equity-{letter}-title", Static).update(f"{letter.upper()}  run #{run.id}")
            self.query_one(f"#equity-{letter}", EquityChart).show(
                run.equity_curve or [], float((run.config or {}).get("balance", 0.0)) or 1.0,
            )
        self._changed(database, run_a, run_b)
        self.query_one("#compare-table", DataTable).focus()

    def _changed(self, database, run_a: Run, run_b: Run) -> None:  # type: ignore[no-untyped-def]
        """The trades that differ between A and B (a branch's changes to its parent), by number."""
        from engine.store import run_trades

        a = {t.trade_no: t for t in run_trades(database, run_a.id)}
        b = {t.trade_no: t for t in run_trades(database, run_b.id)}

        def key(t):  # type: ignore[no-untyped-def]
            return None if t is None else (t.entry_time, t.exit_time, round(t.size, 12), round(t.pnl, 9), t.exit_reason)

        changed = [n for n in sorted(set(a) | set(b)) if key(a.get(n)) != key(b.get(n))]
        self.changed_trades = changed
        self.query_one("#changed-title", Static).update(
            f"Trades that changed: {len(changed)} of {max(len(a), len(b))}" if changed else "No trade changed."
        )
        table = self.query_one("#changed-trades", DataTable)
        table.add_columns("#", "A exit", "B exit", "A PnL", "B PnL", "B − A")
        for n in changed[:500]:
            ta, tb = a.get(n), b.get(n)
            pa = None if ta is None else ta.pnl
            pb = None if tb is None else tb.pnl
            table.add_row(
                str(n), "—" if ta is None else ta.exit_reason.value.replace("_", " "),
                "—" if tb is None else tb.exit_reason.value.replace("_", " "),
                "—" if pa is None else f"{pa:,.2f}", "—" if pb is None else f"{pb:,.2f}",
                "—" if pa is None or pb is None else f"{pb - pa:+,.2f}",
            )

    def _fill(self, run_a: Run, run_b: Run) -> None:
        table = self.query_one("#compare-table", DataTable)
        table.add_column("Metric", key="metric")
        table.add_column(Text(f"A  #{run_a.id}", justify="right"), key="a")
        table.add_column(Text(f"B  #{run_b.id}", justify="right"), key="b")
        table.add_column(Text("B − A", justify="right"), key="diff")
        ma, mb = run_a.metrics or {}, run_b.metrics or {}
        group = None
        for spec in METRIC_SPECS:
            if spec.group != group:
                group = spec.group
                table.add_row(Text(group, style="bold"), "", "", "", key=f"group:{group}")
            a, b = ma.get(spec.key), mb.get(spec.key)
            cells = (format_metric(a, spec.fmt), format_metric(b, spec.fmt), difference(a, b, spec.fmt))
            self.values[spec.key] = cells
            table.add_row(
                Text("  " + spec.label), *(Text(c, justify="right") for c in cells), key=spec.key,
            )

    def action_tab(self, tab: str) -> None:
        self.query_one("#compare-tabs", TabbedContent).active = tab
        for table in self.query_one(f"#{tab}").query(DataTable):
            table.focus()  # so the arrows move through it at once

    def action_back(self) -> None:
        self.app.pop_screen()
