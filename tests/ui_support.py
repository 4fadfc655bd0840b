"""Building the app for UI tests: a temp database, a ticking fake clock, fake data sources."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional

from atb_tui.app import AtbApp, create_app
from atb_tui.backends import Backends
from atb_tui.settings import Settings
from engine.data import sample_candles

FIXED_NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def ticking_clock(step: float = 0.25) -> Callable[[], float]:
    """Each call is ``step`` seconds after the previous one: deterministic elapsed times."""
    counter = itertools.count()
    return lambda: next(counter) * step


def make_app(tmp_path: Path, loader: Optional[Callable[..., Any]] = None, db_name: str = "runs.sqlite",
             db_url: Optional[str] = None) -> AtbApp:
    """``db_url`` relative to a chdir'd tmp_path keeps the header's database label stable."""
    kw: dict[str, Any] = {}
    if loader is not None:
        kw["candle_loader"] = loader
    return create_app(
        Backends(
            settings=Settings(), db_url=db_url or f"sqlite:///{tmp_path / db_name}", clock=ticking_clock(),
            now=lambda: FIXED_NOW, export_dir=tmp_path, settings_path=tmp_path / "settings.toml", **kw,
        )
    )


class HeldDataSource:
    """A data source that reports half its candles and then waits until released or cancelled."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.waiting = threading.Event()

    def __call__(self, spec: Any, progress: Any = None, cancel: Optional[threading.Event] = None) -> Any:
        if progress is not None:
            progress(500, 1000)
        self.waiting.set()
        while not self.release.wait(0.01):
            if cancel is not None and cancel.is_set():
                from engine.data import DownloadCancelled

                raise DownloadCancelled("cancelled")
        return sample_candles()
