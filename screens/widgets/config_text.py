"""A run's configuration in words: a short title that tells runs apart, and the full list.

Works on the configuration as a dict (``BacktestConfig.to_dict()``, a stored Run's
``config``), so a fresh run and one opened from History read the same. The title packs
strategy and parameters, market, exits, costs and sizing into a few short parts; the
properties list every field, each exit policy field included, off or not.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

# Every ExitPolicy field, in the order a trader thinks of them, with how to read it.
POLICY_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("stop_loss_pct", "Stop-loss", "%"),
    ("take_profit_pct", "Take-profit", "%"),
    ("trailing_activation_pct", "Trailing stop arms at", "%"),
    ("trailing_distance_pct", "Trailing stop distance", "%"),
    ("exit_targets", "Partial exit targets", "%"),
    ("exit_sizes", "Partial exit sizes", "x original"),
    ("scale_in_thresholds", "Scale-in thresholds", "%"),
    ("scale_in_sizes", "Scale-in sizes", "x original"),
    ("max_scale_ins", "Max scale-ins", ""),
    ("max_holding_bars", "Max holding", "bars"),
)
DATA_FIELDS = (("kind", "Kind"), ("path", "File"), ("exchange", "Exchange"), ("symbol", "Symbol"),
               ("timeframe", "Timeframe"), ("since", "Since"), ("until", "Until"))

Rows = list[tuple[str, list[tuple[str, str]]]]  # (section, [(label, value)])


def number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:g}"


def _values(value: Any, unit: str) -> str:
    """A policy value as read: "off" when unset, lists joined, the unit after."""
    if value is None or value == [] or value == ():
        return "off"
    text = ", ".join(number(v) for v in value) if isinstance(value, (list, tuple)) else number(value)
    return f"{text} {unit}".strip()


def full_params(strategy: str, params: Mapping[str, Any]) -> list[tuple[str, Any, bool]]:
    """Every parameter of ``strategy``: (name, value, True if left at its default); the
    given ones alone when the strategy is unknown here."""
    try:
        from engine.strategies import strategy_class

        specs = strategy_class(strategy).params
    except Exception:
        return [(k, v, False) for k, v in params.items()]
    out = [(p.name, params.get(p.name, p.default), p.name not in params) for p in specs]
    return out + [(k, v, False) for k, v in params.items() if k not in {p.name for p in specs}]


def exits_text(policy: Mapping[str, Any]) -> str:
    parts = []
    if policy.get("stop_loss_pct") is not None:
        parts.append(f"SL {number(policy['stop_loss_pct'])} %")
    if policy.get("take_profit_pct") is not None:
        parts.append(f"TP {number(policy['take_profit_pct'])} %")
    if policy.get("trailing_distance_pct") is not None:
        parts.append(f"trail {number(policy['trailing_distance_pct'])} % after +{number(policy.get('trailing_activation_pct'))} %")
    targets, sizes = policy.get("exit_targets") or [], policy.get("exit_sizes") or []
    if targets:
        parts.append("partials " + " ".join(f"{number(s)}@{number(t)} %" for t, s in zip(targets, sizes)))
    thresholds, adds = policy.get("scale_in_thresholds") or [], policy.get("scale_in_sizes") or []
    if thresholds:
        parts.append("scale-ins " + " ".join(f"{number(s)}@{number(t)} %" for t, s in zip(thresholds, adds)))
    if policy.get("max_holding_bars") is not None:
        parts.append(f"max {number(policy['max_holding_bars'])} bars")
    return "exits: " + (", ".join(parts) if parts else "signal only")


def sizing_text(sizing: Mapping[str, Any]) -> str:
    if sizing.get("mode") == "risk":
        text = f"size risk {number(sizing.get('risk_pct'))} % a trade"
    else:
        text = f"size {number(sizing.get('fraction', 1.0))}x equity"
    leverage = sizing.get("max_leverage", 1.0)
    return text + (f", max {number(leverage)}x" if leverage not in (None, 1, 1.0) else "")


def costs_text(config: Mapping[str, Any]) -> str:
    return f"fee {number(config.get('fee_pct', 0))} %, slip {number(config.get('slippage_pct', 0))} %"


def source_text(data: Mapping[str, Any], source: str) -> str:
    """Where the candles came from, short: the file's name, the exchange, the sample (the
    full source is in the properties)."""
    kind = data.get("kind")
    if kind == "file" and data.get("path"):
        return str(data["path"]).replace("\\", "/").rsplit("/", 1)[-1]
    if kind == "exchange" and data.get("exchange"):
        return str(data["exchange"])
    if kind == "sample":
        return "synthetic sample"
    return source


def title_parts(config: Mapping[str, Any], market: str, source: str, run_id: Optional[int],
                parent_run_id: Optional[int] = None, period: str = "") -> list[str]:
    """The results title, in parts a line breaks between: which run, strategy and
    parameters, market, data source, exits, costs, sizing."""
    run = f"Run #{run_id}" if run_id is not None else "Run (not saved)"
    if parent_run_id is not None:
        run += f", a branch of #{parent_run_id}"
    strategy = str(config.get("strategy", "?"))
    params = " ".join(f"{k}={v}" for k, v in (config.get("params") or {}).items())
    parts = [f"{run}: {strategy} {params}".strip(), f"{market} {period}".strip()]
    if market != source:  # else the market is the source already
        parts.append(source_text(config.get("data") or {}, source))
    parts += [exits_text(config.get("policy") or {}), costs_text(config), sizing_text(config.get("sizing") or {})]
    return [p for p in parts if p]


def properties(config: Mapping[str, Any], run: Mapping[str, Any]) -> Rows:
    """Every field of the configuration, by section; ``run`` adds what the run itself was
    (id, bars, period, data fingerprint ...)."""
    rows: Rows = []
    if run:
        rows.append(("Run", [(k, str(v)) for k, v in run.items() if v not in (None, "")]))
    strategy = str(config.get("strategy", "?"))
    params = [(f"  {name}", f"{value}" + ("  (default)" if default else ""))
              for name, value, default in full_params(strategy, config.get("params") or {})]
    rows.append(("Strategy", [("Name", strategy), *params]))
    data = config.get("data") or {}
    rows.append(("Data", [(label, str(data[key])) for key, label in DATA_FIELDS if data.get(key)]))
    rows.append(("Account and costs", [
        ("Starting balance", number(config.get("balance"))),
        ("Fee", f"{number(config.get('fee_pct'))} % of notional, every fill"),
        ("Slippage", f"{number(config.get('slippage_pct'))} %, market fills"),
    ]))
    sizing = config.get("sizing") or {}
    rows.append(("Sizing", [
        ("Mode", "risk per trade" if sizing.get("mode") == "risk" else "fraction of equity"),
        ("Fraction", f"{number(sizing.get('fraction'))}x equity" + ("" if sizing.get("mode") != "risk" else "  (not used)")),
        ("Risk per trade", f"{number(sizing.get('risk_pct'))} %" + ("" if sizing.get("mode") == "risk" else "  (not used)")),
        ("Max leverage", f"{number(sizing.get('max_leverage'))}x"),
    ]))
    policy = dict(config.get("policy") or {})
    exits = [(label, _values(policy.pop(key, None), unit)) for key, label, unit in POLICY_FIELDS]
    exits += [(key.replace("_", " "), _values(value, "")) for key, value in policy.items()]  # a field added later
    rows.append(("Exits and scaling", exits))
    actions = config.get("actions")
    if actions:
        rows.append(("What-if actions", [(str(a.get("at", "")), ", ".join(f"{k}={v}" for k, v in a.items() if k not in ("at", "bar")))
                                          for a in actions]))
    return rows
