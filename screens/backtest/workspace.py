"""The Backtest workspace: the form on the left, progress and results on the right."""

from __future__ import annotations

import threading
from typing import Optional, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Label, ProgressBar, Static

from screens.backtest.form import BacktestForm
from screens.backtest.jobs import backtest_job, download_job
from screens.backtest.messages import (
    BacktestFinished, BacktestProgress, DownloadFinished, DownloadProgress, RunCancelled, RunFailed,
)
from screens.services import Services, db_label
from screens.widgets.results_view import ResultsView


class BacktestScreen(Screen):
    CSS_PATH = "backtest.tcss"
    BINDINGS = [
        Binding("ctrl+r", "run", "Run"),
        Binding("escape", "cancel", "Cancel run"),
        Binding("ctrl+e", "export_csv", "Export CSV"),
        Binding("ctrl+j", "export_json", "Export JSON"),
        Binding("ctrl+o", "open_replay", "Open in replay"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.cancel_event: Optional[threading.Event] = None
        self.result = None
        self.run_id: Optional[int] = None

    @property
    def services(self) -> Services:
        return cast(Services, getattr(self.app, "services"))

    def compose(self) -> ComposeResult:
        s = self.services.settings
        defaults = {"fee": f"{s.fee_pct:g}", "slippage": f"{s.slippage_pct:g}", "balance": f"{s.balance:g}",
                    "exchange": s.default_exchange}
        yield Header()
        with Horizontal():
            with Vertical(id="left"):
                yield BacktestForm(defaults=defaults, id="form")
                yield Static("", id="problems")
                with Horizontal(id="run-buttons"):
                    yield Button("Run", id="run", variant="success", disabled=True)
                    yield Button("Cancel", id="cancel", variant="error", disabled=True)
            with Vertical(id="right"):
                with Vertical(id="run-status"):
                    yield Label("Configure a backtest and press Run (ctrl+r).", id="status")
                    yield ProgressBar(id="progress", show_eta=False)
                yield ResultsView(id="results")
                with Horizontal(id="result-buttons"):
                    yield Button("Export CSV", id="export-csv", disabled=True)
                    yield Button("Export JSON", id="export-json", disabled=True)
                    yield Button("Open in replay", id="open-replay", disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"Backtest · db {db_label(self.services.db_url)}"

    def on_unmount(self) -> None:
        if self.cancel_event is not None:
            self.cancel_event.set()
        self.workers.cancel_node(self)

    # ------------------------------------------------------------------ form state
    @property
    def running(self) -> bool:
        return self.cancel_event is not None

    def on_backtest_form_validity(self, event: BacktestForm.Validity) -> None:
        self.query_one("#run", Button).disabled = self.running or not event.valid
        problems = self.query_one("#problems", Static)
        problems.update("\n".join(f"• {msg}" for msg in event.problems.values()))
        problems.display = not event.valid

    # ------------------------------------------------------------------ run / cancel
    def action_run(self) -> None:
        form = self.query_one(BacktestForm)
        if self.running or form.revalidate():
            return
        config = form.build()
        self.cancel_event = cancel = threading.Event()
        self._set_running(True)
        services = self.services
        if config.data.kind == "exchange":
            self._status(f"Downloading {config.data.describe()} ...")
            self.run_worker(lambda: download_job(services, config, self.post_message, cancel), name="download",
                            group="download", thread=True, exclusive=True, exit_on_error=False)
        else:
            self._status("Running ...")
            self._start_backtest(config, None)

    def _start_backtest(self, config, candles) -> None:  # type: ignore[no-untyped-def]
        cancel = self.cancel_event
        assert cancel is not None
        services = self.services
        self.run_worker(lambda: backtest_job(services, config, candles, self.post_message, cancel), name="backtest",
                        group="backtest", thread=True, exclusive=True, exit_on_error=False)

    def action_cancel(self) -> None:
        if self.cancel_event is not None:
            self.cancel_event.set()
            self._status("Cancelling ...")

    @on(Button.Pressed, "#run")
    def _run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def _set_running(self, running: bool) -> None:
        if not running:
            self.cancel_event = None
        self.query_one("#cancel", Button).disabled = not running
        form = self.query_one(BacktestForm)
        self.query_one("#run", Button).disabled = running or bool(form.problems)
        if running:
            bar = self.query_one("#progress", ProgressBar)
            bar.display = True
            bar.update(total=None, progress=0)

    def _status(self, text: str) -> None:
        self.query_one("#status", Label).update(text)

    # ------------------------------------------------------------------ worker messages
    def on_download_progress(self, event: DownloadProgress) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=event.expected, progress=event.candles)
        self._status(f"Downloading ... {event.candles:,} candles" + (f" of ~{event.expected:,}" if event.expected else ""))

    def on_download_finished(self, event: DownloadFinished) -> None:
        self._status(f"Downloaded {len(event.candles):,} candles. Running ...")
        self._start_backtest(event.config, event.candles)

    def on_backtest_progress(self, event: BacktestProgress) -> None:
        with self.app.batch_update():
            self.query_one("#progress", ProgressBar).update(total=event.bars_total, progress=event.bars_done)
            self._status(f"Running ... {event.bars_done:,} / {event.bars_total:,} bars · {event.elapsed:.1f} s")

    def on_backtest_finished(self, event: BacktestFinished) -> None:
        self.result, self.run_id = event.result, event.run_id
        self._set_running(False)
        n = len(event.result.candles)
        with self.app.batch_update():
            self.query_one("#progress", ProgressBar).update(total=n, progress=n)
            self._status(f"Run #{event.run_id} finished: {n:,} bars in {event.elapsed:.1f} s, "
                         f"{len(event.result.trades):,} trades.")
            self.query_one(ResultsView).show(event.view)
            for button in ("#export-csv", "#export-json", "#open-replay"):
                self.query_one(button, Button).disabled = False

    def on_run_failed(self, event: RunFailed) -> None:
        self._set_running(False)
        self._status("Stopped: " + event.message)
        self.notify(event.message, title="Backtest failed", severity="error", timeout=10)

    def on_run_cancelled(self, event: RunCancelled) -> None:
        self._set_running(False)
        self._status("Cancelled. Nothing was saved.")
        self.notify("Run cancelled; nothing was saved.", severity="warning")

    # ------------------------------------------------------------------ results actions
    def _export(self, kind: str) -> None:
        if self.result is None:
            self.notify("Run a backtest first.", severity="warning")
            return
        from engine.export import run_json, trades_csv, write_atomic

        name = f"atb-run-{self.run_id}" if self.run_id is not None else "atb-run"
        try:
            if kind == "csv":
                path = write_atomic(self.services.export_dir / f"{name}-trades.csv", trades_csv(self.result))
            else:
                path = write_atomic(self.services.export_dir / f"{name}.json", run_json(self.result, self.run_id))
        except OSError as exc:
            self.notify(f"Could not export: {exc}", severity="error")
            return
        self.notify(f"Wrote {path}", title="Exported")

    def action_export_csv(self) -> None:
        self._export("csv")

    def action_export_json(self) -> None:
        self._export("json")

    def action_open_replay(self) -> None:
        if self.run_id is None:
            self.notify("Run a backtest first.", severity="warning")
            return
        opener = getattr(self.app, "open_in_replay", None)
        if opener is not None:
            opener(self.run_id)

    @on(Button.Pressed, "#export-csv")
    def _csv_pressed(self) -> None:
        self.action_export_csv()

    @on(Button.Pressed, "#export-json")
    def _json_pressed(self) -> None:
        self.action_export_json()

    @on(Button.Pressed, "#open-replay")
    def _replay_pressed(self) -> None:
        self.action_open_replay()
