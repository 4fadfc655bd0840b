"""The data's own calendar: how many bars a year holds, and how many years a run spans.

Annualising every data set as if it traded 24/7 overstates a stock's Sharpe ratio by
sqrt(365/252); DESIGN.md asks for periods per year measured from the timestamps.
The vectorised metrics and the incremental tracker both call these two functions, so
they cannot disagree on the calendar.

* ``periods_per_year = (n_bars - 1) / span_years``, ``span_years`` = (last timestamp -
  first timestamp) / 365.25 days: the bar intervals one calendar year actually holds
  (daily stocks ~252, daily crypto 365.25, hourly stocks ~1,640, hourly crypto 8,766).
* A span shorter than :data:`MIN_CALENDAR_SPAN_NS` (one week) cannot show a market's
  calendar (weekends, sessions) and one gap would swing the estimate, so such a series
  counts as trading around the clock at its smallest bar spacing:
  ``periods_per_year = year / smallest positive gap``.
* Undefined (None) for fewer than two bars or a span that is not positive.
* A run of ``n_bars`` returns covers ``n_bars / periods_per_year`` years: the span from
  the first to the last bar plus one average bar, since the first return runs from the
  starting balance to the first close.
"""

from __future__ import annotations

from typing import Optional

YEAR_NS = int(365.25 * 86400 * 10**9)  # the calendar year, leap days included
MIN_CALENDAR_SPAN_NS = 7 * 86400 * 10**9


def periods_per_year(n_bars: int, span_ns: int, min_step_ns: Optional[int]) -> Optional[float]:
    """Bar intervals per calendar year; ``min_step_ns`` is the smallest positive gap between bars."""
    if n_bars < 2 or span_ns <= 0:
        return None
    if span_ns < MIN_CALENDAR_SPAN_NS:
        return YEAR_NS / min_step_ns if min_step_ns else None
    return (n_bars - 1) * YEAR_NS / span_ns


def years_covered(n_bars: int, ppy: Optional[float]) -> Optional[float]:
    """Years that ``n_bars`` returns span at ``ppy`` periods per year (CAGR's exponent)."""
    return n_bars / ppy if ppy else None
