"""A run's results in tabs: Summary (metrics, equity with buy and hold, drawdown), Trades,
Reports (long/short, exit reasons, monthly returns), Chart (price with the trades) and
Config (every field of the configuration), under a title that tells runs apart.

Tabs keep every view whole on an 80x24 terminal, where one long page cut the figures
or scrolled them away; a large terminal gives each tab the room. The keys are the
view's own (1-5 for the tabs, t trades, m metrics, z zoom), shown in the Footer while
the focus is in the results. Enter on a trade opens its detail, which steps through
the trades in the table's order. A stored run's candles are read again on a worker for
its price chart and buy and hold (:func:`screens.run_view.load_prices`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Optional

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane, Tabs
from textual.worker import get_current_worker

from screens.equity_curve import EquityCurve
from screens.run_columns import FillRow, TradeRow
from screens.run_view import RunView, load_prices
from screens.trade_detail import TradeDetailScreen
from screens.widgets.config_text import properties, title_parts
from screens.widgets.equity_chart import EquityChart
from screens.widgets.flow_text import FlowLabel
from screens.widgets.metrics_panel import MetricsPanel
from screens.widgets.price_bars import PriceBars
from screens.widgets.price_chart import PriceChart
from screens.widgets.properties_view import PropertiesView
from screens.widgets.report_view import ReportView
from screens.widgets.trades_table import TradesTable

TABS = ("summary", "trades", "reports", "chart", "config")
_TAB_KEYS = Binding.Group("Tabs", compact=True)
EAGER_SOURCES = ("sample", "file")  # read again at once; an exchange's only when its chart is opened


@dataclass
class PricesLoaded(Message):
    view: RunView
    bars: Optional[PriceBars]
    curve: Optional[EquityCurve]
    problem: str = ""  # why there are no bars


class ResultsView(Vertical):
    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    ResultsView { height: 1fr; }
    ResultsView #results-title { margin: 0 1; text-style: bold; }
    ResultsView #results-tabs { height: 1fr; }
    ResultsView.-empty > * { display: none; }
    ResultsView #results-tabs > ContentSwitcher { height: 1fr; }
    ResultsView TabPane { height: 1fr; padding: 0; }
    ResultsView #summary-scroll, ResultsView #reports-scroll, ResultsView #config-scroll { height: 1fr; }
    ResultsView TradesTable { height: 1fr; margin: 0 1; }
    ResultsView PriceChart { height: 1fr; margin: 0 1; }
    ResultsView.-maximized { height: 1fr; width: 1fr; }
    """
    BINDINGS = [
        *(Binding(str(i + 1), f"tab('{name}')", name.capitalize(), group=_TAB_KEYS) for i, name in enumerate(TABS)),
        Binding("t", "trades", "Trades"),
        Binding("m", "metrics", "Metrics"),
        Binding("z", "zoom", "Zoom"),
    ]

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.view: Optional[RunView] = None
        self.price_problem = ""  # why a stored run's price chart is empty
        self._prices_asked = False
        self.add_class("-empty")  # no tabs of nothing before the first run

    def compose(self) -> ComposeResult:
        yield FlowLabel([], max_lines=2, id="results-title")
        with TabbedContent(id="results-tabs"):
            with TabPane("Summary", id="tab-summary"):
                with VerticalScroll(id="summary-scroll"):
                    yield MetricsPanel(id="metrics")
                    yield EquityChart(id="equity-chart")
            with TabPane("Trades", id="tab-trades"):
                yield TradesTable(id="trades")
            with TabPane("Reports", id="tab-reports"):
                with VerticalScroll(id="reports-scroll"):
                    yield ReportView(id="report")
            with TabPane("Chart", id="tab-chart"):
                yield PriceChart(id="price-chart")
            with TabPane("Config", id="tab-config"):
                with VerticalScroll(id="config-scroll"):
                    yield PropertiesView(id="properties")

    def on_unmount(self) -> None:
        self.workers.cancel_node(self)

    # ------------------------------------------------------------------ content
    def show(self, view: RunView) -> None:
        self.remove_class("-empty")
        self.view = view
        self.price_problem = ""
        self._prices_asked = False
        self.query_one("#results-title", FlowLabel).set_parts(
            title_parts(view.config, view.market, view.source, view.run_id, view.parent_run_id, view.period))
        self.query_one(MetricsPanel).show(view.metrics)
        self.query_one(EquityChart).show(view.curve)
        self.query_one(TradesTable).show(view.trades, view.trade_widths)
        self.query_one(ReportView).show(view.report, view.metrics)
        self.query_one(PropertiesView).show(properties(view.config, view.properties()))
        self._show_prices("" if view.prices is not None or view.can_load_prices else
                          "Price data not available: the run does not say where its candles came from.")
        kind = (view.config.get("data") or {}).get("kind")
        if view.can_load_prices and (kind in EAGER_SOURCES or self.active_tab == "chart"):
            self._ask_prices()

    def set_run_id(self, run_id: int) -> None:
        """The shown run has been stored: its id in the title and the properties."""
        if self.view is None:
            return
        view = self.view = replace(self.view, run_id=run_id)
        self.query_one("#results-title", FlowLabel).set_parts(
            title_parts(view.config, view.market, view.source, view.run_id, view.parent_run_id, view.period))
        self.query_one(PropertiesView).show(properties(view.config, view.properties()))

    def _show_prices(self, message: str = "") -> None:
        view = self.view
        if view is None:
            return
        self.query_one(PriceChart).show(view.prices, view.markers, f"Price  {view.market}",
                                        message or "Loading the run's candles…")

    # ------------------------------------------------------------------ a stored run's candles
    def _ask_prices(self) -> None:
        if self.view is None or self._prices_asked:
            return
        self._prices_asked = True
        self.run_worker(lambda view=self.view: self._load_prices(view), name="results-prices",
                        group="results-prices", thread=True, exclusive=True, exit_on_error=False)

    def _load_prices(self, view: RunView) -> None:
        services = getattr(self.app, "services", None)
        if services is not None:
            load = services.load_candles
        else:
            from engine.runner import load_data as load
        try:
            bars, curve = load_prices(view, load)
        except Exception as exc:  # a missing file, no network, changed candles: said, not raised
            text = str(exc).strip().splitlines()
            self.post_message(PricesLoaded(view, None, None, text[0] if text else exc.__class__.__name__))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(PricesLoaded(view, bars, curve))

    def on_prices_loaded(self, event: PricesLoaded) -> None:
        if event.view is not self.view:
            return  # another run is shown by now
        view = self.view
        if event.bars is None or event.curve is None:
            self.price_problem = f"Price data not available: {event.problem}"
            self._show_prices(self.price_problem)
            return
        view.prices, view.curve = event.bars, event.curve
        self._show_prices()
        self.query_one(EquityChart).show(view.curve)

    # ------------------------------------------------------------------ tabs and keys
    @property
    def active_tab(self) -> str:
        return self.query_one("#results-tabs", TabbedContent).active.removeprefix("tab-")

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if self.active_tab == "chart" and self.view is not None and self.view.can_load_prices:
            self._ask_prices()

    def _focus_target(self, name: str) -> Widget:
        targets = {"summary": "#summary-scroll", "trades": "#trades", "reports": "#reports-scroll",
                   "config": "#config-scroll"}
        return self.query_one(targets[name]) if name in targets else self.query_one("#results-tabs Tabs", Tabs)

    def action_tab(self, name: str) -> None:
        """Show tab ``name`` and put the keys there (the trades, or the page to scroll)."""
        self.query_one("#results-tabs", TabbedContent).active = f"tab-{name}"
        self._focus_target(name).focus(scroll_visible=False)

    def action_trades(self) -> None:
        self.action_tab("trades")

    def action_metrics(self) -> None:
        self.action_tab("summary")

    def focus_results(self) -> None:
        """Put the keys in the results (for a screen that has just shown a run)."""
        self._focus_target(self.active_tab or "summary").focus(scroll_visible=False)

    def action_zoom(self) -> None:
        """The results alone on the screen (every trades column fits), or back."""
        if self.is_maximized:
            self.screen.minimize()
        else:
            self.screen.maximize(self, container=False)

    # ------------------------------------------------------------------ trades
    def on_trades_table_trade_chosen(self, event: TradesTable.TradeChosen) -> None:
        if self.view is not None:
            self.app.push_screen(TradeDetailScreen(event.trade, self.view.fills_of(event.trade.trade_no), self.step_trade))

    def step_trade(self, by: int) -> Optional[tuple[TradeRow, list[FillRow]]]:
        """The trade ``by`` rows from the cursor in the table's order, the cursor moved onto it;
        None past either end."""
        table = self.query_one(TradesTable)
        row = table.cursor + by
        if self.view is None or not 0 <= row < table.row_count:
            return None
        table.move_cursor(row)
        trade = table.trade_at(row)
        return trade, self.view.fills_of(trade.trade_no)
