"""Domain events of the Live workspace, posted by its session worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from engine.session.feed import FeedStatus
    from engine.session.session import BookChanged, LiveSession


@dataclass
class SessionOpened(Message):
    session: "LiveSession"


@dataclass
class BookUpdated(Message):
    """A fill, a trade or a manual action, already committed."""

    change: "BookChanged"


@dataclass
class FeedUpdated(Message):
    status: "FeedStatus"


@dataclass
class SessionEnded(Message):
    status: str
    message: str = ""


@dataclass
class SessionFailed(Message):
    message: str


@dataclass
class SessionNoted(Message):
    """Something to tell the trader that stops nothing: differences reconciled, a refused stop order."""

    title: str
    text: str
