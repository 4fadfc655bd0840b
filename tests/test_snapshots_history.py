"""Pictures of History, the comparison and the settings dialog, for visual regressions.

Deterministic by construction: fixed terminal size, the default theme, runs with fixed
creation times (see :func:`tests.test_ui_history.seed` and :mod:`tests.run_seed`), no
blinking cursors, only screens whose headers name no temporary path, and every
database read finished (they run on workers) before the picture is taken.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from textual.widgets import Input

from tests.test_ui_history import SIZE, make_app, many, seed, settled


def seeded_app(tmp_path: Path):
    seed(f"sqlite:///{tmp_path}/t.sqlite")
    return make_app(tmp_path)


async def _still_cursors(pilot) -> None:
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def test_history_with_two_runs(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("f4")
        await settled(pilot)
        await pilot.press("down", "space")  # the older run is marked A
        await pilot.pause()

    assert snap_compare(seeded_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_history_page_of_many_runs_filtered(snap_compare, tmp_path: Path) -> None:
    """The second page of 230 runs narrowed to ETH: the status counts the pages' runs."""
    app, _ = many(tmp_path, 230)

    async def run_before(pilot) -> None:
        await pilot.press("f4")
        await settled(pilot)
        await pilot.press("slash", *"eth", "enter")
        await settled(pilot)
        await pilot.press("pagedown", "pagedown", "pagedown")
        await settled(pilot)
        await _still_cursors(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_history_at_80x24(snap_compare, tmp_path: Path) -> None:
    app, _ = many(tmp_path, 60)

    async def run_before(pilot) -> None:
        await pilot.press("f4")
        await settled(pilot)
        await pilot.press("space", "down", "space")
        await _still_cursors(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_compare_two_runs(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("f4")
        await settled(pilot)
        await pilot.press("space", "down", "space", "c")
        await settled(pilot)

    assert snap_compare(seeded_app(tmp_path), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", [SIZE, (80, 24)], ids=["120x40", "80x24"])
def test_compare_equity_overlaid(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    """Both runs' equity in one chart and their drawdowns in another, A and B in their own
    colours, the legends naming the runs with their final equity and worst drawdown."""

    async def run_before(pilot) -> None:
        await pilot.press("f4")
        await settled(pilot)
        await pilot.press("space", "down", "space", "c")
        await settled(pilot)
        await pilot.press("2")
        await pilot.pause()

    assert snap_compare(seeded_app(tmp_path), terminal_size=size, run_before=run_before)


def test_settings_with_a_bad_fee(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("f4")
        await settled(pilot)  # History's list behind the dialog, not its "Loading…"
        await pilot.press("f8")
        await pilot.pause()
        pilot.app.screen.query_one("#set-fee_pct", Input).value = "12"
        await _still_cursors(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)
