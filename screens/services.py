"""What a workspace screen needs from the app, as a protocol.

Screens reach their back-ends through ``self.app.services`` typed as :class:`Services`,
so they never import ``atb_tui`` (the floors: engine <- screens <- atb_tui) and tests
hand the app fakes: a fixed clock, a slow or failing candle loader, a temp database.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine

    from engine.config import DataSpec

Progress = Callable[[int, int], None]


class SettingsView(Protocol):
    default_exchange: str
    fee_pct: float
    slippage_pct: float
    balance: float
    db_url: str
    theme: str
    export_dir: str


class Services(Protocol):
    settings: SettingsView
    db_url: str
    export_dir: Path

    def clock(self) -> float:
        """Monotonic seconds, for elapsed times."""

    def now(self) -> datetime:
        """Wall-clock time (UTC)."""

    def load_candles(
        self, spec: "DataSpec", progress: Optional[Progress] = None, cancel: Optional[threading.Event] = None
    ) -> "pd.DataFrame": ...

    def database(self) -> "Engine": ...

    def save_settings(self, settings: SettingsView) -> str:
        """Persist settings; returns where they were written."""

    def load_form_memory(self) -> dict[str, Any]:
        """The Backtest form's entries at its last Run ({} when none, or not kept)."""

    def save_form_memory(self, memory: dict[str, Any]) -> None:
        """Keep the Backtest form's entries for the next start (OSError if it cannot)."""


def db_label(url: str) -> str:
    """A short, password-free name for a database URL, for the header."""
    if url.startswith("sqlite"):
        return url.split("///", 1)[-1] or "in-memory"
    return url.split("@")[-1]
