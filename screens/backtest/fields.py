"""The backtest form's fields: labels, defaults and how their text becomes values.

Kept apart from the widgets so the parsing rules (what a trader may type, what each
field means) are plain functions the tests can call.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isfinite
from typing import Any, Callable, Optional

from engine.config import BacktestConfig, DataSpec, parse_floats
from engine.errors import InputError
from engine.policy import ExitPolicy, Sizing


def number(text: str, what: str, *, low: Optional[float] = None, high: Optional[float] = None,
           strict_low: bool = False) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise InputError(f"{what}: {text.strip()!r} is not a number") from None
    if not isfinite(value):
        raise InputError(f"{what} must be a finite number")
    if low is not None and (value <= low if strict_low else value < low):
        raise InputError(f"{what} must be {'above' if strict_low else 'at least'} {low:g}")
    if high is not None and value > high:
        raise InputError(f"{what} must be at most {high:g}")
    return value


def optional_number(text: str, what: str, **kw: Any) -> Optional[float]:
    return None if not text.strip() else number(text, what, **kw)


def optional_int(text: str, what: str) -> Optional[int]:
    if not text.strip():
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise InputError(f"{what}: {text.strip()!r} is not a whole number") from None
    if value < 0:
        raise InputError(f"{what} must be >= 0")
    return value


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    default: str
    placeholder: str = ""
    parse: Callable[[str, str], Any] = lambda text, what: text.strip()


ACCOUNT = (
    FieldSpec("balance", "Balance", "10000", "quote currency", lambda t, w: number(t, w, low=0, strict_low=True)),
    FieldSpec("fee", "Fee %", "0.1", "per fill", lambda t, w: number(t, w, low=0, high=9.99)),
    FieldSpec("slippage", "Slippage %", "0.05", "market fills", lambda t, w: number(t, w, low=0, high=9.99)),
    FieldSpec("size_fraction", "Size (x equity)", "1.0", "0 < f <= leverage", lambda t, w: number(t, w, low=0, high=100, strict_low=True)),
    FieldSpec("max_leverage", "Max leverage (x)", "1.0", "caps scale-ins too", lambda t, w: number(t, w, low=0, high=100, strict_low=True)),
)
EXITS = (
    FieldSpec("stop_loss", "Stop-loss %", "", "off", lambda t, w: optional_number(t, w, low=0, high=100, strict_low=True)),
    FieldSpec("take_profit", "Take-profit %", "", "off", lambda t, w: optional_number(t, w, low=0, strict_low=True)),
    FieldSpec("trailing_activation", "Trail arm %", "", "off", lambda t, w: optional_number(t, w, low=0)),
    FieldSpec("trailing_distance", "Trail distance %", "", "off", lambda t, w: optional_number(t, w, low=0, high=100, strict_low=True)),
    FieldSpec("partial_targets", "Partial targets %", "", "e.g. 2,4", parse_floats),
    FieldSpec("partial_sizes", "Partial sizes", "", "e.g. 0.3,0.3", parse_floats),
    FieldSpec("scale_in_thresholds", "Scale-in at %", "", "e.g. 1.5", parse_floats),
    FieldSpec("scale_in_sizes", "Scale-in sizes", "", "e.g. 0.5", parse_floats),
    FieldSpec("max_scale_ins", "Max scale-ins", "", "all", optional_int),
    FieldSpec("max_holding_bars", "Max bars held", "", "no limit", optional_int),
)
DATA = (
    FieldSpec("path", "File", "", "CSV or Parquet path"),
    FieldSpec("exchange", "Exchange", "binance", "ccxt id"),
    FieldSpec("symbol", "Symbol", "BTC/USDT"),
    FieldSpec("timeframe", "Timeframe", "1h"),
    FieldSpec("since", "Since", "", "YYYY-MM-DD"),
    FieldSpec("until", "Until", "", "YYYY-MM-DD (optional)"),
)
DATA_SOURCES = (("Embedded sample (synthetic)", "sample"), ("CSV / Parquet file", "file"), ("Exchange download", "exchange"))


def build_policy(values: dict[str, Any]) -> ExitPolicy:
    return ExitPolicy(
        stop_loss_pct=values["stop_loss"], take_profit_pct=values["take_profit"],
        trailing_activation_pct=values["trailing_activation"], trailing_distance_pct=values["trailing_distance"],
        exit_targets=values["partial_targets"], exit_sizes=values["partial_sizes"],
        scale_in_thresholds=values["scale_in_thresholds"], scale_in_sizes=values["scale_in_sizes"],
        max_scale_ins=values["max_scale_ins"], max_holding_bars=values["max_holding_bars"] or None,
    )


def build_config(strategy: str, params: dict[str, str], source: str, values: dict[str, Any]) -> BacktestConfig:
    """Assemble a config from parsed field values; InputError on cross-field problems."""
    if source == "file":
        data = DataSpec(kind="file", path=values["path"])
    elif source == "exchange":
        data = DataSpec(
            kind="exchange", exchange=values["exchange"], symbol=values["symbol"], timeframe=values["timeframe"],
            since=values["since"], until=values["until"],
        )
    else:
        data = DataSpec()
    policy = build_policy(values)
    return BacktestConfig(
        strategy=strategy, params=params, data=data, balance=values["balance"], fee_pct=values["fee"],
        slippage_pct=values["slippage"], sizing=Sizing(fraction=values["size_fraction"], max_leverage=values["max_leverage"]), policy=policy,
    )
