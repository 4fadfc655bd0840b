"""The API keys dialog: keys go to the keyring and nowhere else, not even the screen."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from keyring.backends import fail
from textual.widgets import Button, Input

from engine.session.credentials import SERVICE, Credentials, save_credentials
from screens.api_keys import ApiKeysScreen
from screens.confirm import ConfirmScreen
from screens.settings import SettingsScreen
from tests.fake_keyring import LockedKeyring, MemoryKeyring
from tests.test_ui_backtest import _until
from tests.ui_support import make_app

SIZE = (100, 30)
KEY = "AKIA0000111122223333a1b2"
SECRET = "s3cr3tTOP9f8e7d6c5b4a"  # typed key by key: letters and digits only


def keyed_app(tmp_path: Path, backend, **kw):
    app = make_app(tmp_path, **kw)
    app.services.keyring = backend
    return app


def shown(pilot) -> str:
    """Everything on the terminal: the text of the SVG a screenshot would save."""
    return html.unescape(re.sub(r"<[^>]*>", "", pilot.app.export_screenshot())).replace("\xa0", " ")


def stored_hint(pilot) -> str:
    return str(pilot.app.screen.query_one("#keys-stored").render())


async def open_from_settings(pilot) -> ApiKeysScreen:
    await pilot.press("f8")
    await _until(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
    await pilot.click("#api-keys")
    await _until(pilot, lambda: isinstance(pilot.app.screen, ApiKeysScreen) and pilot.app.screen.ready)
    return pilot.app.screen


async def type_into(pilot, field: str, text: str) -> None:
    await pilot.click(f"#keys-{field}")
    await pilot.press(*text)


async def test_saved_keys_reach_the_keyring_and_no_screen_or_file(tmp_path: Path) -> None:
    kr = MemoryKeyring()
    app = keyed_app(tmp_path, kr)
    async with app.run_test(size=SIZE, notifications=True) as pilot:  # toasts are drawn, and scanned
        dialog = await open_from_settings(pilot)
        await _until(pilot, lambda: stored_hint(pilot) == "no keys stored for binance")
        assert dialog.query_one("#save", Button).disabled  # nothing typed yet
        await type_into(pilot, "key", KEY)
        await type_into(pilot, "secret", SECRET)
        assert dialog.query_one("#keys-secret", Input).password
        assert not dialog.query_one("#save", Button).disabled
        screens_seen = [shown(pilot)]
        assert "•" * 8 in screens_seen[0]  # what was typed is drawn masked
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
        assert json.loads(kr.entries[(SERVICE, "binance")]) == {"api_key": KEY, "secret": SECRET}
        await _until(pilot, lambda: "API keys saved" in shown(pilot))
        assert "…a1b2." in shown(pilot)  # the notification names the key by its tail
        screens_seen.append(shown(pilot))

        dialog = await open_from_settings(pilot)  # opened again: the key's tail, never the secret
        await _until(pilot, lambda: stored_hint(pilot) == "stored: key …a1b2")
        assert dialog.query_one("#keys-key", Input).value == "" and dialog.query_one("#keys-secret", Input).value == ""
        screens_seen.append(shown(pilot))
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
        await pilot.click("#save")  # the settings are written too, and hold no key
        await _until(pilot, lambda: not isinstance(pilot.app.screen, SettingsScreen))
        app.services.database()  # the database exists, and holds no key either

    for text in screens_seen:
        assert SECRET not in text and SECRET[-4:] not in text and KEY[:-4] not in text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"settings.toml", "runs.sqlite"}
    for path in files:
        data = path.read_bytes()
        assert SECRET.encode() not in data and KEY.encode() not in data, path


async def test_no_keyring_says_how_to_get_one_and_saves_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    app = keyed_app(tmp_path, fail.Keyring())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"API keys")
        await pilot.pause()
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(pilot.app.screen, ApiKeysScreen) and pilot.app.screen.ready)
        dialog = pilot.app.screen
        status = str(dialog.query_one("#keys-status").render())
        assert "No OS keyring" in status and "keyrings.alt" in status and "GNOME Keyring" in status
        dialog.query_one("#keys-key", Input).value = KEY
        dialog.query_one("#keys-secret", Input).value = SECRET
        await pilot.pause()
        assert dialog.query_one("#save", Button).disabled and dialog.query_one("#delete", Button).disabled
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is dialog  # still open: nothing was saved, nothing crashed


async def test_stored_hint_follows_the_exchange_and_delete_asks_first(tmp_path: Path) -> None:
    kr = MemoryKeyring()
    save_credentials(Credentials("okx", KEY, SECRET, "phrase"), backend=kr)
    app = keyed_app(tmp_path, kr)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # the workspace is up
        app.action_api_keys()
        await _until(pilot, lambda: isinstance(app.screen, ApiKeysScreen) and app.screen.ready)
        dialog = app.screen
        exchange = dialog.query_one("#keys-exchange", Input)
        await _until(pilot, lambda: stored_hint(pilot) == "no keys stored for binance")
        assert dialog.query_one("#delete", Button).disabled

        exchange.value = "okxx"
        dialog.query_one("#keys-key", Input).value = KEY
        dialog.query_one("#keys-secret", Input).value = SECRET
        await _until(pilot, lambda: "ccxt knows" in stored_hint(pilot))
        assert dialog.query_one("#save", Button).disabled

        exchange.value = "okx"
        await _until(pilot, lambda: stored_hint(pilot) == "stored: key …a1b2 and a passphrase")
        assert not dialog.query_one("#save", Button).disabled
        await pilot.click("#delete")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await _until(pilot, lambda: stored_hint(pilot) == "no keys stored for okx")
        assert kr.entries == {} and app.screen is dialog
        assert dialog.query_one("#delete", Button).disabled


async def test_a_locked_keyring_is_reported_in_the_dialog(tmp_path: Path) -> None:
    app = keyed_app(tmp_path, LockedKeyring())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()  # the workspace is up
        app.action_api_keys()
        await _until(pilot, lambda: isinstance(app.screen, ApiKeysScreen) and app.screen.ready)
        await _until(pilot, lambda: "locked" in stored_hint(pilot))
        dialog = app.screen
        dialog.query_one("#keys-key", Input).value = KEY
        dialog.query_one("#keys-secret", Input).value = SECRET
        await pilot.pause()
        await pilot.click("#save")
        await _until(pilot, lambda: "Not saved" in str(dialog.query_one("#keys-problem").render()))
        assert "unlock" in str(dialog.query_one("#keys-problem").render()) and app.screen is dialog


def test_dialog_with_masked_keys(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a relative database URL keeps the header free of the temp path
    kr = MemoryKeyring()
    save_credentials(Credentials("binance", KEY, SECRET), backend=kr)

    async def run_before(pilot) -> None:
        await pilot.pause()  # the workspace is up
        pilot.app.action_api_keys()
        await _until(pilot, lambda: isinstance(pilot.app.screen, ApiKeysScreen) and pilot.app.screen.ready)
        await _until(pilot, lambda: stored_hint(pilot) == "stored: key …a1b2")
        dialog = pilot.app.screen
        dialog.query_one("#keys-key", Input).value = "NEWKEY0000111122223333"
        dialog.query_one("#keys-secret", Input).value = SECRET
        for field in dialog.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(keyed_app(tmp_path, kr, db_url="sqlite:///runs.sqlite"), terminal_size=SIZE, run_before=run_before)
