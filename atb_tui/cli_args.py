"""Command-line grammar of ``atb-tui`` and its translation into a BacktestConfig.

Percentages are typed as percentages (``--fee 0.1`` is 0.1 %), sizes of partial exits
and scale-ins as fractions of the original position, as in DESIGN.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING, NoReturn, Optional

from engine.config import BacktestConfig, DataSpec, parse_floats
from engine.errors import InputError
from engine.policy import ExitPolicy, Sizing

if TYPE_CHECKING:
    from atb_tui.settings import Settings
    from engine.session.config import SessionConfig


class UsageError(InputError):
    """A command line that does not parse."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, raised not printed."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def with_settings(ns: argparse.Namespace, settings: "Settings") -> argparse.Namespace:
    """What the command line left out, from the user's settings (``settings.toml`` and the
    ``ATB_TUI_*`` overrides, as the TUI reads them): flags win, then settings, then the
    built-in defaults. So a run made here shows in the TUI's History and costs the same."""
    for flag, setting in (("balance", "balance"), ("fee", "fee_pct"), ("slippage", "slippage_pct")):
        if getattr(ns, flag, 0) is None:
            setattr(ns, flag, getattr(settings, setting))
    if getattr(ns, "db", "") is None:
        ns.db = settings.db_url or None  # none set: $ATB_TUI_DB or the default file
    if ns.command == "live" and ns.exchange is None:
        ns.exchange = settings.default_exchange
    return ns


def _floats(flag: str, text: Optional[str]) -> tuple[float, ...]:
    try:
        return parse_floats(text or "", flag)
    except InputError as exc:
        raise UsageError(str(exc)) from None


def _strategy_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--strategy", required=required, help="strategy name (see `atb-tui strategies`)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="strategy parameter, repeatable")


def _trading_options(parser: argparse.ArgumentParser) -> None:
    """Account, costs, exits and scaling: the same for a backtest and a session."""
    acct = parser.add_argument_group("account and costs")
    acct.add_argument("--balance", type=float, metavar="AMOUNT",
                      help="starting balance in quote currency (default: the balance setting, 10000)")
    acct.add_argument("--fee", type=float, metavar="PCT", help="fee per fill in %% of notional (default: the fee setting, 0.1)")
    acct.add_argument("--slippage", type=float, metavar="PCT",
                      help="adverse slippage on market fills in %% (default: the slippage setting, 0.05)")
    acct.add_argument("--size-fraction", type=float, default=1.0, metavar="F", help="position notional as a fraction of equity (1.0)")
    acct.add_argument("--max-leverage", type=float, default=1.0, metavar="X",
                      help="cap on a position's notional as a multiple of equity, scale-ins included (1.0)")
    acct.add_argument("--risk-per-trade", type=float, metavar="PCT", help="size positions to lose PCT %% of equity at the stop")
    risk = parser.add_argument_group("exits and scaling (percentages from entry)")
    risk.add_argument("--stop-loss", type=float, metavar="PCT")
    risk.add_argument("--take-profit", type=float, metavar="PCT")
    risk.add_argument("--trailing-activation", type=float, metavar="PCT", help="profit %% at which the trailing stop arms")
    risk.add_argument("--trailing-distance", type=float, metavar="PCT", help="distance of the trailing stop behind the peak")
    risk.add_argument("--partial-targets", metavar="A,B", help="profit %% targets for partial exits")
    risk.add_argument("--partial-sizes", metavar="X,Y", help="fractions of the original size exited at each target")
    risk.add_argument("--scale-in-thresholds", metavar="A,B", help="%% move from entry at which to add (negative averages down)")
    risk.add_argument("--scale-in-sizes", metavar="X,Y", help="fractions of the original size added at each threshold")
    risk.add_argument("--max-scale-ins", type=int, metavar="N")
    risk.add_argument("--max-holding-bars", type=int, metavar="N", help="close a position after N bars")


def build_parser() -> Parser:
    parser = Parser(prog="atb-tui", description="Terminal trading workstation. Without a command, opens the TUI.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)

    bt = sub.add_parser("backtest", help="run a backtest headless and print its metrics")
    _strategy_options(bt)
    src = bt.add_argument_group("data (default: the embedded synthetic sample)")
    src.add_argument("--data", metavar="PATH", help="CSV or Parquet file of OHLCV candles")
    src.add_argument("--exchange", metavar="ID", help="ccxt exchange id to download candles from, e.g. binance")
    src.add_argument("--symbol", metavar="SYM", help="market symbol, e.g. BTC/USDT")
    src.add_argument("--timeframe", metavar="TF", help="candle timeframe, e.g. 1h")
    src.add_argument("--since", metavar="DATE", help="first candle (YYYY-MM-DD or ISO 8601, UTC)")
    src.add_argument("--until", metavar="DATE", help="end of the range, exclusive (default: now)")
    _trading_options(bt)
    out = bt.add_argument_group("output")
    out.add_argument("--db", metavar="URL", help="database URL (default: SQLite in the user data dir, or $ATB_TUI_DB)")
    out.add_argument("--no-save", action="store_true", help="do not store the run in the database")
    out.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    out.add_argument("--trades-csv", metavar="PATH", help="also write the trades to a CSV file")
    out.add_argument("--timings", action="store_true",
                     help="print where the time went (imports, load, signals, run, store, output) to stderr")

    rp = sub.add_parser(
        "replay", help="replay a stored run to the end; with --actions, store the what-if branch",
        description="Replays stored run RUN_ID to the end on its own data. With --actions, a JSON-lines file of "
                    "what-if actions (e.g. {\"at\": \"2024-03-05T14:00:00Z\", \"do\": \"partial_exit\", \"percent\": 50}), "
                    "the branch is stored, linked to its parent.",
    )
    rp.add_argument("run_id", type=int, metavar="RUN_ID", help="id of a stored run (see History)")
    rp.add_argument("--actions", metavar="FILE", help="JSON-lines file of what-if actions")
    rp.add_argument("--db", metavar="URL", help="database URL (default: SQLite in the user data dir, or $ATB_TUI_DB)")
    rp.add_argument("--no-save", action="store_true", help="do not store the branch")
    rp.add_argument("--json", action="store_true", help="print one JSON object instead of a table")

    lv = sub.add_parser(
        "live", help="run a paper or live trading session headless",
        description="Runs STRATEGY on live candles (--feed exchange) or on stored ones played on a fast clock "
                    "(--feed sample, --feed replay:PATH). Paper trading fills by the backtest's rules; --live "
                    "places real orders and asks for a typed confirmation unless --yes.",
    )
    _strategy_options(lv, required=False)  # a resumed session has its own
    mkt = lv.add_argument_group("market and feed")
    mkt.add_argument("--symbol", action="append", default=[], metavar="SYM", help="market to trade, repeatable (BTC/USDT)")
    mkt.add_argument("--timeframe", default="1h", metavar="TF", help="candle timeframe (1h)")
    how = mkt.add_mutually_exclusive_group(required=True)
    how.add_argument("--paper", action="store_true", help="simulated fills, no orders leave the machine")
    how.add_argument("--live", action="store_true", help="real orders on the exchange (needs API keys in the keyring)")
    mkt.add_argument("--exchange", metavar="ID", help="ccxt exchange id (default: the exchange setting, binance)")
    mkt.add_argument("--feed", default="exchange", metavar="SOURCE", help="exchange, sample or replay:PATH (exchange)")
    mkt.add_argument("--speed", default="max", metavar="N|max", help="sample and replay feeds: candles a second (max)")
    mkt.add_argument("--sandbox", action="store_true", help="use the exchange's test network")
    mkt.add_argument("--api-url", metavar="URL", help="send ccxt's REST calls to another root (a testnet or gateway)")
    _trading_options(lv)
    ses = lv.add_argument_group("session")
    ses.add_argument("--session", metavar="NAME", help="session name (default: STRATEGY-SYMBOLS-TF)")
    ses.add_argument("--resume", action="store_true", help="continue the named session after a crash or a stop")
    ses.add_argument("--db", metavar="URL", help="database URL (default: SQLite in the user data dir, or $ATB_TUI_DB)")
    ses.add_argument("--json", action="store_true", help="print one JSON object at the end")
    ses.add_argument("--yes", action="store_true", help="skip the typed confirmation of --live")

    sub.add_parser("strategies", help="list the built-in strategies and their parameters")
    return parser


def _params(items: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param: expected KEY=VALUE, got {item!r}")
        params[key.strip()] = value.strip()
    return params


def _data_spec(ns: argparse.Namespace) -> DataSpec:
    exchange_flags = [f for f in ("exchange", "symbol", "timeframe", "since", "until") if getattr(ns, f)]
    if ns.data and exchange_flags:
        raise UsageError(f"--data cannot be combined with --{exchange_flags[0]}")
    if ns.data:
        return DataSpec(kind="file", path=ns.data)
    if exchange_flags:
        return DataSpec(
            kind="exchange", exchange=ns.exchange or "", symbol=ns.symbol or "", timeframe=ns.timeframe or "",
            since=ns.since or "", until=ns.until or "",
        )
    return DataSpec()


def config_from_args(ns: argparse.Namespace) -> BacktestConfig:
    policy = ExitPolicy(
        stop_loss_pct=ns.stop_loss,
        take_profit_pct=ns.take_profit,
        trailing_activation_pct=ns.trailing_activation,
        trailing_distance_pct=ns.trailing_distance,
        exit_targets=_floats("--partial-targets", ns.partial_targets),
        exit_sizes=_floats("--partial-sizes", ns.partial_sizes),
        scale_in_thresholds=_floats("--scale-in-thresholds", ns.scale_in_thresholds),
        scale_in_sizes=_floats("--scale-in-sizes", ns.scale_in_sizes),
        max_scale_ins=ns.max_scale_ins,
        max_holding_bars=ns.max_holding_bars,
    )
    if ns.risk_per_trade is not None:
        sizing = Sizing(mode="risk", risk_pct=ns.risk_per_trade, fraction=min(ns.size_fraction, ns.max_leverage),
                        max_leverage=ns.max_leverage)
        if not policy.stop_loss_pct:
            raise UsageError("--risk-per-trade needs --stop-loss")
    else:
        sizing = Sizing(fraction=ns.size_fraction, max_leverage=ns.max_leverage)
    return BacktestConfig(
        strategy=ns.strategy, params=_params(ns.param), data=_data_spec(ns) if ns.command == "backtest" else DataSpec(),
        balance=ns.balance, fee_pct=ns.fee, slippage_pct=ns.slippage, sizing=sizing, policy=policy,
    )


def session_config_from_args(ns: argparse.Namespace) -> "SessionConfig":
    from engine.session.config import SessionConfig

    if not ns.strategy:
        if not (ns.resume and ns.session):
            raise UsageError("the following arguments are required: --strategy (or --resume --session NAME)")
        ns.strategy = "sma_cross"  # a placeholder: a resumed session trades its stored configuration
    symbols = tuple(ns.symbol) or ("BTC/USDT",)
    if ns.speed == "max":
        speed = None
    else:
        try:
            speed = float(ns.speed)
        except ValueError:
            raise UsageError(f"--speed: expected a number of candles a second or 'max', got {ns.speed!r}") from None
    name = ns.session or f"{ns.strategy}-{'+'.join(symbols)}-{ns.timeframe}"
    return SessionConfig(
        name=name, base=config_from_args(ns), symbols=symbols, timeframe=ns.timeframe,
        mode="live" if ns.live else "paper", feed=ns.feed, speed=speed, exchange=ns.exchange,
        sandbox=ns.sandbox, api_url=ns.api_url or "",
    )


_NEGATIVE = re.compile(r"^-[\d.]")  # no option starts with a digit: this is a value


def join_negative_values(args: list[str]) -> list[str]:
    """``--scale-in-thresholds -1.5,-3`` as ``--scale-in-thresholds=-1.5,-3``: argparse
    takes any word starting with "-" that is not one plain number for an option, so a
    list of negative numbers would be "expected one argument" (and a bad one would not
    be named)."""
    out: list[str] = []
    for word in args:
        if out and out[-1].startswith("--") and "=" not in out[-1] and _NEGATIVE.match(word):
            out[-1] = f"{out[-1]}={word}"
        else:
            out.append(word)
    return out


# Configuration fields (engine.errors.InputError.field) and the flags that set them.
FLAG_OF = {
    "path": "--data", "exchange": "--exchange", "symbol": "--symbol", "timeframe": "--timeframe",
    "since": "--since", "until": "--until", "balance": "--balance", "fee": "--fee", "slippage": "--slippage",
    "size_fraction": "--size-fraction", "max_leverage": "--max-leverage", "risk_per_trade": "--risk-per-trade",
    "stop_loss": "--stop-loss", "take_profit": "--take-profit", "trailing_activation": "--trailing-activation",
    "trailing_distance": "--trailing-distance", "partial_targets": "--partial-targets",
    "partial_sizes": "--partial-sizes", "scale_in_thresholds": "--scale-in-thresholds",
    "scale_in_sizes": "--scale-in-sizes", "max_scale_ins": "--max-scale-ins", "max_holding_bars": "--max-holding-bars",
}


def error_text(exc: InputError) -> str:
    """An engine error as the CLI says it: the flag of the field at fault first."""
    flag = FLAG_OF.get(exc.field or "")
    return f"{flag}: {exc}" if flag else str(exc)


def stderr_line(message: str) -> None:
    print(f"atb-tui: error: {message}", file=sys.stderr)
