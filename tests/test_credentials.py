"""API keys: a keyring round trip, masked printing, and a helpful error where no keyring exists."""

from __future__ import annotations

import json
import logging

import pytest
from keyring.backends import fail, null

from engine.errors import InputError
from engine.session.credentials import (
    SERVICE, Credentials, KeyringUnavailable, ccxt_options, delete_credentials, keyring_status, load_credentials,
    save_credentials,
)
from tests.fake_keyring import LockedKeyring, MemoryKeyring

KEY = "AKIA0000111122223333a1b2"
SECRET = "s3cr3t-TOP-9f8e7d6c5b4a"
OKX = Credentials("okx", KEY, SECRET, password="pass-phrase-77")


def test_round_trip_one_entry_per_exchange_holding_json() -> None:
    kr = MemoryKeyring()
    save_credentials(Credentials("binance", KEY, SECRET), backend=kr)
    save_credentials(OKX, backend=kr)
    assert set(kr.entries) == {(SERVICE, "binance"), (SERVICE, "okx")}
    assert json.loads(kr.entries[(SERVICE, "okx")]) == {"api_key": KEY, "secret": SECRET, "password": "pass-phrase-77"}
    assert load_credentials("okx", backend=kr) == OKX
    assert load_credentials("binance", backend=kr) == Credentials("binance", KEY, SECRET, None)
    assert load_credentials("kraken", backend=kr) is None


def test_repr_and_str_show_only_the_keys_tail() -> None:
    for text in (repr(OKX), str(OKX), f"{OKX}", str([OKX])):
        assert SECRET not in text and KEY not in text and "pass-phrase" not in text
        assert "okx key …a1b2" in text
    assert str(Credentials("binance", "short", SECRET)) == "binance key …"  # too short to show any of it


def test_ccxt_options() -> None:
    assert ccxt_options(OKX) == {"apiKey": KEY, "secret": SECRET, "password": "pass-phrase-77"}
    assert ccxt_options(Credentials("binance", KEY, SECRET)) == {"apiKey": KEY, "secret": SECRET}


def test_delete() -> None:
    kr = MemoryKeyring()
    save_credentials(OKX, backend=kr)
    assert delete_credentials("okx", backend=kr) is True
    assert load_credentials("okx", backend=kr) is None and kr.entries == {}
    assert delete_credentials("okx", backend=kr) is False


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_no_keyring_says_how_to_get_one(backend, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    for call in (lambda: save_credentials(OKX, backend=backend), lambda: load_credentials("okx", backend=backend),
                 lambda: delete_credentials("okx", backend=backend)):
        with pytest.raises(KeyringUnavailable) as caught:
            call()
        message = str(caught.value)
        assert isinstance(caught.value, InputError)
        assert "No OS keyring" in message
        for fix in ("GNOME Keyring", "KWallet", "keyrings.alt", "PYTHON_KEYRING_BACKEND", "permissions"):
            assert fix in message
    ok, message = keyring_status(backend)
    assert not ok and "keyrings.alt" in message


def test_a_locked_keyring_is_unavailable_without_a_traceback_chain() -> None:
    with pytest.raises(KeyringUnavailable, match="locked") as caught:
        save_credentials(OKX, backend=LockedKeyring())
    assert caught.value.__suppress_context__  # nothing of the failed call is printed with it


def test_a_back_ends_own_error_is_reported_not_raised() -> None:
    class Broken(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise OSError("D-Bus went away")

    with pytest.raises(KeyringUnavailable, match="OSError: D-Bus went away") as caught:
        save_credentials(OKX, backend=Broken())
    assert caught.value.__suppress_context__


def test_status_of_a_working_keyring() -> None:
    ok, message = keyring_status(MemoryKeyring())
    assert ok and "MemoryKeyring" in message


def test_default_backend_is_keyrings_choice(monkeypatch) -> None:
    kr = MemoryKeyring()
    monkeypatch.setattr("keyring.get_keyring", lambda: kr)
    save_credentials(OKX)
    assert load_credentials("okx") == OKX


def test_incomplete_keys_and_foreign_entries_are_input_errors() -> None:
    kr = MemoryKeyring()
    with pytest.raises(InputError, match="secret"):
        save_credentials(Credentials("okx", KEY, ""), backend=kr)
    with pytest.raises(InputError, match="exchange_id"):
        save_credentials(Credentials("no such/one", KEY, SECRET), backend=kr)
    assert kr.entries == {}
    assert Credentials("nope", KEY, SECRET).problems({"okx"}) == {"exchange_id": "an exchange ccxt knows ('nope' is not one)"}
    kr.set_password(SERVICE, "okx", "plain text from another program")
    with pytest.raises(InputError, match="not written by atb-tui") as caught:
        load_credentials("okx", backend=kr)
    assert "plain text" not in str(caught.value)


def test_nothing_secret_is_logged(caplog) -> None:
    kr = MemoryKeyring()
    with caplog.at_level(logging.DEBUG):
        save_credentials(OKX, backend=kr)
        load_credentials("okx", backend=kr)
        delete_credentials("okx", backend=kr)
    assert "okx key …a1b2" in caplog.text
    assert SECRET not in caplog.text and KEY not in caplog.text
