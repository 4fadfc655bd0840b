"""Entry point of the ``atb-tui`` console script.

No command opens the TUI. ``backtest`` runs headless for scripts: a table or one JSON
object on stdout; input errors are one line on stderr with exit code 2 and leave the
database untouched (the run is stored only once it has finished).
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import BinaryIO, Optional, Sequence

from engine.errors import InputError

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _backtest(ns, own_process: bool = False) -> int:  # type: ignore[no-untyped-def]
    from engine.gc_pause import gc_paused
    from engine.phases import PhaseClock

    phase = PhaseClock("imports")
    # The collector is off from the imports on (see engine.gc_pause), and on again after
    # for a caller that goes on in the same process.
    with gc_paused(restore=not own_process):
        from atb_tui.cli_args import config_from_args
        from atb_tui.forked_store import StoreWorker, stored_inline
        from engine.export import check_writable
        from engine.strategies import create_strategy

        config = config_from_args(ns)
        strategy = create_strategy(config.strategy, config.params)  # validates params before loading data
        if ns.trades_csv:
            check_writable(ns.trades_csv)
        worker = None
        try:
            from atb_tui.report import as_table
            from engine.export import spool_trades_json, trades_csv, write_atomic
            from engine.run_record import run_row
            from engine.runner import load_data, run_backtest

            phase("load")
            candles = load_data(config.data)
            if own_process and not ns.no_save:
                worker = StoreWorker.start(ns.db, candles)
            result = run_backtest(config, candles, phase=phase)
            pending = None
            if not ns.no_save:
                phase("store")
                if worker is not None:
                    pending = worker.store(run_row(result, fingerprint=False), result.tables)
                else:
                    from engine.store import open_db, save_backtest

                    pending = stored_inline(lambda: save_backtest(open_db(ns.db), result))
        finally:
            if worker is not None:
                worker.stop()
        phase("output")
        # Made while the run is stored, written once it is: a failed store prints nothing.
        csv_text = trades_csv(result) if ns.trades_csv else None
        trades_json = spool_trades_json(result) if ns.json else None
        run_id = None
        if pending is not None:
            run_id, seconds = pending.wait()
            if pending.forked:
                phase.alongside("store", seconds, "output")
        if csv_text is not None:
            write_atomic(ns.trades_csv, csv_text)
        if trades_json is not None:
            _print_json(result, run_id, trades_json)
        else:
            print(as_table(result, run_id, strategy.describe()), flush=True)
    if ns.timings:
        print(phase.line(), file=sys.stderr)
    return EXIT_OK


def _print_json(result, run_id, trades: Optional[BinaryIO] = None) -> None:  # type: ignore[no-untyped-def]
    """The run's JSON on stdout, streamed: a big run's document is never held whole."""
    from engine.export import write_run_json

    sys.stdout.flush()
    write_run_json(result, run_id, sys.stdout.buffer, trades)
    sys.stdout.buffer.write(b"\n")
    sys.stdout.buffer.flush()


def _replay(ns) -> int:  # type: ignore[no-untyped-def]
    from atb_tui.report import as_table
    from engine.gc_pause import gc_paused
    from engine.models import RunKind
    from engine.replay_job import replay_stored_run
    from engine.store import open_db, save_backtest
    from engine.strategies import create_strategy

    db = open_db(ns.db)
    with gc_paused():
        result = replay_stored_run(db, ns.run_id, ns.actions)
    run_id = None
    if result.actions and not ns.no_save:  # a replay without actions is its parent again: nothing new to keep
        run_id = save_backtest(db, result, RunKind.REPLAY)
    label = create_strategy(result.config.strategy, result.config.params).describe()
    if ns.json:
        _print_json(result, run_id)
    else:
        print(as_table(result, run_id, f"{label}, replay of run #{ns.run_id}"))
    return EXIT_OK


def _live(ns) -> int:  # type: ignore[no-untyped-def]
    import signal
    import threading

    from atb_tui.cli_args import session_config_from_args
    from engine.session.feeds import open_feed
    from engine.session.live_setup import live_exchange
    from engine.session.report import session_json
    from engine.session.session import LiveSession
    from engine.store import open_db
    from engine.strategies import create_strategy

    config = session_config_from_args(ns)
    create_strategy(config.base.strategy, config.base.params)  # bad parameters fail before anything connects
    if config.mode == "live" and not ns.yes:
        _confirm_live(config.name)
    db = open_db(ns.db)
    printer = None if ns.json else _print_event
    client, broker_factory = live_exchange(config, db) if config.mode == "live" else (None, None)
    feed = open_feed(config, client=client)
    session = LiveSession.start(db, config, feed, resume=ns.resume, listener=printer, broker_factory=broker_factory)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        status = session.run(stop)
    except KeyboardInterrupt:
        session.stop_now()
        status = "stopped"
    if ns.json:
        print(session_json(session))
    else:
        print(f"session {config.name!r} {status}; open positions: {len(session.open_positions())}")
    return EXIT_OK


def _confirm_live(name: str) -> None:
    from engine.errors import InputError

    if not sys.stdin.isatty():
        raise InputError("--live places real orders: confirm with --yes when there is no terminal to type in")
    typed = input(f"--live places REAL orders. Type the session name ({name}) to go on: ")
    if typed.strip() != name:
        raise InputError("not confirmed: nothing was sent")


def _print_event(event) -> None:  # type: ignore[no-untyped-def]
    from engine.session.session import BookChanged, FeedChanged, Reconciled

    if isinstance(event, BookChanged):
        for fill in event.fills:
            what = fill.kind.value.replace("_", " ")
            print(f"{event.symbol} bar {fill.bar}: {what} {fill.side.value} {fill.qty:.6g} @ {fill.price:,.2f}"
                  f" ({fill.reason.replace('_', ' ')}), balance {event.balance:,.2f}", flush=True)
    elif isinstance(event, FeedChanged):
        print(f"feed: {event.status.describe()}", file=sys.stderr, flush=True)
    elif isinstance(event, Reconciled):
        for line in event.lines:
            print(f"reconciled: {line}", file=sys.stderr, flush=True)


def _strategies() -> int:
    from engine.strategies import strategy_class, strategy_names

    for name in strategy_names():
        cls = strategy_class(name)
        print(f"{name}: {cls.description}")
        for p in cls.params:
            choices = f" one of {', '.join(map(str, p.choices))}" if p.choices else ""
            print(f"    {p.name} ({p.type.__name__}, default {p.default}){choices}  {p.help}")
    return EXIT_OK


def main(argv: Optional[Sequence[str]] = None, *, own_process: bool = False) -> int:
    """``own_process``: the process is the console script's and ends with the command, so
    a backtest may store its run in a forked child (:mod:`atb_tui.forked_store`) and leave
    the garbage collector off (:mod:`engine.gc_pause`). An in-process caller gets neither."""
    from atb_tui.cli_args import build_parser, error_text, join_negative_values, stderr_line, with_settings

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        ns = build_parser().parse_args(join_negative_values(args))
        if ns.command in ("backtest", "replay", "live"):
            from atb_tui.settings import load_settings

            with_settings(ns, load_settings())
        if ns.version:
            from atb_tui import __version__

            print(f"atb-tui {__version__}")
            return EXIT_OK
        if ns.command == "backtest":
            return _backtest(ns, own_process)
        if ns.command == "replay":
            return _replay(ns)
        if ns.command == "live":
            return _live(ns)
        if ns.command == "strategies":
            return _strategies()
        from atb_tui.app import run_app

        return run_app()
    except InputError as exc:
        stderr_line(error_text(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        stderr_line("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: say so plainly, keep the traceback for those who ask
        if os.environ.get("ATB_TUI_DEBUG"):
            traceback.print_exc()
        stderr_line(f"internal error: {exc.__class__.__name__}: {exc} (set ATB_TUI_DEBUG=1 for details)")
        return EXIT_FAIL


# Commands whose results are all written when they return: the run committed, files
# replaced atomically, stdout flushed. Tearing down their interpreter (freeing a
# million-bar run object by object) took half a second, so they skip it.
_QUICK_EXIT_COMMANDS = ("backtest", "replay")


def run() -> None:
    """The console script."""
    code = main(own_process=True)
    if code == EXIT_OK and sys.argv[1:2] and sys.argv[1] in _QUICK_EXIT_COMMANDS:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:
            code = EXIT_FAIL
        os._exit(code)
    raise SystemExit(code)

