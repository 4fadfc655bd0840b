"""Parsed CSV candles kept beside the user's cache, so a second run skips the parse.

Parsing and validating a million-row CSV takes about half a second; reading the same
candles back as raw arrays takes a few hundredths. An entry is keyed by the file's
absolute path and only used while the file's size and modification time are the ones
it was made from: an edited file is parsed (and validated) again. The frame is cached
after validation, so an entry always holds candles that passed it.

Entries are written to a temporary file and renamed into place, so a crash leaves no
half entry; a broken or unreadable entry is ignored and replaced. Only files of at
least ``MIN_BYTES`` are cached (small ones parse fast anyway), and the oldest entries
go once the folder holds more than ``MAX_BYTES``. Set ``ATB_TUI_CSV_CACHE=0`` to turn
it off.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from engine.data.frame import frame_from_block, index_from_ns

ENV_SWITCH = "ATB_TUI_CSV_CACHE"
MIN_BYTES = 4 * 1024 * 1024
MAX_BYTES = 2 * 1024**3
_VERSION = 1


def cache_folder() -> Path:
    """``parsed-csv`` in ``$ATB_TUI_CACHE_DIR`` if set, else in the user cache dir."""
    from engine.data.cache import ENV_VAR

    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser() / "parsed-csv"
    import platformdirs

    return Path(platformdirs.user_cache_dir("atb-tui")) / "parsed-csv"


def _enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def _entry(path: Path) -> Path:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:20]
    return cache_folder() / f"{digest}.npy"


def _stamp(path: Path) -> np.ndarray:
    st = path.stat()
    return np.array([_VERSION, st.st_size, st.st_mtime_ns], dtype=np.int64)


def cached_frame(path: Path, source: str) -> Optional[pd.DataFrame]:
    """The candles parsed from ``path`` before, if it has not changed since; else None."""
    if not _enabled():
        return None
    try:
        if path.stat().st_size < MIN_BYTES:
            return None
        with open(_entry(path), "rb") as fh:
            stamp = np.load(fh)
            if not np.array_equal(stamp, _stamp(path)):
                return None
            ts = np.load(fh)
            block = np.load(fh)
    except (OSError, ValueError, EOFError):
        return None
    if block.shape != (5, len(ts)):
        return None
    return frame_from_block(index_from_ns(ts), block, source=source)


def remember(path: Path, frame: pd.DataFrame) -> None:
    """Keep ``frame`` (validated candles just parsed from ``path``) for the next run.

    Never fails a run: a cache that cannot be written is simply not written."""
    if not _enabled():
        return
    try:
        stamp = _stamp(path)
        if stamp[1] < MIN_BYTES:
            return
        folder = cache_folder()
        folder.mkdir(parents=True, exist_ok=True)
        ts = frame.index.asi8
        block = np.ascontiguousarray(frame.to_numpy(dtype=np.float64).T)
        fd, tmp = tempfile.mkstemp(prefix=".entry-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                for array in (stamp, ts, block):
                    np.save(fh, array, allow_pickle=False)
            os.replace(tmp, _entry(path))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _prune(folder)
    except OSError:
        return


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.npy"), key=lambda p: p.stat().st_mtime, reverse=True)
    total = 0
    for entry in entries:
        total += entry.stat().st_size
        if total > MAX_BYTES:
            entry.unlink(missing_ok=True)
