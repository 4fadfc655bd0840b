"""One list of themes: every theme the command palette offers is accepted by the settings,
a theme picked there is saved, and the Settings dialog opens on it."""

from __future__ import annotations

import tomllib

from textual.theme import BUILTIN_THEMES
from textual.widgets import Select

from atb_tui.settings import THEMES, load_settings
from screens.settings import SettingsScreen
from tests.ui_support import make_app


def test_the_settings_accept_exactly_textuals_themes() -> None:
    assert sorted(THEMES) == sorted(BUILTIN_THEMES)


async def test_a_theme_picked_in_the_palette_is_saved_and_shown_in_settings(tmp_path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        app.theme = "catppuccin-mocha"  # what the palette's theme picker does
        await pilot.pause()
        saved = tmp_path / "settings.toml"
        assert tomllib.loads(saved.read_text())["theme"] == "catppuccin-mocha"
        assert load_settings(saved, environ={}).theme == "catppuccin-mocha"
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        select = app.screen.query_one("#set-theme", Select)
        assert select.value == "catppuccin-mocha"
        assert len(select._options) >= len(THEMES)  # noqa: SLF001 - every theme is offered
