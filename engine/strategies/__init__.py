"""Strategy registry: the built-in strategies by name."""

from __future__ import annotations

from typing import Any

from engine.errors import InputError
from engine.strategies.base import Decision, Param, Strategy
from engine.strategies.incremental import IncrementalStrategy

REGISTRY: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    REGISTRY[cls.name] = cls
    return cls


def _load_builtins() -> None:
    # Importing a module registers its strategy.
    from engine.strategies import breakout, ml_basic, rsi_reversion, sma_cross  # noqa: F401


def strategy_names() -> list[str]:
    _load_builtins()
    return sorted(REGISTRY)


def strategy_class(name: str) -> type[Strategy]:
    _load_builtins()
    try:
        return REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown strategy {name!r} (choose from: {', '.join(sorted(REGISTRY))})") from None


def create_strategy(name: str, params: dict[str, Any] | None = None) -> Strategy:
    return strategy_class(name)(**(params or {}))


__all__ = ["Decision", "IncrementalStrategy", "Param", "Strategy", "REGISTRY", "register", "strategy_names", "strategy_class", "create_strategy"]
