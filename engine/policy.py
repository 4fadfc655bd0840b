"""Exit and scale-in policies a position carries for its whole life.

Units follow DESIGN.md: every ``*_pct`` and target/threshold is a percentage
(2.0 means 2 %); ``exit_sizes`` and ``scale_in_sizes`` are fractions of the
position's ORIGINAL size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from engine.errors import InputError
from engine.limits import check, check_each
from engine.levels import PartialExitAction, ScaleInAction


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
        # Each number's bounds live in engine.limits (shared with the form and Settings);
        # the rules between fields are here, and name every field they involve.
        check("stop_loss", self.stop_loss_pct)
        check("take_profit", self.take_profit_pct)
        check("trailing_activation", self.trailing_activation_pct)
        check("trailing_distance", self.trailing_distance_pct)
        if (self.trailing_activation_pct is None) != (self.trailing_distance_pct is None):
            raise InputError("trailing stop needs both an activation % and a distance %",
                             "trailing_activation", "trailing_distance")
        if len(self.exit_targets) != len(self.exit_sizes):
            raise InputError(
                f"partial exits need as many sizes as targets: {len(self.exit_targets)} targets, "
                f"{len(self.exit_sizes)} sizes", "partial_targets", "partial_sizes",
            )
        check_each("partial_targets", self.exit_targets)
        if list(self.exit_targets) != sorted(self.exit_targets):
            raise InputError("partial targets must be in increasing order", "partial_targets")
        check_each("partial_sizes", self.exit_sizes)
        if sum(self.exit_sizes) > 1.0 + 1e-9:
            raise InputError(f"partial sizes add up to {sum(self.exit_sizes):g}, more than the whole position",
                             "partial_sizes")
        if len(self.scale_in_thresholds) != len(self.scale_in_sizes):
            raise InputError(
                f"scale-ins need as many sizes as thresholds: {len(self.scale_in_thresholds)} thresholds, "
                f"{len(self.scale_in_sizes)} sizes", "scale_in_thresholds", "scale_in_sizes",
            )
        check_each("scale_in_thresholds", self.scale_in_thresholds)
        check_each("scale_in_sizes", self.scale_in_sizes)
        check("max_scale_ins", self.max_scale_ins)
        check("max_holding_bars", self.max_holding_bars)

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
        check("max_leverage", self.max_leverage)
        check("size_fraction", self.fraction)
        if self.fraction > self.max_leverage:
            raise InputError(
                f"size fraction {self.fraction:g} is above the max leverage {self.max_leverage:g} (raise the "
                f"max leverage to size above it)", "size_fraction", "max_leverage",
            )
        check("risk_per_trade", self.risk_pct)

    @classmethod
    def of(cls, fraction: float = 1.0, max_leverage: float = 1.0, risk_pct: Optional[float] = None) -> "Sizing":
        """Sizing as a trader gives it (the CLI's flags, the form's fields): a fraction of
        equity, or, with ``risk_pct``, the risk per trade at the stop (the fraction then
        only has to be valid, so it is capped at the leverage)."""
        if risk_pct is None:
            return cls(fraction=fraction, max_leverage=max_leverage)
        return cls(mode="risk", risk_pct=risk_pct, fraction=min(fraction, max_leverage), max_leverage=max_leverage)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


__all__ = ["ExitPolicy", "Sizing"]
