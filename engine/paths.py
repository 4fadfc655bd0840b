"""Where atb-tui keeps its files by default. Light on purpose: the TUI's first frame needs it."""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV = "ATB_TUI_DB"


def default_db_url() -> str:
    """``$ATB_TUI_DB``, else a SQLite file under the user data dir."""
    env = os.environ.get(DB_ENV)
    if env:
        return env
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('atb-tui')) / 'atb-tui.sqlite'}"
