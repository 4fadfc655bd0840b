"""What the database workers of History, Compare and run detail post back to their screens.

Every read and delete of a stored run happens on a worker thread; these messages carry
the result to the screen's handlers, the only code that touches widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from textual.message import Message

if TYPE_CHECKING:
    from engine.models import Run
    from engine.run_filter import RunPage
    from screens.equity_curve import EquityCurve
    from screens.run_view import RunView


def first_line(exc: BaseException) -> str:
    """A database error in the user's words: its first line (SQLAlchemy appends the SQL)."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@dataclass
class RunsPageLoaded(Message):
    """A page of the run list, for the request numbered ``generation``."""

    generation: int
    page: "RunPage"
    stamp: tuple[int, int]


@dataclass
class RunsStamp(Message):
    """The database's run count and newest id, as the watcher last saw them."""

    stamp: tuple[int, int]


@dataclass
class RunDeleted(Message):
    run_id: int
    existed: bool  # False: someone else had deleted it already


@dataclass
class RunsReadFailed(Message):
    """A read or delete failed (database unreachable, locked...): the message says why."""

    message: str
    generation: Optional[int] = None  # the page request it answers, if any
    run_id: Optional[int] = None  # the run whose delete failed, if any


@dataclass
class RunDetailLoaded(Message):
    run_id: int
    view: Optional["RunView"]  # None: no such run (deleted since the list was drawn)


@dataclass
class CompareLoaded(Message):
    run_a: Optional["Run"]
    run_b: Optional["Run"]
    changed: list[tuple[int, Optional[str], Optional[str], Optional[float], Optional[float]]]
    trade_count: int  # the larger run's number of trades
    curves: list["EquityCurve"]  # A's and B's, to draw (empty when a run is missing)


@dataclass
class ExportWritten(Message):
    path: str


@dataclass
class ExportFailed(Message):
    message: str
