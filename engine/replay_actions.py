"""What-if actions from a JSON-lines file, for the headless replay.

One action per line, e.g. ``{"at": "2024-03-05T14:00:00Z", "do": "partial_exit", "percent": 50}``
or ``{"bar": 120, "do": "close"}``. Every problem names the file and the line; nothing is
applied until the whole file has been read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from engine.actions import ManualAction
from engine.errors import InputError


class ScheduledAction(NamedTuple):
    line: int
    bar: int
    action: ManualAction


def _bar_of(entry: dict[str, Any], index: pd.DatetimeIndex) -> int:
    if ("at" in entry) == ("bar" in entry):
        raise InputError("give the bar as either 'at' (a bar's time) or 'bar' (its number), not both or neither")
    n = len(index)
    if "bar" in entry:
        bar = entry["bar"]
        if isinstance(bar, bool) or not isinstance(bar, int) or not 0 <= bar < n:
            raise InputError(f"'bar' must be a bar number from 0 to {n - 1}, got {bar!r}")
        return bar
    try:
        at = pd.Timestamp(entry["at"])
    except (ValueError, TypeError):
        raise InputError(f"'at' must be a time such as 2024-03-05T14:00:00Z, got {entry['at']!r}") from None
    at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
    pos = int(index.searchsorted(at))
    if pos >= n or index[pos] != at:
        raise InputError(
            f"no bar starts at {at.isoformat()} (the data runs from {index[0].isoformat()} to "
            f"{index[-1].isoformat()}; use a bar's own time)"
        )
    return pos


def parse_actions(text: str, index: pd.DatetimeIndex, source: str) -> list[ScheduledAction]:
    """The actions of a JSON-lines text, in bar order (lines of one bar keep their order)."""
    out: list[ScheduledAction] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not JSON ({exc.msg})") from None
            if not isinstance(entry, dict):
                raise InputError("each line must be a JSON object")
            bar = _bar_of(entry, index)
            out.append(ScheduledAction(lineno, bar, ManualAction.from_dict(entry)))
        except InputError as exc:
            raise InputError(f"{source}:{lineno}: {exc}") from None
    return sorted(out, key=lambda a: a.bar)


def read_actions(path: str, index: pd.DatetimeIndex) -> list[ScheduledAction]:
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"--actions: {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--actions: cannot read {path}: {exc}") from None
    return parse_actions(text, index, str(path))
