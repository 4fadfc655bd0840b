"""The Replay workspace (F2): a stored run bar by bar, back and forth, with what-if actions.

Opening a run loads it on a worker (database, candles, signals); every move after that
is the engine's own step or restore, fast enough for the UI thread. Autoplay is a timer,
stopped with the screen.
"""

from __future__ import annotations

from typing import Optional

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header

from engine.actions import ManualAction
from engine.errors import InputError
from screens.replay.chart import CandleChart
from screens.replay.event_log import EventLog
from screens.replay.panel import TextPanel
from screens.replay.messages import BranchSaved, ReplayFailed, ReplayLoaded, RunRerun
from screens.replay.view import account_text, chart_view, events, position_text

def bar_of(text: str, index) -> int:  # type: ignore[no-untyped-def]
    """A bar number, or the last bar at or before a date; InputError for anything else."""
    from engine.config import parse_date

    text = text.strip()
    if text.isdigit():
        bar = int(text)
        if bar >= len(index):
            raise InputError(f"bar {bar:,} is past the last bar ({len(index) - 1:,})")
        return bar
    when = parse_date(text)
    bar = int(index.searchsorted(when, side="right")) - 1
    if bar < 0:
        raise InputError(f"{text} is before the first bar ({index[0]:%Y-%m-%d %H:%M} UTC)")
    return bar


SPEEDS = (1, 2, 5, 10, 20, 30, 60)  # bars per second
MAX_FPS = 30  # faster speeds move more than one bar per frame
ZOOMS = (30, 60, 120, 240)  # bars per screen (at most what fits)


class ReplayScreen(Screen):
    CSS_PATH = "replay.tcss"
    BINDINGS = [
        Binding("space", "play", "Play/pause", priority=True),
        Binding("right", "step", "Step", priority=True),
        Binding("left", "back", "Back", priority=True),
        Binding("n", "next_trade", "Next fill"),
        Binding("p", "previous_trade", "Prev fill"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("g", "go_to", "Go to"),
        Binding("home", "first", "Start", priority=True),
        Binding("end", "last", "End", priority=True),
        Binding("left_square_bracket", "zoom_in", "Zoom in"),
        Binding("right_square_bracket", "zoom_out", "Zoom out"),
        Binding("x", "what_if", "What-if"),
        Binding("ctrl+s", "save_branch", "Save branch"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.run_id: Optional[int] = None
        self.replay = None  # engine.replay.Replay, once loaded
        self.config = None  # its engine.config.BacktestConfig
        self.title_text = ""
        self.speed = 2  # index into SPEEDS
        self.zoom = 2  # index into ZOOMS
        self._player: Optional[Timer] = None
        self._owed = 0.0  # bars due to autoplay but not yet shown
        self._last_tick = 0.0
        self._events_seen: object = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield TextPanel("No run open. Open one from a finished backtest (ctrl+o) or from History.", id="replay-status")
        with Horizontal(id="replay-body"):
            yield CandleChart(id="chart")
            with Vertical(id="replay-side"):
                yield TextPanel(id="position")
                yield TextPanel(id="account")
                yield EventLog(id="events")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Replay"
        if self.run_id is not None and self.replay is None:
            self.load(self.run_id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> Optional[bool]:
        if action in ("play", "step", "back", "next_trade", "previous_trade", "go_to", "first", "last", "what_if",
                      "save_branch"):
            return self.replay is not None
        return True

    # ------------------------------------------------------------------ loading
    def show_run(self, run_id: int) -> None:
        self.run_id = run_id
        if self.is_mounted:
            self.load(run_id)

    def load(self, run_id: int) -> None:
        self._stop_playing()
        self.query_one("#replay-status", TextPanel).show(f"Opening run #{run_id}…")
        self._load(run_id)

    @work(thread=True, exclusive=True, group="replay-load", name="load-replay")
    def _load(self, run_id: int) -> None:
        from engine.replay_job import load_replay
        from engine.store import get_run

        from engine.errors import DataChanged, DataError
        from engine.gc_pause import freeze_loaded

        services = self.app.services
        try:
            replay, config = load_replay(services.database(), run_id, services.load_candles)
            replay.prepare()  # played once here, so that any jump later starts from a saved state
            freeze_loaded()
            run = get_run(services.database(), run_id)
        except DataError as exc:  # the run is there, its market is not (or not the same)
            self.post_message(ReplayFailed(str(exc), run_id, changed=isinstance(exc, DataChanged)))
            return
        except InputError as exc:
            self.post_message(ReplayFailed(str(exc)))
            return
        except Exception as exc:  # a broken database or file: say so, keep the app
            self.post_message(ReplayFailed(f"cannot open run #{run_id}: {exc.__class__.__name__}: {exc}"))
            return
        market = (run.symbol or run.data_source) if run is not None else config.data.describe()
        self.post_message(ReplayLoaded(run_id, f"run #{run_id} · {config.strategy} on {market}", replay, config))

    def on_replay_loaded(self, event: ReplayLoaded) -> None:
        if self.run_id is not None and event.run_id != self.run_id:
            return  # a run asked for earlier, overtaken by another
        self.replay, self.run_id, self.title_text, self.config = event.replay, event.run_id, event.title, event.config
        self._events_seen = None
        self.sub_title = f"Replay · {event.title}"
        self.refresh_bindings()
        self.redraw()

    def on_replay_failed(self, event: ReplayFailed) -> None:
        from rich.markup import escape

        self.query_one("#replay-status", TextPanel).show(f"[red]{escape(event.message)}[/red]")
        if event.run_id is None:
            self.notify(event.message, title="Cannot open the run", severity="error", timeout=10)
            return
        # The stored trades and metrics do not need the candles: offer them, and a new run on
        # the candles as they are now when there are some.
        from screens.choice import Choice, ChoiceScreen
        from screens.run_detail import RunDetailScreen

        run_id = event.run_id
        choices = [Choice("read-only", "Open read-only", "o"), Choice("no", "Not now", "n")]
        question = (f"{event.message}\n\nThe replay needs the run's own candles. Open run #{run_id} "
                    "read-only instead, from its stored trades and metrics?")
        if event.changed:
            choices.insert(0, Choice("rerun", "Re-run on current data", "r"))
            question = (f"{event.message}\n\nRe-run its configuration on the current candles as a new run "
                        f"and replay that, or open run #{run_id} read-only from its stored trades and metrics?")

        def answered(choice: Optional[str]) -> None:
            if choice == "read-only":
                self.app.push_screen(RunDetailScreen(run_id))
            elif choice == "rerun":
                self.query_one("#replay-status", TextPanel).show(f"Re-running run #{run_id} on the current data…")
                self._rerun(run_id)

        self.app.push_screen(ChoiceScreen(question, choices), answered)

    @work(thread=True, exclusive=True, group="replay-load", name="rerun-on-current-data")
    def _rerun(self, run_id: int) -> None:
        from engine.replay_job import rerun_on_current_data

        services = self.app.services
        try:
            new_id = rerun_on_current_data(services.database(), run_id, services.load_candles, services.now())
        except InputError as exc:
            self.post_message(ReplayFailed(str(exc)))
            return
        self.post_message(RunRerun(new_id, run_id))

    def on_run_rerun(self, event: RunRerun) -> None:
        self.notify(f"Run #{event.old_run_id} re-run on the current data as run #{event.run_id}.", title="Replay")
        self.show_run(event.run_id)

    # ------------------------------------------------------------------ drawing
    def redraw(self) -> None:
        replay = self.replay
        if replay is None:
            return
        chart = self.query_one("#chart", CandleChart)
        with self.app.batch_update():
            chart.show(chart_view(replay, min(ZOOMS[self.zoom], chart.bars_that_fit())))
            self.query_one("#replay-status", TextPanel).show(self.status_text())
            self.query_one("#position", TextPanel).show(position_text(replay))
            self.query_one("#account", TextPanel).show(account_text(replay))
            # The log changes only when a fill or a note comes or goes: most bars leave it alone.
            journal = replay.engine.journal
            changes = int(replay.backtest.changes.searchsorted(replay.cursor, side="right"))
            log = self.query_one("#events", EventLog)
            seen = (len(journal.fills), len(journal.notes), journal.fills[-1].bar if journal.fills else -1, changes)
            if seen != self._events_seen:
                self._events_seen = seen
                log.show(events(replay, 40), replay.backtest.candles.index)

    def status_text(self) -> str:
        replay = self.replay
        assert replay is not None
        index = replay.backtest.candles.index
        where = "start" if replay.cursor < 0 else f"bar {replay.cursor:,} of {replay.n - 1:,} · {index[replay.cursor]:%Y-%m-%d %H:%M} UTC"
        playing = f"▶ {SPEEDS[self.speed]} bars/s" if self._player is not None else f"❚❚ {SPEEDS[self.speed]} bars/s"
        branch = f" · branch: {len(replay.actions)} action(s)" if replay.is_branch else ""
        return f"{where} · {playing}{branch}"  # the run itself is named in the header

    # ------------------------------------------------------------------ moving
    def _move(self, how) -> None:  # type: ignore[no-untyped-def]
        if self.replay is None:
            return
        how(self.replay)
        self.redraw()

    def action_step(self) -> None:
        self._move(lambda r: None if r.done else r.step())

    def action_back(self) -> None:
        self._move(lambda r: r.back())

    def action_first(self) -> None:
        self._move(lambda r: r.goto(-1))

    def action_last(self) -> None:
        self._move(lambda r: r.play_to_end())

    def go_to(self, bar: int) -> None:
        self._move(lambda r: r.goto(bar))

    def action_go_to(self) -> None:
        from screens.replay.goto import GoToScreen

        if self.replay is not None:
            self._stop_playing()
            self.app.push_screen(GoToScreen(self.replay.n - 1), self._go_to_text)

    def _go_to_text(self, text: Optional[str]) -> None:
        if not text or self.replay is None:
            return
        try:
            self.go_to(bar_of(text, self.replay.backtest.candles.index))
        except InputError as exc:
            self.notify(str(exc), title="Go to", severity="error")

    def action_next_trade(self) -> None:
        def forward(r) -> None:  # type: ignore[no-untyped-def]
            while not r.done and not r.step().fills:
                pass
        self._move(forward)

    def action_previous_trade(self) -> None:
        def backward(r) -> None:  # type: ignore[no-untyped-def]
            before = [f.bar for f in r.engine.journal.fills if f.bar < r.cursor]
            r.goto(before[-1] if before else -1)
        self._move(backward)

    def on_event_log_selected(self, event: EventLog.Selected) -> None:
        self.go_to(event.bar)

    # ------------------------------------------------------------------ playing
    def action_play(self) -> None:
        if self._player is not None:
            self._stop_playing()
        else:
            self._owed, self._last_tick = 0.0, self.app.services.clock()
            fps = min(SPEEDS[self.speed], MAX_FPS)
            self._player = self.set_interval(1 / fps, self._tick, name="replay-autoplay")
        if self.replay is not None:
            self.query_one("#replay-status", TextPanel).show(self.status_text())

    def _tick(self) -> None:
        """Advance by the bars the clock says are due, then draw once: a slow frame makes
        the next one move further, so the speed holds whatever the frame rate."""
        replay = self.replay
        if replay is None or replay.done:
            self._stop_playing()
            if replay is not None:
                self.query_one("#replay-status", TextPanel).show(self.status_text())
            return
        now = self.app.services.clock()
        speed = SPEEDS[self.speed]
        # A stall (a dialog, a busy machine) is not made up all at once: a second at most.
        self._owed = min(self._owed + (now - self._last_tick) * speed, float(speed))
        self._last_tick = now
        due = int(self._owed)
        if due == 0:
            return
        self._owed -= due
        for _ in range(due):
            if replay.done:
                break
            replay.step()
        self.redraw()

    def _stop_playing(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player = None

    def _set_speed(self, index: int) -> None:
        self.speed = max(0, min(index, len(SPEEDS) - 1))
        if self._player is not None:
            self._stop_playing()
            self.action_play()
        elif self.replay is not None:
            self.query_one("#replay-status", TextPanel).show(self.status_text())

    def action_faster(self) -> None:
        self._set_speed(self.speed + 1)

    def action_slower(self) -> None:
        self._set_speed(self.speed - 1)

    def action_zoom_in(self) -> None:
        self.zoom = max(0, self.zoom - 1)
        self.redraw()

    def action_zoom_out(self) -> None:
        self.zoom = min(len(ZOOMS) - 1, self.zoom + 1)
        self.redraw()

    def on_unmount(self) -> None:
        self._stop_playing()

    def on_resize(self) -> None:
        # The chart's window depends on its width, known after layout.
        self.call_after_refresh(self.redraw)

    # ------------------------------------------------------------------ what-if
    def action_what_if(self) -> None:
        from screens.replay.what_if import WhatIfScreen

        replay = self.replay
        if replay is None:
            return
        self._stop_playing()
        index = replay.backtest.candles.index
        if replay.cursor < 0 or replay.done:
            self.notify("Step to a bar before the end first: actions happen at a bar's close.", severity="warning")
            return
        heading = f"What if, at the close of bar {replay.cursor:,} ({index[replay.cursor]:%Y-%m-%d %H:%M} UTC)?"
        self.app.push_screen(WhatIfScreen(replay.preview, heading), self._take)

    def _take(self, action: Optional[ManualAction]) -> None:
        if action is None or self.replay is None:
            return
        try:
            result = self.replay.act(action)
        except InputError as exc:  # the state changed under the dialog: say so, change nothing
            self.notify(str(exc), title="Not taken", severity="error")
            return
        self.notify(f"{action.describe()}: realised {result.realized_pnl:+,.2f}", title="Branch")
        self.redraw()

    def action_save_branch(self) -> None:
        replay = self.replay
        if replay is None or self.run_id is None:
            return
        if not replay.is_branch:
            self.notify("No what-if action yet: the replay is its run again, nothing to save.", severity="warning")
            return
        self._stop_playing()
        replay.play_to_end()
        self.redraw()
        # The result is taken here, on the UI thread: the worker only writes it, while the
        # trader may already be stepping again.
        from engine.replay_job import branch_result

        self._save(self.run_id, branch_result(replay, self.config, self.run_id))

    @work(thread=True, exclusive=True, group="replay-save", name="save-branch")
    def _save(self, parent: int, result) -> None:  # type: ignore[no-untyped-def]
        from engine.models import RunKind
        from engine.store import save_backtest

        database = self.app.services.database()
        try:
            run_id = save_backtest(database, result, RunKind.REPLAY, created_at=self.app.services.now())
        except InputError as exc:
            self.post_message(ReplayFailed(str(exc)))
            return
        self.post_message(BranchSaved(run_id, parent))

    def on_branch_saved(self, event: BranchSaved) -> None:
        from screens.compare import CompareScreen

        self.notify(f"Branch saved as run #{event.run_id}, beside its parent run #{event.parent_run_id}.", title="Branch")
        self.app.push_screen(CompareScreen(event.parent_run_id, event.run_id))
