"""Snapshots of the Backtest workspace once a run's results are shown: the form stepped
aside so the results have the width (issue 10), at 80x24 and 160x50, and the form brought
back beside them. Fixed sizes, a fixed clock, every worker finished (see
:mod:`tests.test_snapshots_backtest`, whose fixtures these share)."""

from __future__ import annotations

import pytest

from tests import test_snapshots_backtest as backtest
from tests.test_snapshots_backtest import SIZE, _finished_run

app_in = backtest.app_in  # the fixture: an app on the sample data, in a temporary folder


@pytest.mark.parametrize("tab", ["trades", "reports"])
def test_results_tab_at_80x24(snap_compare, app_in, tab: str) -> None:
    """The trades (scrolled sideways for the last columns) and the reports, whole at 80 columns."""

    async def to_tab(pilot) -> None:
        await _finished_run(pilot, tab)
        await pilot.app.workers.wait_for_complete()

    assert snap_compare(app_in(), terminal_size=(80, 24), run_before=to_tab)


def test_trades_show_every_column_without_zoom(snap_compare, app_in) -> None:
    """160x50: with the form aside, Bars and Exit reason are on screen without pressing z."""

    async def trades(pilot) -> None:
        await _finished_run(pilot, "trades")
        await pilot.app.workers.wait_for_complete()

    assert snap_compare(app_in(), terminal_size=SIZE, run_before=trades)


def test_form_brought_back_beside_the_results(snap_compare, app_in) -> None:
    """ctrl+f: the form back on the left, the keys in its first field, the Footer saying Hide form."""

    async def form_back(pilot) -> None:
        await _finished_run(pilot)
        await pilot.press("ctrl+f")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app_in(), terminal_size=SIZE, run_before=form_back)
