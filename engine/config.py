"""A backtest's full configuration, as one serialisable value.

The CLI, the TUI form and a stored Run all describe a backtest with this object, so a
run can be repeated exactly from its database row. Percent inputs stay in percent
here (as a trader types them); the cost model receives rates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from engine.costs import CostModel
from engine.errors import InputError
from engine.limits import check
from engine.policy import ExitPolicy, Sizing

DATA_KINDS = ("sample", "file", "exchange")


def parse_date(text: str, field: str | None = None) -> datetime:
    """ISO date or datetime text -> aware UTC datetime; InputError for ``field``."""
    import pandas as pd  # lazily: the TUI's form imports this module before its first frame

    try:
        ts = pd.Timestamp(text.strip())
    except (ValueError, TypeError):
        raise InputError(f"{text!r} is not a date (use YYYY-MM-DD or an ISO 8601 time)", field) from None
    if ts is pd.NaT:
        raise InputError(f"{text!r} is not a date (use YYYY-MM-DD or an ISO 8601 time)", field)
    ts = ts.tz_localize(timezone.utc) if ts.tzinfo is None else ts.tz_convert(timezone.utc)
    return ts.to_pydatetime()


def parse_floats(text: str, what: str) -> tuple[float, ...]:
    """``"1.5, 3"`` -> (1.5, 3.0); InputError naming the field and the bad part."""
    if not text or not text.strip():
        return ()
    out = []
    for part in text.split(","):
        try:
            out.append(float(part))
        except ValueError:
            raise InputError(f"{what}: {part.strip()!r} is not a number (expected e.g. 1.5,3)") from None
    return tuple(out)


@dataclass(frozen=True)
class DataSpec:
    kind: str = "sample"
    path: str = ""
    exchange: str = ""
    symbol: str = ""
    timeframe: str = ""
    since: str = ""
    until: str = ""

    def __post_init__(self) -> None:
        if self.kind not in DATA_KINDS:
            raise InputError(f"data source must be one of {', '.join(DATA_KINDS)}, got {self.kind!r}")
        if self.kind == "file" and not self.path:
            raise InputError("a file data source needs the path of a CSV or Parquet file", "path")
        if self.kind == "exchange":
            names = {"exchange": "an exchange id", "symbol": "a symbol", "timeframe": "a timeframe", "since": "a start date"}
            missing = [n for n in names if not getattr(self, n)]
            if missing:
                raise InputError("an exchange download needs " + ", ".join(names[m] for m in missing), missing[0])
            start = parse_date(self.since, "since")
            if self.until and parse_date(self.until, "until") <= start:
                raise InputError(f"the end {self.until} is not after the start {self.since}", "until", "since")

    def describe(self) -> str:
        if self.kind == "sample":
            return "embedded synthetic sample"
        if self.kind == "file":
            return self.path
        rng = f"{self.since}..{self.until or 'now'}"
        return f"{self.exchange} {self.symbol} {self.timeframe} {rng}"


@dataclass(frozen=True)
class BacktestSettings:
    balance: float = 10_000.0
    costs: CostModel = field(default_factory=CostModel)
    sizing: Sizing = field(default_factory=Sizing)
    policy: ExitPolicy = field(default_factory=ExitPolicy)

    def __post_init__(self) -> None:
        check("balance", self.balance)
        if self.sizing.mode == "risk" and not self.policy.stop_loss_pct:
            raise InputError("risk-based sizing needs a stop-loss", "stop_loss", "risk_per_trade")


@dataclass(frozen=True)
class BacktestConfig:
    strategy: str = "sma_cross"
    params: dict[str, Any] = field(default_factory=dict)
    data: DataSpec = field(default_factory=DataSpec)
    balance: float = 10_000.0
    fee_pct: float = 0.1
    slippage_pct: float = 0.05
    sizing: Sizing = field(default_factory=Sizing)
    policy: ExitPolicy = field(default_factory=ExitPolicy)

    def __post_init__(self) -> None:
        # In percent, as typed, so the message quotes what the trader wrote (not a rate).
        check("fee", self.fee_pct)
        check("slippage", self.slippage_pct)
        self.settings  # validates balance and sizing against the policy

    @property
    def costs(self) -> CostModel:
        return CostModel(fee_rate=self.fee_pct / 100.0, slippage_rate=self.slippage_pct / 100.0)

    @property
    def settings(self) -> BacktestSettings:
        return BacktestSettings(self.balance, self.costs, self.sizing, self.policy)

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "params": dict(self.params),
            "data": asdict(self.data),
            "balance": self.balance,
            "fee_pct": self.fee_pct,
            "slippage_pct": self.slippage_pct,
            "sizing": self.sizing.to_dict(),
            "policy": self.policy.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "BacktestConfig":
        return cls(
            strategy=d["strategy"],
            params=dict(d.get("params", {})),
            data=DataSpec(**d.get("data", {})),
            balance=float(d.get("balance", 10_000.0)),
            fee_pct=float(d.get("fee_pct", 0.1)),
            slippage_pct=float(d.get("slippage_pct", 0.05)),
            sizing=Sizing(**d.get("sizing", {})),
            policy=ExitPolicy.from_dict(d.get("policy", {})),
        )

