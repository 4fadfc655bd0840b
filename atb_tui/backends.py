"""The app's back-ends, gathered in one object the App factory receives.

Production wiring is :func:`default_backends`; tests build :class:`Backends` with a
fixed clock, fake candle loaders and a temporary database, so nothing touches the
network or the user's files. Heavy modules are imported on first use to keep the
first frame fast.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional

from atb_tui.settings import Settings, config_dir, load_settings, save_settings, write_json_atomic
from engine.paths import default_db_url

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine

    from engine.config import DataSpec

CandleLoader = Callable[..., "pd.DataFrame"]
_OPENING = threading.Lock()


def _load_with_engine(spec: "DataSpec", progress: Any = None, cancel: Optional[threading.Event] = None) -> "pd.DataFrame":
    from engine.runner import load_data

    return load_data(spec, progress=progress, cancel=cancel)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Backends:
    settings: Settings = field(default_factory=Settings)
    db_url: str = ""
    candle_loader: CandleLoader = _load_with_engine
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = _utcnow
    export_dir: Optional[Path] = None  # None: the settings' export folder
    settings_path: Optional[Path] = None
    form_memory_path: Optional[Path] = None  # the Backtest form's last entries; None: not kept
    broker_factory: Optional[Callable[..., Any]] = None  # live sessions (a later workspace)
    feed_factory: Optional[Callable[..., Any]] = None
    keyring: Any = None  # API keys live in the OS keyring, never in settings or the database
    _engine: Optional["Engine"] = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.db_url:
            self.db_url = self.settings.db_url or default_db_url()
        if self.export_dir is None:
            self.export_dir = self.settings.export_folder()

    def load_candles(self, spec: "DataSpec", progress: Any = None, cancel: Optional[threading.Event] = None) -> "pd.DataFrame":
        return self.candle_loader(spec, progress=progress, cancel=cancel)

    def database(self) -> "Engine":
        """The database, opened (and its schema brought up to date) by the first caller; the
        workers that read History and store runs may ask at the same moment."""
        with _OPENING:
            if self._engine is None:
                from engine.store import open_db

                self._engine = open_db(self.db_url)
        return self._engine

    def save_settings(self, settings: Settings) -> str:  # type: ignore[override]
        path = save_settings(settings, self.settings_path)
        if self.export_dir == self.settings.export_folder():
            self.export_dir = settings.export_folder()
        self.settings = settings
        return str(path)


    def load_form_memory(self) -> dict[str, Any]:
        """{} when there is none, or it cannot be read: the form then opens on its defaults
        (a lost memory of entries is no reason to refuse to start)."""
        if self.form_memory_path is None:
            return {}
        try:
            data = json.loads(self.form_memory_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save_form_memory(self, memory: dict[str, Any]) -> None:
        if self.form_memory_path is not None:
            write_json_atomic(self.form_memory_path, memory)


def default_backends() -> Backends:
    settings = load_settings()
    return Backends(settings=settings, form_memory_path=config_dir() / "backtest-form.json")


