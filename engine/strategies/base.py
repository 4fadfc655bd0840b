"""The strategy interface.

A strategy computes its indicators once, vectorised, over the whole candle frame
(:meth:`Strategy.signals`), returning the direction it wants to hold after each
bar's close: +1 long, -1 short, 0 flat. Element ``i`` may use bars ``0..i`` only.
The engine acts on changes of that direction (a market order at the next open) and
asks :meth:`Strategy.decide` for the decision at those bars, which can carry its own
exit policy (SL/TP, trailing, partials) instead of the run's default. A live session
asks :meth:`Strategy.incremental` for the same directions one bar at a time.
"""

from __future__ import annotations

from abc import ABC
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Optional

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from engine.strategies.incremental import IncrementalStrategy
    from engine.strategies.plots import Plot

from engine.errors import InputError
from engine.policy import ExitPolicy


@dataclass(frozen=True, slots=True)
class Param:
    """One tunable parameter: its type, default, bounds and a one-line help."""

    name: str
    type: type
    default: Any
    help: str = ""
    min: Optional[float] = None
    max: Optional[float] = None
    choices: Optional[tuple[Any, ...]] = None

    def parse(self, raw: Any) -> Any:
        """Convert ``raw`` (text from a CLI or a form, or a value) and check bounds."""
        try:
            if self.type is bool and isinstance(raw, str):
                low = raw.strip().lower()
                if low not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                    raise ValueError(raw)
                value: Any = low in ("true", "1", "yes", "on")
            elif self.type is int and isinstance(raw, str):
                value = int(raw.strip())
            elif self.type is int and isinstance(raw, float):
                if not raw.is_integer():
                    raise ValueError(raw)
                value = int(raw)
            else:
                value = self.type(raw.strip() if isinstance(raw, str) else raw)
        except (TypeError, ValueError):
            raise InputError(f"parameter {self.name!r} must be {self.type.__name__}, got {raw!r}") from None
        if self.type is float and not np.isfinite(value):
            raise InputError(f"parameter {self.name!r} must be a finite number, got {raw!r}")
        if self.min is not None and value < self.min:
            raise InputError(f"parameter {self.name!r} must be >= {self.min:g}, got {value!r}")
        if self.max is not None and value > self.max:
            raise InputError(f"parameter {self.name!r} must be <= {self.max:g}, got {value!r}")
        if self.choices is not None and value not in self.choices:
            raise InputError(f"parameter {self.name!r} must be one of {', '.join(map(str, self.choices))}, got {value!r}")
        return value


LONG_ONLY = "long_only"
LONG_SHORT = "long_short"


def mode_param() -> Param:
    """The ``mode`` parameter every directional strategy shares."""
    return Param(
        "mode", str, LONG_ONLY, "long_only: flat instead of short; long_short: take both sides",
        choices=(LONG_ONLY, LONG_SHORT),
    )


def price_arrays(candles: "pd.DataFrame", *columns: str) -> tuple[np.ndarray, ...]:
    """The named candle columns as float64 arrays; a missing column is the user's data problem."""
    missing = [c for c in columns if c not in candles.columns]
    if missing:
        have = ", ".join(map(str, candles.columns))
        raise InputError(f"candles have no {', '.join(map(repr, missing))} column (have: {have})")
    return tuple(candles[c].to_numpy(dtype=np.float64, copy=False) for c in columns)


class Decision(NamedTuple):
    """What the strategy wants after a bar's close; ``policy`` overrides the run's default."""

    direction: int
    policy: Optional[ExitPolicy] = None


class Strategy(ABC):
    name: ClassVar[str]
    description: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, **values: Any) -> None:
        specs = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(specs))
        if unknown:
            known = ", ".join(specs) or "none"
            raise InputError(f"strategy {self.name!r} has no parameter {unknown[0]!r} (parameters: {known})")
        self.values: dict[str, Any] = {p.name: p.default for p in self.params}
        for key, raw in values.items():
            self.values[key] = specs[key].parse(raw)
        self.check()

    def check(self) -> None:
        """Cross-parameter validation; raise :class:`InputError` naming the parameters at
        fault as its fields (the form marks each of them)."""

    def __getattr__(self, item: str) -> Any:
        values = self.__dict__.get("values")
        if values is not None and item in values:
            return values[item]
        raise AttributeError(item)

    @property
    def warmup(self) -> int:
        """Bars needed before the first signal can be non-zero."""
        return 0

    def signals(self, candles: "pd.DataFrame") -> np.ndarray:
        """Direction to hold after each bar's close (int8 array of -1/0/+1), no look-ahead.

        By default the bar-by-bar form fed the whole history as one chunk, so the
        backtest and a live session cannot disagree; a strategy without a bar-by-bar
        form overrides this instead.
        """
        return self.incremental().feed_frame(candles)

    def incremental(self) -> "IncrementalStrategy":
        """A fresh bar-by-bar form of this strategy: ``push`` gives the direction that
        :meth:`signals` gives at the same index, in O(window) work per bar."""
        raise NotImplementedError(f"strategy {self.name!r} has no bar-by-bar form (define incremental())")

    def decide(self, i: int, direction: int, policy: ExitPolicy) -> Decision:
        """The decision at bar ``i`` where the direction changed.

        ``policy`` is the run's default exit policy; override to return a variant of it
        (``dataclasses.replace``), e.g. a volatility-scaled stop. Called only at changes,
        so it may be plain Python.
        """
        return Decision(direction, policy)

    def plots(self, candles: "pd.DataFrame") -> list["Plot"]:
        """The indicators a chart of this strategy shows (none by default)."""
        return []

    @property
    def allows_short(self) -> bool:
        return self.values.get("mode") == LONG_SHORT

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.values.items())
        return f"{self.name}({args})"
