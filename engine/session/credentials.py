"""Exchange API keys, kept in the OS keyring and nowhere else.

A live session needs an exchange's API key and secret; they must never reach the
settings file, the database, a log line or the screen. So they live in the OS keyring
(one entry an exchange: service :data:`SERVICE`, username = the exchange id, password =
a JSON object of the fields), and :class:`Credentials` prints as ``binance key …a1b2``.
A machine without a keyring back-end gets :class:`KeyringUnavailable`, whose message
says how to get one, instead of a traceback. Errors are re-raised ``from None`` so a
traceback that shows locals cannot show a key either.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar

from engine.errors import InputError

SERVICE = "atb-tui"
log = logging.getLogger(__name__)
T = TypeVar("T")

_LINUX_FIX = (
    "install and unlock a Secret Service provider such as GNOME Keyring or KWallet (it needs a desktop "
    "or D-Bus session); or `pip install keyrings.alt` for a file-based store, which works anywhere but keeps "
    "the keys in a file under your home directory guarded only by its permissions (its encrypted variant "
    "asks for a password at every start); or set "
    "PYTHON_KEYRING_BACKEND to a back-end you have installed. `python -m keyring diagnose` shows what keyring sees."
)
_OTHER_FIX = (
    "the system keychain should be built in: check that keyring is not disabled (keyring's config file, "
    "PYTHON_KEYRING_BACKEND) and run `python -m keyring diagnose`."
)


class KeyringUnavailable(InputError):
    """No usable OS keyring: the message says what to install or unlock."""


def mask(value: str) -> str:
    """The last four characters of a long value, for recognising a key; nothing of a short one."""
    return "…" + value[-4:] if len(value) >= 12 else "…"


@dataclass(frozen=True, repr=False)
class Credentials:
    exchange_id: str
    api_key: str
    secret: str
    password: Optional[str] = None  # the passphrase some exchanges add (OKX, KuCoin, Coinbase …)

    def __str__(self) -> str:
        return f"{self.exchange_id} key {mask(self.api_key)}" + (" + passphrase" if self.password else "")

    def __repr__(self) -> str:
        return f"Credentials({self})"

    def problems(self, known_exchanges: Optional[Any] = None) -> dict[str, str]:
        """Field name -> what is wrong; empty when the entry can be stored."""
        out: dict[str, str] = {}
        if not self.exchange_id or not self.exchange_id.replace("_", "").isalnum():
            out["exchange_id"] = "an exchange id like binance or kraken"
        elif known_exchanges is not None and self.exchange_id not in known_exchanges:
            out["exchange_id"] = f"an exchange ccxt knows ({self.exchange_id!r} is not one)"
        for name in ("api_key", "secret"):
            value = getattr(self, name)
            if not value or value != value.strip():
                out[name] = "needed, without spaces around it"
        return out


def exchange_ids() -> frozenset[str]:
    """The exchange ids ccxt knows (imports ccxt: slow, call it off the UI thread)."""
    import ccxt

    return frozenset(ccxt.exchanges)


def unavailable_message(detail: str = "") -> str:
    fix = _LINUX_FIX if sys.platform.startswith("linux") else _OTHER_FIX
    return f"No OS keyring is available to keep exchange API keys{f' ({detail})' if detail else ''}. To fix: {fix}"


def _usable(backend: Optional[Any]) -> Any:
    import keyring  # on first use: it takes a tenth of a second the first frame need not wait for
    from keyring.backends import fail, null

    try:
        kr = backend if backend is not None else keyring.get_keyring()
    except Exception as exc:  # a broken keyring config file or back-end module
        raise KeyringUnavailable(unavailable_message(f"{type(exc).__name__}: {exc}")) from None
    if isinstance(kr, (fail.Keyring, null.Keyring)):
        raise KeyringUnavailable(unavailable_message(f"keyring chose {type(kr).__module__}"))
    return kr


def _call(backend: Optional[Any], what: Callable[[Any], T]) -> T:
    from keyring.errors import KeyringError, KeyringLocked

    kr = _usable(backend)
    try:
        return what(kr)
    except KeyringLocked:
        raise KeyringUnavailable("The OS keyring is locked: unlock it (log in to the desktop session) "
                                 "and retry.") from None
    except KeyringError as exc:
        raise KeyringUnavailable(unavailable_message(f"{type(exc).__name__}: {exc}")) from None
    except Exception as exc:  # a back-end's own error (D-Bus, file): reported, never a traceback with locals
        raise KeyringUnavailable(f"The OS keyring failed ({type(exc).__name__}: {exc}).") from None


def keyring_status(backend: Optional[Any] = None) -> tuple[bool, str]:
    """Whether keys can be stored, and a sentence saying where (or how to make it possible)."""
    try:
        kr = _usable(backend)
    except KeyringUnavailable as exc:
        return False, str(exc)
    kind = type(kr)
    if kind.__module__.startswith("keyrings.alt") and "Plaintext" in kind.__name__:
        return True, ("Keys are kept by keyrings.alt in a plain file in your home directory "
                      "(readable by anyone who can read it).")
    name = getattr(kind, "name", kind.__name__)
    return True, f"Keys are kept in the OS keyring ({name}), never in settings or the database."


def save_credentials(creds: Credentials, backend: Optional[Any] = None) -> None:
    problems = creds.problems()
    if problems:
        name, what = next(iter(problems.items()))
        raise InputError(f"API keys for {creds.exchange_id or '?'}: {name} must be {what}")
    fields = {"api_key": creds.api_key, "secret": creds.secret}
    if creds.password:
        fields["password"] = creds.password
    _call(backend, lambda kr: kr.set_password(SERVICE, creds.exchange_id, json.dumps(fields)))
    log.info("API keys saved to the keyring: %s", creds)


def load_credentials(exchange_id: str, backend: Optional[Any] = None) -> Optional[Credentials]:
    """The stored keys of an exchange, or None when there are none."""
    stored = _call(backend, lambda kr: kr.get_password(SERVICE, exchange_id))
    if stored is None:
        return None
    try:
        fields = json.loads(stored)
        return Credentials(exchange_id, str(fields["api_key"]), str(fields["secret"]), fields.get("password") or None)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise InputError(f"the keyring entry {SERVICE}/{exchange_id} was not written by atb-tui: "
                         "delete it and enter the keys again") from None


def delete_credentials(exchange_id: str, backend: Optional[Any] = None) -> bool:
    """Forget an exchange's keys; False when none were stored."""
    if _call(backend, lambda kr: kr.get_password(SERVICE, exchange_id)) is None:
        return False
    _call(backend, lambda kr: kr.delete_password(SERVICE, exchange_id))
    log.info("API keys of %s deleted from the keyring", exchange_id)
    return True


def ccxt_options(creds: Credentials) -> dict[str, str]:
    """The entries of a ccxt client config that authenticate it."""
    options = {"apiKey": creds.api_key, "secret": creds.secret}
    if creds.password:
        options["password"] = creds.password
    return options
