"""Two stored runs' metrics side by side, with the difference B − A for every number,
and their equity and drawdown overlaid in one chart each (A and B in their own colours,
the legend naming the runs).

One row per entry of the engine's METRIC_SPECS, grouped as the results panel groups
them, so the comparison can never list a metric the engine does not compute. The
difference is not coloured: whether more is better depends on the metric (fees,
volatility), and a wrong colour would mislead more than no colour. Both runs and their
trades are read on a worker; the cards say "Loading…" until they arrive. Runs over
different periods are drawn on one time axis from the earlier start to the later end,
each only where it has bars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from engine.metrics import METRIC_SPECS, format_metric
from screens.equity_curve import EquityCurve
from screens.run_messages import CompareLoaded, RunsReadFailed, first_line
from screens.run_text import params_of, params_text, period_text, utc_minute
from screens.widgets.equity_chart import AXIS
from screens.widgets.metrics_panel import metric_text
from screens.widgets.series_chart import Series, SeriesChart

if TYPE_CHECKING:
    from engine.models import Run, Trade

ChangedTrade = tuple[int, Optional[str], Optional[str], Optional[float], Optional[float]]
LOADING = "Loading…"


def _run_card(letter: str, run: Run) -> Text:
    """One fact a line (compare.tcss cuts a long one with … rather than wrapping it)."""
    return Text.assemble(
        (f"{letter}  run #{run.id}  {run.strategy}\n", "bold"),
        f"   {params_text(params_of(run))}\n",
        f"   {' '.join(p for p in (run.symbol, run.timeframe) if p) or '—'}\n",
        f"   {period_text(run)}\n",
        (f"   {run.data_source}\n", "dim"),
        (f"   saved {utc_minute(run.created_at)} UTC", "dim"),
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
    if fmt in ("text", "time"):
        return ""
    x, y = _number(a), _number(b)
    if x is None or y is None:
        return "—"
    d = y - x
    sign = "+" if d > 0 else ""
    if fmt == "pct":
        return f"{sign}{d:.2f} pp"
    return sign + format_metric(d, fmt)


def _curve(run: Run) -> EquityCurve:
    # From its metrics, the figures the run detail shows for it (the stored curve is thinned).
    balance = float((run.config or {}).get("balance", 0.0)) or 1.0
    return EquityCurve.from_stored(list(run.equity_curve or []), balance, dict(run.metrics or {}), run.equity_times)


GRID = 1024  # points of the shared time axis when two runs cover different periods


def span_end(times: np.ndarray) -> int:
    """When the last of evenly spread stretches starting at ``times`` ends (one stretch on)."""
    return int(times[-1]) + (int(times[-1]) - int(times[0])) // max(1, len(times) - 1)


def on_grid(times: np.ndarray, lo: np.ndarray, hi: np.ndarray, start: int, end: int,
            cells: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    """``lo`` / ``hi`` of stretches starting at ``times`` (epoch ns) on ``cells`` equal shares
    of ``start``..``end``: the lowest and highest of the stretches beginning in each share,
    a share where none begins keeping the stretch before; NaN outside the run's span."""
    def cell(t: np.ndarray) -> np.ndarray:  # in float: nanoseconds times the cells overflow int64
        share = (np.asarray(t, dtype=np.float64) - start) / max(1, end - start)
        return np.clip(np.floor(share * cells), 0, cells - 1).astype(np.int64)

    pos = cell(times)
    low, high = np.full(cells, np.inf), np.full(cells, -np.inf)
    np.minimum.at(low, pos, lo)
    np.maximum.at(high, pos, hi)
    index = np.arange(cells)
    last = np.maximum.accumulate(np.where(np.isfinite(low), index, 0))  # the share with a stretch, at or before
    inside = (index >= pos[0]) & (index <= cell(np.array([span_end(times) - 1]))[0])
    return np.where(inside, low[last], np.nan), np.where(inside, high[last], np.nan)


def overlay(curves: list[EquityCurve], names: list[tuple[str, str]]) -> tuple[list[Series], list[Series], np.ndarray]:
    """Equity and drawdown series of each curve (A, B ... in their own colours, named by
    ``names``: its equity legend and its drawdown legend) and the times they share.
    Curves over the same period are drawn as they are; over different periods, on one
    axis from the earliest start to the latest end."""
    roles = ("s0", "s2", "s3", "s1")
    dated = all(len(c.times) == len(c) and len(c) for c in curves)
    same = dated and len({(int(c.times[0]), int(c.times[-1])) for c in curves}) == 1
    equity: list[Series] = []
    drawdown: list[Series] = []
    if not dated or same:
        for (name, dd_name), curve, role in zip(names, curves, roles):
            equity.append(Series(name, curve.equity_lo, curve.equity_hi, role))
            drawdown.append(Series(dd_name, -curve.depth_hi, -curve.depth_lo, role))
        times = curves[0].times if dated else np.empty(0, dtype=np.int64)
        return equity, drawdown, times
    start = min(int(c.times[0]) for c in curves)
    end = max(span_end(c.times) for c in curves)
    for (name, dd_name), curve, role in zip(names, curves, roles):
        equity.append(Series(name, *on_grid(curve.times, curve.equity_lo, curve.equity_hi, start, end), role))
        deep, shallow = on_grid(curve.times, -curve.depth_hi, -curve.depth_lo, start, end)
        drawdown.append(Series(dd_name, deep, shallow, role))
    # When each share begins, as the curves' own times say when each stretch begins.
    return equity, drawdown, start + (np.arange(GRID) * ((end - start) / GRID)).astype(np.int64)


def curve_legends(letter: str, run: Run, curve: EquityCurve) -> tuple[str, str]:
    """A run's names in the equity chart's legend (with its final equity) and in the
    drawdown chart's (with its worst drawdown): the figures its metrics give."""
    return (f"{letter} #{run.id} {run.strategy} -> {format_metric(curve.last, 'money')}",
            f"{letter} #{run.id} drawdown, worst {format_metric(curve.worst_drawdown_pct, 'pct')}")


def changed_trades(trades_a: list[Trade], trades_b: list[Trade]) -> list[ChangedTrade]:
    """The trades that differ between A and B (a branch's changes to its parent), by number:
    (number, A's exit reason, B's exit reason, A's PnL, B's PnL), None where a run has no such trade."""
    a = {t.trade_no: t for t in trades_a}
    b = {t.trade_no: t for t in trades_b}

    def key(t):  # type: ignore[no-untyped-def]
        return None if t is None else (t.entry_time, t.exit_time, round(t.size, 12), round(t.pnl, 9), t.exit_reason)

    out: list[ChangedTrade] = []
    for n in sorted(set(a) | set(b)):
        ta, tb = a.get(n), b.get(n)
        if key(ta) != key(tb):
            out.append((
                n, None if ta is None else ta.exit_reason.value.replace("_", " "),
                None if tb is None else tb.exit_reason.value.replace("_", " "),
                None if ta is None else ta.pnl, None if tb is None else tb.pnl,
            ))
    return out


class CompareScreen(Screen):
    """Reads both runs and their trades on a worker; the cards say "Loading…" meanwhile."""

    CSS_PATH = "compare.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("1", "tab('tab-metrics')", "Metrics"),
        Binding("2", "tab('tab-equity')", "Equity"),
        Binding("3", "tab('tab-trades')", "Changed trades"),
        Binding("4", "tab('tab-config')", "Configuration"),
    ]
    SHOWN_CHANGES = 500  # rows of the changed-trades table; the title gives the full count

    def __init__(self, run_a: int, run_b: int) -> None:
        super().__init__()
        self.run_ids = (run_a, run_b)
        # metric key -> (A text, B text, difference text): what the table shows, for tests and copy.
        self.values: dict[str, tuple[str, str, str]] = {}
        self.changed_trades: list[int] = []
        self.config_differences: list[str] = []  # dotted setting names, for tests
        self.curve_names: list[str] = []  # the equity chart's legend, A's then B's
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="compare-cards"):
            yield Static(LOADING, id="compare-a", classes="run-card")
            yield Static(LOADING, id="compare-b", classes="run-card")
        with TabbedContent(id="compare-tabs"):
            with TabPane("Metrics", id="tab-metrics"):
                yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Equity", id="tab-equity"):
                with Vertical(id="equity-overlay"):
                    yield SeriesChart(id="equity-chart", empty=LOADING, axis_width=AXIS)
                    yield SeriesChart(id="drawdown-chart", empty="", axis_width=AXIS)
            with TabPane("Trades that changed", id="tab-trades"):
                yield Static(LOADING, id="changed-title")
                yield DataTable(id="changed-trades", cursor_type="row", zebra_stripes=True)
            with TabPane("Configuration", id="tab-config"):
                yield Static(LOADING, id="config-title")
                yield DataTable(id="compare-config", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        a_id, b_id = self.run_ids
        self.sub_title = f"History › compare #{a_id} and #{b_id}"
        self.query_one("#compare-table", DataTable).focus()
        self._load(a_id, b_id)

    def on_unmount(self) -> None:
        self.workers.cancel_node(self)

    @work(thread=True, exclusive=True, group="compare-load", name="compare-load", exit_on_error=False)
    def _load(self, a_id: int, b_id: int) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from engine.errors import InputError
        from engine.store import get_run, run_trades

        try:
            database = self.app.services.database()
            run_a, run_b = get_run(database, a_id), get_run(database, b_id)
            changed: list[ChangedTrade] = []
            count = 0
            curves = []
            if run_a is not None and run_b is not None:
                trades_a, trades_b = run_trades(database, a_id), run_trades(database, b_id)
                changed, count = changed_trades(trades_a, trades_b), max(len(trades_a), len(trades_b))
                curves = [_curve(run_a), _curve(run_b)]
        except (InputError, SQLAlchemyError) as exc:
            self.post_message(RunsReadFailed(first_line(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(CompareLoaded(run_a, run_b, changed, count, curves))

    def on_runs_read_failed(self, event: RunsReadFailed) -> None:
        self.query_one("#compare-a", Static).update(f"Cannot read the runs: {event.message}")
        self.query_one("#compare-b", Static).update("")
        self.query_one("#changed-title", Static).update("")

    def on_compare_loaded(self, event: CompareLoaded) -> None:
        run_a, run_b = event.run_a, event.run_b
        if run_a is None or run_b is None:
            gone = self.run_ids[0] if run_a is None else self.run_ids[1]
            self.query_one("#compare-a", Static).update(f"Run #{gone} is no longer in the database.")
            self.query_one("#compare-b", Static).update("")
            self.query_one("#changed-title", Static).update("")
            return
        with self.app.batch_update():
            self.query_one("#compare-a", Static).update(_run_card("A", run_a))
            self.query_one("#compare-b", Static).update(_run_card("B", run_b))
            self._fill(run_a, run_b)
            self._show_curves(run_a, run_b, event.curves)
            self._show_changed(event.changed, event.trade_count)
            self._show_config(run_a, run_b)
        self.loaded = True

    def _show_curves(self, run_a: Run, run_b: Run, curves: list[EquityCurve]) -> None:
        """A's and B's equity in one chart and their drawdowns in another, on one time axis."""
        chart = self.query_one("#equity-chart", SeriesChart)
        if len(curves) != 2 or not all(len(c) for c in curves):
            chart.empty = "A run has no equity curve stored: nothing to draw."
            chart.show([])
            self.query_one("#drawdown-chart", SeriesChart).show([])
            return
        names = [curve_legends(letter, run, curve) for letter, run, curve in zip("AB", (run_a, run_b), curves)]
        equity, drawdown, times = overlay(curves, names)
        self.curve_names = [n for n, _ in names]
        chart.show(equity, times)
        self.query_one("#drawdown-chart", SeriesChart).show(drawdown, times, unit="%")

    def _show_config(self, run_a: Run, run_b: Run) -> None:
        """Every setting of both runs, the differing ones first and in bold."""
        from engine.config_diff import config_rows, shown

        rows = config_rows(dict(run_a.config or {}), dict(run_b.config or {}))
        differing = [r for r in rows if r[3]]
        self.config_differences = [r[0] for r in differing]
        self.query_one("#config-title", Static).update(
            f"{len(differing)} of {len(rows)} settings differ" if differing else "The two runs have the same configuration."
        )
        table = self.query_one("#compare-config", DataTable)
        table.add_columns("Setting", f"A  #{run_a.id}", f"B  #{run_b.id}")
        for name, a, b, differs in differing + [r for r in rows if not r[3]]:
            style = "bold" if differs else "dim"
            table.add_row(Text(name, style=style), Text(shown(a), style=style), Text(shown(b), style=style))

    def _show_changed(self, changed: list[ChangedTrade], count: int) -> None:
        self.changed_trades = [c[0] for c in changed]
        self.query_one("#changed-title", Static).update(
            f"Trades that changed: {len(changed)} of {count}" if changed else "No trade changed."
        )
        table = self.query_one("#changed-trades", DataTable)
        table.add_columns("#", "A exit", "B exit", "A PnL", "B PnL", "B − A")
        for n, exit_a, exit_b, pa, pb in changed[: self.SHOWN_CHANGES]:
            table.add_row(
                str(n), exit_a or "—", exit_b or "—",
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
            # As the results panel words them (a drawdown never regained says so, not "—").
            cells = (metric_text(spec.key, ma, spec.fmt).plain, metric_text(spec.key, mb, spec.fmt).plain,
                     difference(a, b, spec.fmt))
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
