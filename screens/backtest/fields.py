"""The backtest form's fields: labels, defaults and how their text becomes values.

Kept apart from the widgets so the parsing rules (what a trader may type, what each
field means) are plain functions the tests can call. Every bound is the engine's
(:mod:`engine.limits`), and the data fields ask the loader's and the downloader's own
checks (:mod:`engine.source_checks`, :mod:`engine.exchange_ids`): the form refuses
exactly what the CLI, the settings and the engine refuse, and says it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from engine.config import BacktestConfig, DataSpec, parse_floats
from engine.errors import InputError
from engine.limits import LIMITS, check
from engine.policy import ExitPolicy, Sizing


def number(text: str, key: str) -> float:
    """The text of field ``key`` as a number within the engine's limits for it."""
    what = LIMITS[key].what
    try:
        value = float(text.strip())
    except ValueError:
        raise InputError(f"{what}: {text.strip()!r} is not a number" if text.strip() else f"{what} is needed",
                         key) from None
    check(key, value)
    return int(value) if LIMITS[key].whole else value


def optional_number(text: str, key: str) -> Optional[float]:
    """Empty text: off (None)."""
    return None if not text.strip() else number(text, key)


def numbers(text: str, key: str) -> tuple[float, ...]:
    """A comma-separated list; the engine checks each item, and the list against its partner."""
    return parse_floats(text, LIMITS[key].what)


def text_of(text: str, key: str) -> str:
    return text.strip()


def timeframe(text: str, key: str) -> str:
    from engine.source_checks import timeframe_ms

    timeframe_ms(text.strip())
    return text.strip()


def exchange(text: str, key: str) -> str:
    from engine.exchange_ids import exchange_problem

    problem = exchange_problem(text)
    if problem is not None:
        raise InputError(problem, key)
    return text.strip()


def candle_file(text: str, key: str) -> str:
    from engine.source_checks import check_candle_file

    check_candle_file(text.strip())
    return text.strip()


def needed(what: str) -> Callable[[str, str], str]:
    def parse(text: str, key: str) -> str:
        if not text.strip():
            raise InputError(f"{what} is needed", key)
        return text.strip()
    return parse


def date(text: str, key: str) -> str:
    """Empty (an open end) or a date the downloader reads."""
    from engine.config import parse_date

    if text.strip():
        parse_date(text, key)
    return text.strip()


def start_date(text: str, key: str) -> str:
    return date(needed("a start date")(text, key), key)


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    default: str
    placeholder: str = ""
    parse: Callable[[str, str], Any] = text_of


ACCOUNT = (
    FieldSpec("balance", "Balance", "10000", "quote currency", number),
    FieldSpec("fee", "Fee %", "0.1", "per fill", number),
    FieldSpec("slippage", "Slippage %", "0.05", "market fills", number),
    FieldSpec("size_fraction", "Size (x equity)", "1.0", "0 < f <= leverage", number),
    FieldSpec("max_leverage", "Max leverage (x)", "1.0", "caps scale-ins too", number),
    FieldSpec("risk_per_trade", "Risk per trade %", "", "off: size by fraction; needs a stop-loss",
              optional_number),
)
EXITS = (
    FieldSpec("stop_loss", "Stop-loss %", "", "off", optional_number),
    FieldSpec("take_profit", "Take-profit %", "", "off", optional_number),
    FieldSpec("trailing_activation", "Trail arm %", "", "off", optional_number),
    FieldSpec("trailing_distance", "Trail distance %", "", "off", optional_number),
    FieldSpec("partial_targets", "Partial targets %", "", "e.g. 2,4", numbers),
    FieldSpec("partial_sizes", "Partial sizes", "", "e.g. 0.3,0.3", numbers),
    FieldSpec("scale_in_thresholds", "Scale-in at %", "", "e.g. 1.5", numbers),
    FieldSpec("scale_in_sizes", "Scale-in sizes", "", "e.g. 0.5", numbers),
    FieldSpec("max_scale_ins", "Max scale-ins", "", "all", optional_number),
    FieldSpec("max_holding_bars", "Max bars held", "", "no limit", optional_number),
)
DATA = (
    FieldSpec("path", "File", "", "CSV or Parquet path", candle_file),
    FieldSpec("exchange", "Exchange", "binance", "ccxt id", exchange),
    FieldSpec("symbol", "Symbol", "BTC/USDT", "e.g. BTC/USDT", needed("a symbol")),
    FieldSpec("timeframe", "Timeframe", "1h", "1m, 15m, 1h, 4h, 1d ...", timeframe),
    FieldSpec("since", "Since", "", "YYYY-MM-DD", start_date),
    FieldSpec("until", "Until", "", "YYYY-MM-DD (optional)", date),
)
SPECS = {spec.key: spec for spec in (*DATA, *ACCOUNT, *EXITS)}
DATA_SOURCES = (("Embedded sample (synthetic)", "sample"), ("CSV / Parquet file", "file"), ("Exchange download", "exchange"))
SOURCE_FIELDS = {"sample": (), "file": ("path",), "exchange": ("exchange", "symbol", "timeframe", "since", "until")}
# Fields whose default is the user's setting (Settings, F8) rather than a constant.
FROM_SETTINGS = {"fee": "fee_pct", "slippage": "slippage_pct", "balance": "balance", "exchange": "default_exchange"}


def _plain(value: Any) -> str:
    """A setting as the form shows it: 1000000 for a balance, not "1e+06" (as :g puts it)."""
    if isinstance(value, str):
        return value
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def settings_defaults(settings: Any) -> dict[str, str]:
    """The form's text for the fields the settings give."""
    return {key: _plain(getattr(settings, name)) for key, name in FROM_SETTINGS.items()}


def same_entry(a: str, b: str) -> bool:
    """Whether two entries of a field mean the same ("0.10" and "0.1" do)."""
    if a.strip() == b.strip():
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def build_policy(values: dict[str, Any]) -> ExitPolicy:
    return ExitPolicy(
        stop_loss_pct=values["stop_loss"], take_profit_pct=values["take_profit"],
        trailing_activation_pct=values["trailing_activation"], trailing_distance_pct=values["trailing_distance"],
        exit_targets=values["partial_targets"], exit_sizes=values["partial_sizes"],
        scale_in_thresholds=values["scale_in_thresholds"], scale_in_sizes=values["scale_in_sizes"],
        max_scale_ins=values["max_scale_ins"], max_holding_bars=values["max_holding_bars"],
    )


def build_sizing(values: dict[str, Any]) -> Sizing:
    return Sizing.of(values["size_fraction"], values["max_leverage"], values["risk_per_trade"])


def build_data(source: str, values: dict[str, Any]) -> DataSpec:
    if source == "file":
        return DataSpec(kind="file", path=values["path"])
    if source == "exchange":
        return DataSpec(
            kind="exchange", exchange=values["exchange"], symbol=values["symbol"], timeframe=values["timeframe"],
            since=values["since"], until=values["until"],
        )
    return DataSpec()


def build_config(strategy: str, params: dict[str, str], source: str, values: dict[str, Any]) -> BacktestConfig:
    """Assemble a config from parsed field values; InputError on cross-field problems."""
    return BacktestConfig(
        strategy=strategy, params=params, data=build_data(source, values), balance=values["balance"],
        fee_pct=values["fee"], slippage_pct=values["slippage"], sizing=build_sizing(values), policy=build_policy(values),
    )


def _entry(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(_plain(v) for v in value)
    return _plain(value)


def form_memory(config: Mapping[str, Any]) -> dict[str, Any]:
    """The form's entries for a stored run's configuration (``BacktestConfig.to_dict``), in
    the shape the form remembers between starts: to run it again, or from there."""
    data = config.get("data") or {}
    sizing = config.get("sizing") or {}
    policy = config.get("policy") or {}
    kind = data.get("kind") if data.get("kind") in SOURCE_FIELDS else "sample"
    fields = {
        "balance": config.get("balance"), "fee": config.get("fee_pct"), "slippage": config.get("slippage_pct"),
        "size_fraction": sizing.get("fraction"), "max_leverage": sizing.get("max_leverage"),
        "risk_per_trade": sizing.get("risk_pct") if sizing.get("mode") == "risk" else None,
        "stop_loss": policy.get("stop_loss_pct"), "take_profit": policy.get("take_profit_pct"),
        "trailing_activation": policy.get("trailing_activation_pct"),
        "trailing_distance": policy.get("trailing_distance_pct"),
        "partial_targets": policy.get("exit_targets"), "partial_sizes": policy.get("exit_sizes"),
        "scale_in_thresholds": policy.get("scale_in_thresholds"), "scale_in_sizes": policy.get("scale_in_sizes"),
        "max_scale_ins": policy.get("max_scale_ins"), "max_holding_bars": policy.get("max_holding_bars"),
        **{key: data.get(key) for key in SOURCE_FIELDS[kind]},
    }
    return {
        "strategy": config.get("strategy"), "source": kind,
        "params": {str(k): _entry(v) for k, v in (config.get("params") or {}).items()},
        "fields": {k: _entry(v) for k, v in fields.items()},
    }
