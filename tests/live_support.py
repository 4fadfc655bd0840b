"""Feeds for Live workspace tests: a fixed number of candles, then a market that stands still."""

from __future__ import annotations

from typing import Optional

from engine.session.feed import FeedStatus, ReplayFeed, sample_feed_candles


class HeldFeed(ReplayFeed):
    """The first ``candles`` sample candles of each symbol at full speed, then nothing (not
    ended): the screen settles on a fixed state. ``status_after`` replaces the feed's status
    once the candles are out (a retrying connection, say); ``minimum`` is the market's
    smallest order, as an exchange feed knows it."""

    def __init__(self, symbols, candles: int, status_after: Optional[FeedStatus] = None,  # type: ignore[no-untyped-def]
                 minimum: float = 0.0) -> None:
        super().__init__({s: c.iloc[:candles] for s, c in sample_feed_candles(list(symbols)).items()})
        self.status_after = status_after
        self.minimum = minimum

    @property
    def ended(self) -> bool:
        return False

    def poll(self):  # type: ignore[no-untyped-def]
        if not self._heap:
            if self.status_after is not None:
                self.status = self.status_after
            self.sleep(0.01)
            return []
        return super().poll()

    def minimum_qty(self, symbol: str, price: float) -> float:
        return self.minimum
