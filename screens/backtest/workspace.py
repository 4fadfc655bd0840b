"""The Backtest workspace: the form on the left, progress and results on the right.

Once a run's results are shown the form steps aside and the results take the whole
width (every trades column fits at 160 columns, the metrics whole at 80) and the keys
(1-5, t, m, z) go to them. ctrl+f shows or hides the form; with the form hidden, ctrl+r
is Configure: the form comes back with the keys in it, for the next run.

Its keys are priority bindings: focus stays in a form field after a run, and an
Input's own ctrl+e (end of line) would otherwise take Export CSV and drop it from the
Footer. Actions that cannot run now (export before a run, cancel when idle) are
dimmed in the Footer rather than hidden, so the keys stay where the eye learnt them.

The results shown always say which run they are: after a failed or cancelled run the
previous run's results stay, dimmed and named as the previous run, and the exports
write that run, never a run that is not on screen.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Optional, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Label, ProgressBar, Static

from screens.backtest.commands import FormCommands
from screens.backtest.fields import form_memory, settings_defaults
from screens.backtest.form import BacktestForm
from screens.backtest.jobs import backtest_job, download_job, export_job
from screens.backtest.messages import (
    BacktestFinished, BacktestProgress, DownloadFinished, DownloadProgress, ExportFailed, ExportWritten, RunCancelled,
    RunFailed, RunNotSaved, RunPhase, RunSaved,
)
from screens.services import Services, db_label
from screens.widgets.results_view import ResultsView

# A run's phases in order, as the status line names them.
PHASES = {
    "load": "Loading candles",
    "signals": "Computing signals",
    "run": "Running",
    "metrics": "Computing metrics",
    "view": "Building the results",
}
NEEDS_RESULT = {"export_csv", "export_json", "open_replay", "copy_path"}


class BacktestScreen(Screen):
    CSS_PATH = "backtest.tcss"
    COMMANDS = {FormCommands}
    # Two actions share ctrl+r and two ctrl+f; check_action shows the one that applies.
    BINDINGS = [
        Binding("ctrl+r", "run", "Run", priority=True),
        Binding("ctrl+r", "configure", "Configure", priority=True, tooltip="Show the form to set up the next run"),
        Binding("ctrl+f", "hide_form", "Hide form", priority=True, tooltip="Give the results the whole width"),
        Binding("ctrl+f", "show_form", "Show form", priority=True),
        # Not a priority: an open Select's menu closes on escape first.
        Binding("escape", "cancel", "Cancel run"),
        Binding("ctrl+e", "export_csv", "Export CSV", priority=True),
        Binding("ctrl+j", "export_json", "Export JSON", priority=True),
        Binding("ctrl+o", "open_replay", "Open in replay", priority=True),
        Binding("ctrl+y", "copy_path", "Copy path", priority=True, show=False),  # named on the export line
    ]

    _KEY_ORDER = list(dict.fromkeys(b.key for b in BINDINGS))

    def __init__(self) -> None:
        super().__init__()
        self.cancel_event: Optional[threading.Event] = None
        self.result = None  # the run on screen (exports and replay take this one)
        self.run_id: Optional[int] = None
        self.saving = False  # the results are shown; the run is being stored
        self._run_when_valid = False
        self._finished = ""  # what the finished run's status line says after its id
        self.export_path: Optional[str] = None
        self._phase: Optional[tuple[str, str, float]] = None  # name, detail, when it began (monotonic)
        self.form_hidden = False  # the results have the whole width

    @property
    def services(self) -> Services:
        return cast(Services, getattr(self.app, "services"))

    def compose(self) -> ComposeResult:
        memory = self.services.load_form_memory()
        yield Header()
        with Horizontal():
            with Vertical(id="left"):
                yield BacktestForm(defaults=settings_defaults(self.services.settings), memory=memory, id="form")
                yield Static("", id="problems")
                with Horizontal(id="run-buttons"):
                    yield Button("Run", id="run", variant="success", disabled=True)
                    yield Button("Cancel", id="cancel", variant="error", disabled=True)
            with Vertical(id="right"):
                with Vertical(id="run-status"):
                    yield Label("Configure a backtest and press Run (ctrl+r).", id="status")
                    yield ProgressBar(id="progress", show_eta=False)
                    yield Static("", id="export-path")
                yield ResultsView(id="results")
                with Horizontal(id="result-buttons"):
                    yield Button("Export CSV", id="export-csv", disabled=True)
                    yield Button("Export JSON", id="export-json", disabled=True)
                    yield Button("Open in replay", id="open-replay", disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"Backtest · db {db_label(self.services.db_url)}"
        self.set_interval(1.0, self._tick)

    def on_unmount(self) -> None:
        if self.cancel_event is not None:
            self.cancel_event.set()
        self.workers.cancel_node(self)

    def on_screen_resume(self) -> None:
        """Back from Settings (or another workspace): saved settings reach the form now,
        not at the next start, except where the trader typed a value of their own."""
        form = self._form
        kept = form.follow_defaults(settings_defaults(self.services.settings)) if form is not None else []
        if kept:
            self.notify("The form keeps your own " + ", ".join(kept) + "; the settings give the defaults.",
                        title="Settings", timeout=6)

    # ------------------------------------------------------------------ keys
    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The focused widget's keys, then this screen's in their own order, then the app's.
        The Footer lists keys in the order found, and a focused Input (whose ctrl+e the
        priority binding replaces) put Export CSV before Run: the keys moved about as
        focus did."""
        found = super().active_bindings
        widget = [k for k, b in found.items() if b.node is not self and b.node is not self.app]
        mine = [k for k in self._KEY_ORDER if k in found and found[k].node is self]
        first = widget + [k for k in mine if k not in widget]
        return {**{k: found[k] for k in first}, **{k: b for k, b in found.items() if k not in first}}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        """None dims a key in the Footer (and lets the key through to the focused field)."""
        if action == "run":
            if self.form_hidden:
                return False
            form = self._form
            return None if self.running or form is None or bool(form.problems) else True
        if action in ("configure", "show_form"):
            return self.form_hidden
        if action == "hide_form":
            return False if self.form_hidden else (None if self.result is None else True)
        if action == "cancel":
            return True if self.running else None
        if action in NEEDS_RESULT:
            if self.result is None or (action == "copy_path" and self.export_path is None):
                return None
            if (self.saving and action != "copy_path") or (action == "open_replay" and self.run_id is None):
                return None
        return True

    # ------------------------------------------------------------------ form state
    @property
    def running(self) -> bool:
        return self.cancel_event is not None

    def on_backtest_form_validity(self, event: BacktestForm.Validity) -> None:
        self.query_one("#run", Button).disabled = self.running or not event.valid
        problems = self.query_one("#problems", Static)
        count = len(event.problems)
        # The count on the box's edge, so its few lines all go to the problems themselves.
        problems.border_title = f"{count} problem{'s' if count > 1 else ''} to fix" if count else ""
        problems.update("\n".join(f"• {msg}" for msg in event.problems.values()) or "Ready to run (ctrl+r).")
        problems.set_class(not event.valid, "-problem")
        self.refresh_bindings()
        if self._run_when_valid:  # a re-run asked for from History, once its form has checked it
            self._run_when_valid = False
            if event.valid:
                self.action_run()

    # ------------------------------------------------------------------ the form aside
    def _set_form_hidden(self, hidden: bool) -> None:
        self.form_hidden = hidden
        self.set_class(hidden, "-form-hidden")
        self.refresh_bindings()

    def action_hide_form(self) -> None:
        """The results alone across the screen, the keys in them."""
        if self.result is None:
            return
        self._set_form_hidden(True)
        self.query_one(ResultsView).focus_results()

    def action_show_form(self) -> None:
        """The form back beside the results, the keys in its first field."""
        self._set_form_hidden(False)
        self.query_one("#strategy").focus()

    def action_configure(self) -> None:
        self.action_show_form()

    async def load_configuration(self, config: dict[str, Any], run_id: int, run_now: bool = False) -> None:
        """A stored run's configuration in the form (opened from History): to change and
        run, or with ``run_now`` to run again at once as it is."""
        if self.running:
            self.notify("A run is in progress: cancel it first (Esc).", severity="warning")
            return
        old = self.query_one(BacktestForm)
        form = BacktestForm(defaults=settings_defaults(self.services.settings), memory=form_memory(config), id="form")
        await old.remove()
        await self.query_one("#left").mount(form, before=0)
        self._run_when_valid = run_now
        self.action_show_form()
        self._status(f"Run #{run_id}'s configuration is in the form: " +
                     ("running it again ..." if run_now else "change it, or press Run (ctrl+r) to run it again."))

    # ------------------------------------------------------------------ run / cancel
    @property
    def _form(self) -> Optional[BacktestForm]:
        """The form; None for the moment a stored run's configuration replaces it."""
        forms = self.query(BacktestForm)
        return forms.first() if forms else None

    def action_run(self) -> None:
        form = self._form
        if self.running or form is None or form.revalidate():
            return
        config = form.build()
        try:
            self.services.save_form_memory(form.memory())
        except OSError as exc:
            self.notify(f"The form's entries were not kept for the next start: {exc}", severity="warning")
        self.cancel_event = cancel = threading.Event()
        self._set_running(True)
        services = self.services
        if config.data.kind == "exchange":
            self._status(f"Downloading {config.data.describe()} ...")
            self.run_worker(lambda: download_job(services, config, self.post_message, cancel), name="download",
                            group="download", thread=True, exclusive=True, exit_on_error=False)
        else:
            self._status("Starting ...")
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
            self._phase = None
        self.query_one("#cancel", Button).disabled = not running
        form = self._form
        self.query_one("#run", Button).disabled = running or form is None or bool(form.problems)
        bar = self.query_one("#progress", ProgressBar)
        # Shown only while a run works: a bar left behind kept pulsing after a failure.
        bar.display = running
        if running:
            bar.update(total=None, progress=0)
            self._mark_results_previous(True)
        self.refresh_bindings()

    def _status(self, text: str) -> None:
        self.query_one("#status", Label).update(text)

    # ------------------------------------------------------------------ the results on screen
    def _mark_results_previous(self, previous: bool, why: str = "") -> None:
        """Dim the results of the run before this one, and say so, or show them as current."""
        results = self.query_one(ResultsView)
        results.set_class(previous and self.result is not None, "-previous")
        self._label_exports()
        if previous and self.result is not None and why:
            self._status(f"{why} Shown below: run #{self.run_id}, the previous run.")

    def _label_exports(self) -> None:
        shown = self.result is not None
        run = f" #{self.run_id}" if shown and self.run_id is not None else ""
        for button_id, label in (("#export-csv", "Export CSV"), ("#export-json", "Export JSON"),
                                 ("#open-replay", "Open in replay")):
            button = self.query_one(button_id, Button)
            button.label = label + run
            button.refresh(layout=True)  # a label's width is not re-measured by itself
            # Exports name the run's id: they wait the moment it takes to store the run. A
            # replay opens a stored run: none without an id.
            button.disabled = not shown or self.saving or (button_id == "#open-replay" and self.run_id is None)

    # ------------------------------------------------------------------ worker messages
    def on_download_progress(self, event: DownloadProgress) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=event.expected, progress=event.candles)
        self._status(f"Downloading ... {event.candles:,} candles" + (f" of ~{event.expected:,}" if event.expected else ""))

    def on_download_finished(self, event: DownloadFinished) -> None:
        self._status(f"Downloaded {len(event.candles):,} candles. Running ...")
        self._start_backtest(event.config, event.candles)

    def on_run_phase(self, event: RunPhase) -> None:
        if not self.running:
            return
        self._phase = (event.name, event.detail, time.monotonic())
        if event.name != "run":  # the run's own progress counts bars; the others have no count
            self.query_one("#progress", ProgressBar).update(total=None, progress=0)
        self._show_phase()

    def _show_phase(self, counts: str = "") -> None:
        if self._phase is None:
            return
        name, detail, began = self._phase
        step = list(PHASES).index(name) + 1 if name in PHASES else 0
        seconds = time.monotonic() - began
        text = f"Step {step}/{len(PHASES)} · {PHASES.get(name, name)}"
        text += f" ... {counts}" if counts else (f" ({detail})" if detail else " ...")
        if not counts and seconds >= 1:
            text += f" · {seconds:.0f} s"
        self._status(text)

    def _tick(self) -> None:
        """A phase without a count still shows it is alive: its seconds go up."""
        if self.running and self._phase is not None and self._phase[0] != "run":
            self._show_phase()

    def on_backtest_progress(self, event: BacktestProgress) -> None:
        if not self.running:
            return
        with self.app.batch_update():
            self.query_one("#progress", ProgressBar).update(total=event.bars_total, progress=event.bars_done)
            if self._phase is None or self._phase[0] != "run":
                self._phase = ("run", "", time.monotonic())
            self._show_phase(f"{event.bars_done:,} / {event.bars_total:,} bars · {event.elapsed:.1f} s")

    def on_backtest_finished(self, event: BacktestFinished) -> None:
        self.result, self.run_id = event.result, event.run_id
        self.saving = event.run_id is None
        self._finished = f"{len(event.result.candles):,} bars in {event.elapsed:.1f} s, {len(event.result.trades):,} trades."
        self.export_path = None
        self._set_running(False)
        with self.app.batch_update():
            self._status(f"Run finished: {self._finished} Saving it ..." if self.saving else
                         f"Run #{event.run_id} finished: {self._finished}")
            self._show_export_path("")
            results = self.query_one(ResultsView)
            results.show(event.view)
            self._mark_results_previous(False)
            # The form steps aside for the results, and the results' keys work at once.
            self._set_form_hidden(True)
            results.focus_results()
        self.refresh_bindings()

    def on_run_saved(self, event: RunSaved) -> None:
        if event.result is not self.result:  # a run replaced on screen before it was stored
            return
        self.run_id, self.saving = event.run_id, False
        with self.app.batch_update():
            self._status(f"Run #{event.run_id} finished: {self._finished}")
            self.query_one(ResultsView).set_run_id(event.run_id)
            self._label_exports()
        self.refresh_bindings()

    def on_run_not_saved(self, event: RunNotSaved) -> None:
        if event.result is not self.result:
            return
        self.saving = False
        self._status(f"Run finished, but NOT saved: {event.message}")
        self._label_exports()
        self.notify(event.message, title="The run was not saved", severity="error", timeout=10)
        self.refresh_bindings()

    def on_run_failed(self, event: RunFailed) -> None:
        self._set_running(False)
        self._status("Stopped: " + event.message)
        self._mark_results_previous(True, "Stopped: " + event.message + ".")
        self.notify(event.message, title="Backtest failed", severity="error", timeout=10)

    def on_run_cancelled(self, event: RunCancelled) -> None:
        self._set_running(False)
        self._status("Cancelled. Nothing was saved.")
        self._mark_results_previous(True, "Cancelled; nothing was saved.")
        self.notify("Run cancelled; nothing was saved.", severity="warning")

    # ------------------------------------------------------------------ results actions
    def _export(self, kind: str) -> None:
        if self.result is None:
            self.notify("Run a backtest first.", severity="warning")
            return
        services, result, run_id = self.services, self.result, self.run_id
        self.run_worker(lambda: export_job(services, result, run_id, kind, self.post_message), name=f"export-{kind}",
                        group="export", thread=True, exit_on_error=False)

    def on_export_written(self, event: ExportWritten) -> None:
        self.export_path = event.path
        self._show_export_path(f"Exported run #{event.run_id}: {event.path}  (ctrl+y copies it)")
        self.notify(event.path, title=f"Exported run #{event.run_id}", timeout=8)
        self.refresh_bindings()

    def _show_export_path(self, text: str) -> None:
        """The line under the status, there only while it says something (a row counts at 80x24)."""
        line = self.query_one("#export-path", Static)
        line.update(text)
        line.display = bool(text)

    def on_export_failed(self, event: ExportFailed) -> None:
        self.notify(f"Could not export: {event.message}", severity="error", timeout=10)

    def action_export_csv(self) -> None:
        self._export("csv")

    def action_export_json(self) -> None:
        self._export("json")

    def action_copy_path(self) -> None:
        if self.export_path is not None:
            self.app.copy_to_clipboard(self.export_path)
            self.notify(self.export_path, title="Path copied")

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
