"""Pilot flows of the Backtest workspace, asserting on state (database, tables, files)."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.widgets import Button, DataTable

from atb_tui.cli import main as cli_main
from engine.store import list_runs, open_db
from screens.backtest.form import BacktestForm
from screens.backtest.workspace import BacktestScreen
from screens.trade_detail import TradeDetailScreen
from screens.widgets.trades_table import TradesTable
from tests.ui_support import HeldDataSource, make_app

SIZE = (160, 50)


async def _until(pilot, condition, timeout: float = 30.0) -> None:
    """Let the app run until ``condition()`` holds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await pilot.pause(0.02)


def _fill(screen: BacktestScreen, **values: str) -> None:
    form = screen.query_one(BacktestForm)
    for key, value in values.items():
        form.set_value(key.replace("param_", "p-"), value)


async def test_configure_run_and_results_match_the_headless_cli(tmp_path: Path, capsys) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, BacktestScreen)
        _fill(screen, param_fast="12", param_slow="48", stop_loss="3", trailing_activation="2",
              trailing_distance="1.5", partial_targets="2,4", partial_sizes="0.3,0.3")
        await pilot.pause()
        assert not screen.query_one("#run", Button).disabled
        await pilot.click("#run")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: screen.run_id is not None)  # shown first, then stored
        table = screen.query_one(TradesTable)
        ui_trades = {n: table.trade(n) for n in table.visible_order()}
        ui_metrics = screen.result.metrics
        run_id = screen.run_id
    code = cli_main([
        "backtest", "--strategy", "sma_cross", "--param", "fast=12", "--param", "slow=48", "--stop-loss", "3",
        "--trailing-activation", "2", "--trailing-distance", "1.5", "--partial-targets", "2,4",
        "--partial-sizes", "0.3,0.3", "--json", "--no-save",
    ])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["metrics"] == ui_metrics
    assert len(doc["trades"]) == len(ui_trades) > 10
    for cli_trade in doc["trades"]:
        ui = ui_trades[cli_trade["trade_no"]]
        assert ui.entry_time.isoformat() == cli_trade["entry_time"] and ui.exit_price == cli_trade["exit_price"]
        assert ui.pnl == cli_trade["pnl"] and ui.exit_reason == cli_trade["exit_reason"]
    runs = list_runs(open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}"))
    assert [r.id for r in runs] == [run_id]


async def test_cancel_mid_run_stores_nothing_and_the_form_stays_usable(tmp_path: Path) -> None:
    source = HeldDataSource()
    app = make_app(tmp_path, loader=source)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.click("#run")
        await _until(pilot, source.waiting.is_set)
        assert not screen.query_one("#cancel", Button).disabled
        assert screen.query_one("#run", Button).disabled
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: not screen.running)
        assert "Cancelled" in str(screen.query_one("#status").render())
        assert not screen.query_one("#run", Button).disabled
        assert screen.result is None
        # The form still works: release the source and run again to completion.
        source.release.set()
        await pilot.click("#run")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: screen.result is not None and not screen.saving)
    runs = list_runs(open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}"))
    assert len(runs) == 1


def _bad_csv(tmp_path: Path) -> Path:
    """A candle file whose third line has its high below its low."""
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,0.4,0.5,1.5,10\n")
    return bad


async def _run_file(pilot, screen: BacktestScreen, path: Path) -> None:
    """Run on a candle file, until the run has ended (failed, here)."""
    if screen.form_hidden:  # results on screen: Configure brings the form back
        await pilot.press("ctrl+r")
        await pilot.pause()
    screen.query_one("#source").value = "file"
    _fill(screen, path=str(path))
    await pilot.pause()
    await pilot.click("#run")
    await pilot.app.workers.wait_for_complete()
    await _until(pilot, lambda: not screen.running and path.name in str(screen.query_one("#status").render()))


async def test_an_invalid_csv_shows_an_error_and_writes_nothing(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = app.screen
        await _run_file(pilot, screen, _bad_csv(tmp_path))
        status = str(screen.query_one("#status").render())
        assert "bad.csv line 3" in status and "high" in status
        assert any("bad.csv line 3" in n.message for n in app._notifications)
        assert screen.result is None
    db = tmp_path / "runs.sqlite"
    assert not db.exists() or list_runs(open_db(f"sqlite:///{db}")) == []


async def test_validation_as_you_type_disables_run(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        run = screen.query_one("#run", Button)
        assert not run.disabled
        for key, value, needle in [
            ("fee", "abc", "not a number"),
            ("param_fast", "40", "fast"),
            ("partial_sizes", "0.5", "as many sizes"),
            ("trailing_activation", "1", "trailing"),
        ]:
            _fill(screen, **{key: value})
            await pilot.pause()
            assert run.disabled, key
            assert needle in str(screen.query_one("#problems").render())
            _fill(screen, **{key: ""} if key not in ("fee", "param_fast") else {key: {"fee": "0.1", "param_fast": "10"}[key]})
            await pilot.pause()
            assert not run.disabled, key


async def test_sort_trades_open_detail_and_export(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        _fill(screen, partial_targets="2", partial_sizes="0.5")
        await pilot.pause()
        await pilot.click("#run")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: screen.result is not None and not screen.saving)
        table = screen.query_one(TradesTable)
        table.sort_by("pnl")
        order = table.visible_order()
        pnls = [table.trade(n).pnl for n in order]
        assert pnls == sorted(pnls)
        table.sort_by("pnl")  # same column again: descending
        assert [table.trade(n).pnl for n in table.visible_order()] == sorted(pnls, reverse=True)
        table.focus()
        table.move_cursor(row=0)
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, TradeDetailScreen))
        detail = app.screen
        best = detail.trade
        assert best.pnl == max(pnls)
        kinds = [f.kind for f in detail.fills]
        assert kinds[0] == "entry" and kinds[-1] in ("exit",) and len(detail.query_one("#fills", DataTable).rows) == len(kinds)
        # Both entries, each labelled: the trade's cost basis and the moving average after each fill.
        fills_table = detail.query_one("#fills", DataTable)
        assert "Avg entry after" in [str(c.label) for c in fills_table.columns.values()]
        assert f"cost basis {best.entry_price:,.2f}" in str(detail.query_one("#trade-summary").render())
        assert fills_table.get_row_at(0)[4] == f"{detail.fills[0].avg_entry:,.2f}"
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, BacktestScreen))
        await pilot.press("ctrl+e")
        await pilot.press("ctrl+j")
        await pilot.pause()
    csv_file = tmp_path / f"atb-run-{screen.run_id}-trades.csv"
    json_file = tmp_path / f"atb-run-{screen.run_id}.json"
    assert csv_file.read_text().count("\n") == len(pnls) + 1
    assert json.loads(json_file.read_text())["run_id"] == screen.run_id


async def test_open_in_replay_hands_the_run_over(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.click("#run")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: screen.result is not None and not screen.saving)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.current_mode == "replay"
        assert app.screen.run_id == screen.run_id


@pytest.mark.parametrize("key, mode", [("f4", "history"), ("f3", "live"), ("f2", "replay"), ("f1", "backtest")])
async def test_workspace_keys_switch_modes(tmp_path: Path, key: str, mode: str) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        if mode == "backtest":
            await pilot.press("f4")
        await pilot.press(key)
        await pilot.pause()
        assert app.current_mode == mode


# ---------------------------------------------------------------------------------------
# Issue 10: keys from anywhere, one rule per setting, settings reaching the form, failed
# runs, phases, exports, form and CLI agreeing, the form's flow.


@asynccontextmanager
async def _workspace(tmp_path: Path):
    """The Backtest workspace at SIZE, settled: (pilot, screen, form)."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        yield pilot, app.screen, app.screen.query_one(BacktestForm)


def _app(tmp_path: Path, *, settings=None, loader=None, export_dir=None, memory: bool = False):
    """An app with the back-ends a test chooses (``memory``: the form's entries kept in tmp_path)."""
    from atb_tui.app import create_app
    from atb_tui.backends import Backends
    from atb_tui.settings import Settings
    from tests.ui_support import FIXED_NOW, ticking_clock

    kw = {"candle_loader": loader} if loader is not None else {}
    if memory:
        kw["form_memory_path"] = tmp_path / "config" / "backtest-form.json"
    return create_app(Backends(
        settings=settings or Settings(), db_url=f"sqlite:///{tmp_path / 'runs.sqlite'}", clock=ticking_clock(),
        now=lambda: FIXED_NOW, export_dir=export_dir or tmp_path, settings_path=tmp_path / "settings.toml", **kw,
    ))


async def _run_to_results(pilot, screen: BacktestScreen) -> None:
    before = screen.run_id
    await pilot.click("#run")
    await pilot.app.workers.wait_for_complete()
    await _until(pilot, lambda: screen.result is not None and not screen.saving and screen.run_id != before)


def _footer_keys(app) -> dict[str, str]:
    from textual.widgets._footer import FooterKey

    return {k.key: k.description for k in app.screen.query(FooterKey) if not k.has_class("-disabled")}


async def test_workspace_keys_work_from_a_form_field(tmp_path: Path) -> None:
    """Bug 2: with the focus in a form field, ctrl+e exported nothing (the Input's
    end-of-line won) and the Footer did not list it."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        fee = screen.query_one("#f-fee")
        fee.focus()
        await pilot.press("ctrl+r")  # Run, from the field
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: screen.result is not None and not screen.saving)
        await pilot.press("ctrl+f")  # the form back (the results took the width and the keys)
        fee.focus()
        await pilot.pause()
        keys = _footer_keys(app)
        assert keys.get("ctrl+e") == "Export CSV" and keys.get("ctrl+j") == "Export JSON"
        assert keys.get("ctrl+o") == "Open in replay" and keys.get("ctrl+r") == "Run"
        assert keys.get("ctrl+f") == "Hide form"
        # In their order, wherever focus is.
        assert list(keys)[:5] == ["ctrl+r", "ctrl+f", "ctrl+e", "ctrl+j", "ctrl+o"]
        await pilot.press("ctrl+e")
        await _until(pilot, lambda: screen.export_path is not None)
        assert Path(screen.export_path).name == f"atb-run-{screen.run_id}-trades.csv"
        await pilot.press("ctrl+j")
        await _until(pilot, lambda: screen.export_path.endswith(".json"))
        assert app.focused is fee and fee.value == "0.1"  # the keys did not edit the field
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.current_mode == "replay"


async def test_results_take_the_width_and_the_keys_and_ctrl_f_brings_the_form_back(tmp_path: Path) -> None:
    """Issue 10: once the results are shown the form steps aside (every trades column fits
    at 160 columns without zoom) and the results' keys work at once, without Tab. ctrl+f
    toggles the form; with it hidden, ctrl+r is Configure: the form back, keys in it."""
    from screens.widgets.results_view import ResultsView
    from screens.widgets.trade_cells import COLUMNS

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        left, results = screen.query_one("#left"), screen.query_one(ResultsView)
        assert not screen.form_hidden and _footer_keys(app).get("ctrl+r") == "Run"
        assert "ctrl+f" not in _footer_keys(app)  # dimmed: no results to give the width to
        await _run_to_results(pilot, screen)
        await pilot.pause()
        assert screen.form_hidden and not left.display and results.size.width == SIZE[0]
        assert app.focused is not None and results in app.focused.ancestors_with_self
        keys = _footer_keys(app)
        assert keys.get("ctrl+r") == "Configure" and keys.get("ctrl+f") == "Show form"
        assert keys.get("t") == "Trades" and keys.get("z") == "Zoom"
        await pilot.press("t")  # no Tab first
        table = results.query_one(TradesTable)
        assert results.active_tab == "trades" and table.has_focus
        await _until(pilot, lambda: table.row_count > 0 and table.size.width > 0)
        assert table.virtual_size.width <= table.scrollable_content_region.width  # no column off to the right
        header = table.render_line(0).text
        assert all(c.label in header for c in COLUMNS) and "Bars" in header and "Exit reason" in header
        # ctrl+f: the form back beside the results, the keys in its first field; again: aside.
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert not screen.form_hidden and left.display and results.size.width < SIZE[0]
        assert app.focused is screen.query_one("#strategy")
        assert _footer_keys(app).get("ctrl+r") == "Run" and _footer_keys(app).get("ctrl+f") == "Hide form"
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert screen.form_hidden and results in app.focused.ancestors_with_self
        # ctrl+r with the form aside does not run the same configuration again: it opens the form.
        count = len(list_runs(open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}")))
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not screen.form_hidden and not screen.running and app.focused is screen.query_one("#strategy")
        assert len(list_runs(open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}"))) == count
        await pilot.press("ctrl+r")  # now it runs
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: screen.form_hidden)
        assert len(list_runs(open_db(f"sqlite:///{tmp_path / 'runs.sqlite'}"))) == count + 1


async def test_the_form_toggle_is_in_the_command_palette(tmp_path: Path) -> None:
    from textual.command import CommandPalette

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _run_to_results(pilot, screen)
        assert screen.form_hidden
        await pilot.press("ctrl+p")
        await _until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"show the backtest form")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await _until(pilot, lambda: not screen.form_hidden)
        assert app.screen is screen and app.focused is screen.query_one("#strategy")


async def test_a_held_run_from_a_form_field_names_its_phase_and_escape_cancels_it(tmp_path: Path) -> None:
    """Bug 9: a long load showed "Running ..." with nothing moving. Bug 2: the keys work
    from a form field. Bug 8: the bar pulsed on after the run was cancelled."""
    from textual.widgets import ProgressBar

    source = HeldDataSource()
    app = make_app(tmp_path, loader=source)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        bar = screen.query_one("#progress", ProgressBar)
        screen.query_one("#f-stop_loss").focus()
        await pilot.press("ctrl+r")
        await _until(pilot, source.waiting.is_set)
        await _until(pilot, lambda: "Loading" in str(screen.query_one("#status").render()))
        status = str(screen.query_one("#status").render())
        assert status.startswith("Step 1/5 · Loading candles (embedded synthetic sample)")
        assert bar.display and bar.total is None  # no count: it pulses, it is alive
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: not screen.running)
        await pilot.pause()
        assert "Cancelled" in str(screen.query_one("#status").render()) and not bar.display


async def test_a_fee_the_settings_accept_opens_a_valid_form(tmp_path: Path) -> None:
    """Bug 3: Settings saved a fee of 9.995 %, and the form opened refusing it ("at most 9.99")."""
    from atb_tui.settings import Settings, load_settings, save_settings

    save_settings(Settings(fee_pct=9.995, slippage_pct=9.995, balance=1e6), tmp_path / "settings.toml")
    settings = load_settings(tmp_path / "settings.toml", environ={})
    app = _app(tmp_path, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.pause()
        form = screen.query_one(BacktestForm)
        assert form.query_one("#f-fee").value == "9.995" and form.query_one("#f-balance").value == "1000000"
        assert form.problems == {} and not screen.query_one("#run", Button).disabled


async def test_saved_settings_reach_the_open_form(tmp_path: Path) -> None:
    """Bug 4: saved settings reached the form only after a restart. A field the trader typed
    over keeps the trader's value."""
    from textual.widgets import Input

    from screens.settings import SettingsScreen

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = app.screen
        _fill(screen, slippage="0.3")  # the trader's own
        await pilot.pause()
        await pilot.press("f8")
        await _until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        dialog = app.screen
        for name, value in {"fee_pct": "0.2", "slippage_pct": "0.07", "balance": "2500", "default_exchange": "kraken"}.items():
            dialog.query_one(f"#set-{name}", Input).value = value
        await pilot.pause()
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: app.screen is screen)
        await pilot.pause()
        form = screen.query_one(BacktestForm)
        values = {k: form.query_one(f"#f-{k}", Input).value for k in ("fee", "slippage", "balance", "exchange")}
        assert values == {"fee": "0.2", "slippage": "0.3", "balance": "2500", "exchange": "kraken"}
        assert [n.message for n in app._notifications if "keeps your own" in n.message] == [
            "The form keeps your own slippage; the settings give the defaults."]
        # Typed back to the setting, the field follows the settings again.
        _fill(screen, slippage="0.07")
        await pilot.pause()
        assert form.follow_defaults({"slippage": "0.08"}) == [] and form.query_one("#f-slippage", Input).value == "0.08"


async def test_a_failed_run_stops_the_bar_and_marks_the_previous_results(tmp_path: Path) -> None:
    """Bug 8: the bar kept pulsing after a failure, and run #1's results and exports stayed
    as if they were the failed run's."""
    from textual.widgets import ProgressBar

    from screens.widgets.results_view import ResultsView

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = app.screen
        await _run_to_results(pilot, screen)
        first = screen.run_id
        await _run_file(pilot, screen, _bad_csv(tmp_path))
        await pilot.pause()
        bar = screen.query_one("#progress", ProgressBar)
        assert not bar.display  # not left pulsing
        assert screen.query_one(ResultsView).has_class("-previous")
        status = str(screen.query_one("#status").render())
        assert f"run #{first}, the previous run" in status
        assert str(screen.query_one("#export-csv", Button).label) == f"Export CSV #{first}"
        await pilot.press("ctrl+e")
        await _until(pilot, lambda: screen.export_path is not None)
        assert Path(screen.export_path).name == f"atb-run-{first}-trades.csv"
        # A good run again: its results are current.
        screen.query_one("#source").value = "sample"
        await pilot.pause()
        await _run_to_results(pilot, screen)
        assert not screen.query_one(ResultsView).has_class("-previous") and not bar.display


async def test_exports_go_to_the_export_folder_never_over_a_file(tmp_path: Path) -> None:
    """Bug 11: exports went over the same file each time, and the path was not shown."""
    folder = tmp_path / "exports" / "new"  # not there yet
    app = _app(tmp_path, export_dir=folder)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = app.screen
        await _run_to_results(pilot, screen)
        paths = []
        for _ in range(2):
            screen.export_path = None
            await pilot.press("ctrl+e")
            await _until(pilot, lambda: screen.export_path is not None)
            paths.append(Path(screen.export_path))
        assert [p.name for p in paths] == [f"atb-run-{screen.run_id}-trades.csv", f"atb-run-{screen.run_id}-trades-2.csv"]
        assert all(p.parent == folder and p.is_file() for p in paths)
        shown = str(screen.query_one("#export-path").render())
        assert str(paths[1]) in shown
        assert any(str(paths[1]) in n.message for n in app._notifications)
        await pilot.press("ctrl+y")
        assert app.clipboard == str(paths[1])


async def test_the_export_folder_setting_takes_effect(tmp_path: Path) -> None:
    from textual.widgets import Input

    from screens.settings import SettingsScreen

    app = make_app(tmp_path)
    app.services.export_dir = app.services.settings.export_folder()  # as production wires it
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await _run_to_results(pilot, screen)
        await pilot.press("f8")
        await _until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        app.screen.query_one("#set-export_dir", Input).value = str(tmp_path / "mine")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: app.screen is screen)
        await pilot.press("ctrl+j")
        await _until(pilot, lambda: screen.export_path is not None)
        assert Path(screen.export_path).parent == tmp_path / "mine"


async def test_max_bars_held_follows_the_engine_rule_as_the_cli_does(tmp_path: Path, capsys) -> None:
    """Bug 13: the form took 0 as "no limit", the CLI refused it. Empty is no limit; 0 is refused by both."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        _fill(screen, max_holding_bars="0")
        await pilot.pause()
        form = screen.query_one(BacktestForm)
        assert screen.query_one("#run", Button).disabled
        assert form.problems == {"max_holding_bars": "max holding bars must be a whole number, at least 1, got 0"}
        assert form.query_one("#f-max_holding_bars").has_class("-problem")
        _fill(screen, max_holding_bars="")
        await pilot.pause()
        assert form.problems == {}
    code = cli_main(["backtest", "--strategy", "sma_cross", "--max-holding-bars", "0", "--no-save"])
    err = capsys.readouterr().err
    assert code == 2 and "max holding bars must be a whole number, at least 1, got 0" in err


@pytest.mark.parametrize("source, values, field, needle", [
    ("file", {"path": "no/such/file.csv"}, "path", "file.csv: file not found"),
    ("file", {"path": "prices.txt"}, "path", "unsupported file type"),
    ("exchange", {"exchange": "binanse", "since": "2024-01-01"}, "exchange", "did you mean binance"),
    ("exchange", {"timeframe": "1 hour", "since": "2024-01-01"}, "timeframe", "bad timeframe '1 hour'"),
    ("exchange", {"since": "yesterday-ish"}, "since", "is not a date"),
])
async def test_data_fields_are_checked_as_you_type(tmp_path: Path, source, values, field, needle) -> None:
    """Bug 13: the timeframe, the exchange id and a missing file were checked only after Run."""
    (tmp_path / "prices.txt").write_text("x")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#source").value = source
        _fill(screen, **{k: str(tmp_path / v) if k == "path" and "/" not in v else v for k, v in values.items()})
        await pilot.pause()
        form = screen.query_one(BacktestForm)
        assert field in form.problems and needle in form.problems[field], form.problems
        assert form.query_one(f"#f-{field}").has_class("-problem")
        assert screen.query_one("#run", Button).disabled


@pytest.mark.parametrize("values, marked", [
    ({"param_fast": "40"}, {"p-fast", "p-slow"}),
    ({"partial_targets": "2,4", "partial_sizes": "0.5"}, {"partial_targets", "partial_sizes"}),
    ({"trailing_activation": "1"}, {"trailing_activation", "trailing_distance"}),
    ({"size_fraction": "2"}, {"size_fraction", "max_leverage"}),
    ({"risk_per_trade": "1"}, {"risk_per_trade", "stop_loss"}),
])
async def test_a_rule_between_fields_marks_both(tmp_path: Path, values, marked) -> None:
    async with _workspace(tmp_path) as (pilot, screen, form):
        _fill(screen, **values)
        await pilot.pause()
        shown = {str(w.id)[2:] if str(w.id).startswith("f-") else str(w.id) for w in form.query(".-problem")}
        assert shown == marked, form.problems


async def test_the_problems_box_does_not_move_the_form(tmp_path: Path) -> None:
    async with _workspace(tmp_path) as (pilot, screen, form):
        before = form.region
        _fill(screen, fee="x", balance="-1", partial_targets="2,4", partial_sizes="0.5", param_fast="99")
        await pilot.pause()
        assert len(form.problems) >= 4 and form.region == before
        assert screen.query_one("#problems").border_title == f"{len(form.problems)} problems to fix"


async def test_choice_parameters_are_selects_with_their_help_shown(tmp_path: Path) -> None:
    from textual.widgets import Select, Static

    async with _workspace(tmp_path) as (pilot, screen, form):
        mode = form.query_one("#p-mode")
        assert isinstance(mode, Select) and mode.value == "long_only"
        helps = [str(s.render()) for s in form.query("#params .param-help").results(Static)]
        assert helps[0] == "bars in the fast moving average" and len(helps) == 3
        _fill(screen, param_fast="12")
        await pilot.pause()
        assert all(s.display for s in form.query("#params .param-help"))  # still there once typed
        mode.value = "long_short"
        await _run_to_results(pilot, screen)
        assert screen.result.config.params["mode"] == "long_short"


async def test_risk_per_trade_sizing_runs_as_the_cli_does(tmp_path: Path, capsys) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        _fill(screen, risk_per_trade="1", stop_loss="3")
        await pilot.pause()
        await _run_to_results(pilot, screen)
        sizing, metrics = screen.result.config.sizing, screen.result.metrics
    assert (sizing.mode, sizing.risk_pct) == ("risk", 1.0)
    code = cli_main(["backtest", "--strategy", "sma_cross", "--risk-per-trade", "1", "--stop-loss", "3", "--json",
                     "--no-save"])
    assert code == 0 and json.loads(capsys.readouterr().out)["metrics"] == metrics


async def test_the_last_configuration_is_restored_at_the_next_start(tmp_path: Path) -> None:
    from textual.widgets import Input

    app = _app(tmp_path, memory=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#strategy").value = "rsi_reversion"
        await pilot.pause()
        _fill(screen, param_period="10", stop_loss="2.5", slippage="0.2")
        screen.query_one("#p-mode").value = "long_short"
        await pilot.pause()
        await _run_to_results(pilot, screen)
    saved = json.loads((tmp_path / "config" / "backtest-form.json").read_text())
    assert "fee" not in saved["fields"]  # left at the setting: it follows the setting
    app = _app(tmp_path, memory=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = app.screen
        await pilot.pause()
        form = screen.query_one(BacktestForm)
        assert not app._notifications  # the restored slippage is not news about the settings
        assert form.strategy == "rsi_reversion"
        assert form.query_one("#p-period", Input).value == "10" and form.query_one("#p-mode").value == "long_short"
        assert form.query_one("#f-stop_loss", Input).value == "2.5" and form.query_one("#f-slippage", Input).value == "0.2"
        assert form.problems == {}
