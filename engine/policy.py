"""Exit and scale-in policies a position carries for its whole life.

Units follow DESIGN.md: every ``*_pct`` and target/threshold is a percentage
(2.0 means 2 %); ``exit_sizes`` and ``scale_in_sizes`` are fractions of the
position's ORIGINAL size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from math import isfinite
from typing import Any, Optional

from engine.errors import InputError
from engine.levels import PartialExitAction, ScaleInAction


def _check_pct(name: str, value: Optional[float], *, low: float = 0.0, high: float = 1000.0) -> None:
    if value is None:
        return
    if not isfinite(value) or not (low < value <= high):
        raise InputError(f"{name} must be a percentage in ({low:g}, {high:g}], got {value!r}")


@dataclass(frozen=True, slots=True)
class ExitPolicy:
    stop_loss_pct: Optional[float] = None
    take_profit_pct: Optional[float] = None
    trailing_activation_pct: Optional[float] = None
    trailing_distance_pct: Optional[float] = None
    exit_targets: tuple[float, ...] = ()
    exit_sizes: tuple[float, ...] = ()
    scale_in_thresholds: tuple[float, ...] = ()
    scale_in_sizes: tuple[float, ...] = ()
    max_scale_ins: Optional[int] = None
    max_holding_bars: Optional[int] = None
    # Derived once: the hot loop asks for it on every event.
    scale_in_limit: int = field(init=False, repr=False, compare=False, default=0)
    exit_actions: tuple[PartialExitAction, ...] = field(init=False, repr=False, compare=False, default=())
    scale_in_actions: tuple[ScaleInAction, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "exit_targets", tuple(float(x) for x in self.exit_targets))
        object.__setattr__(self, "exit_sizes", tuple(float(x) for x in self.exit_sizes))
        object.__setattr__(self, "scale_in_thresholds", tuple(float(x) for x in self.scale_in_thresholds))
        object.__setattr__(self, "scale_in_sizes", tuple(float(x) for x in self.scale_in_sizes))
        self.validate()
        n = len(self.scale_in_thresholds)
        object.__setattr__(self, "scale_in_limit", n if self.max_scale_ins is None else min(n, self.max_scale_ins))
        object.__setattr__(self, "exit_actions", tuple(PartialExitAction(k, f) for k, f in enumerate(self.exit_sizes)))
        object.__setattr__(self, "scale_in_actions", tuple(ScaleInAction(k, f) for k, f in enumerate(self.scale_in_sizes)))

    @property
    def trailing(self) -> bool:
        return self.trailing_distance_pct is not None

    def validate(self) -> None:
        _check_pct("stop-loss", self.stop_loss_pct, high=100.0)
        _check_pct("take-profit", self.take_profit_pct)
        if (self.trailing_activation_pct is None) != (self.trailing_distance_pct is None):
            raise InputError("trailing stop needs both an activation % and a distance %")
        if self.trailing_activation_pct is not None and not (
            isfinite(self.trailing_activation_pct) and 0.0 <= self.trailing_activation_pct <= 1000.0
        ):
            raise InputError(f"trailing activation must be a percentage >= 0, got {self.trailing_activation_pct!r}")
        _check_pct("trailing distance", self.trailing_distance_pct, high=100.0)
        if len(self.exit_targets) != len(self.exit_sizes):
            raise InputError(
                f"partial exits need as many sizes as targets: {len(self.exit_targets)} targets, "
                f"{len(self.exit_sizes)} sizes"
            )
        for i, t in enumerate(self.exit_targets):
            _check_pct(f"partial target #{i + 1}", t)
        if list(self.exit_targets) != sorted(self.exit_targets):
            raise InputError("partial targets must be in increasing order")
        for i, s in enumerate(self.exit_sizes):
            if not (isfinite(s) and 0.0 < s <= 1.0):
                raise InputError(f"partial size #{i + 1} must be a fraction in (0, 1], got {s!r}")
        if sum(self.exit_sizes) > 1.0 + 1e-9:
            raise InputError(f"partial sizes add up to {sum(self.exit_sizes):g}, more than the whole position")
        if len(self.scale_in_thresholds) != len(self.scale_in_sizes):
            raise InputError(
                f"scale-ins need as many sizes as thresholds: {len(self.scale_in_thresholds)} thresholds, "
                f"{len(self.scale_in_sizes)} sizes"
            )
        for i, t in enumerate(self.scale_in_thresholds):
            if not isfinite(t) or t == 0.0 or abs(t) > 1000.0:
                raise InputError(f"scale-in threshold #{i + 1} must be a non-zero percentage, got {t!r}")
        for i, s in enumerate(self.scale_in_sizes):
            if not (isfinite(s) and 0.0 < s <= 10.0):
                raise InputError(f"scale-in size #{i + 1} must be a fraction of the original size in (0, 10], got {s!r}")
        if self.max_scale_ins is not None and self.max_scale_ins < 0:
            raise InputError(f"max scale-ins must be >= 0, got {self.max_scale_ins}")
        if self.max_holding_bars is not None and self.max_holding_bars < 1:
            raise InputError(f"max holding bars must be >= 1, got {self.max_holding_bars}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for derived in ("scale_in_limit", "exit_actions", "scale_in_actions"):
            d.pop(derived)
        for k in ("exit_targets", "exit_sizes", "scale_in_thresholds", "scale_in_sizes"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExitPolicy":
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Sizing:
    """How big a new position is: a fraction of equity, or a fixed risk per trade."""

    mode: str = "fraction"  # "fraction" | "risk"
    fraction: float = 1.0  # of equity, notional
    risk_pct: float = 1.0  # of equity lost if the stop is hit
    max_leverage: float = 1.0

    def __post_init__(self) -> None:
        if self.mode not in ("fraction", "risk"):
            raise InputError(f"sizing mode must be 'fraction' or 'risk', got {self.mode!r}")
        if not (isfinite(self.max_leverage) and 0.0 < self.max_leverage <= 100.0):
            raise InputError(f"max leverage must be in (0, 100], got {self.max_leverage!r}")
        if not (isfinite(self.fraction) and 0.0 < self.fraction <= self.max_leverage):
            raise InputError(
                f"size fraction must be in (0, {self.max_leverage:g}] (raise the max leverage to size "
                f"above it), got {self.fraction!r}"
            )
        if not (isfinite(self.risk_pct) and 0.0 < self.risk_pct <= 100.0):
            raise InputError(f"risk per trade must be a percentage in (0, 100], got {self.risk_pct!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


__all__ = ["ExitPolicy", "Sizing"]
