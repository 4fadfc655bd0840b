"""Pictures of History, the comparison and the settings dialog, for visual regressions.

Deterministic by construction: fixed terminal size, the default theme, runs with fixed
creation times (see :func:`tests.test_ui_history.seed`), no blinking cursors, and only
screens whose headers name no temporary path.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from tests.test_ui_history import SIZE, make_app, seed


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
        await pilot.press("down", "space")  # the older run is marked A
        await pilot.pause()

    assert snap_compare(seeded_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_compare_two_runs(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("f4")
        await pilot.press("space", "down", "space", "c")
        await pilot.pause()

    assert snap_compare(seeded_app(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_settings_with_a_bad_fee(snap_compare, tmp_path: Path) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("f4", "f8")
        await pilot.pause()
        pilot.app.screen.query_one("#set-fee_pct", Input).value = "12"
        await _still_cursors(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_before)
