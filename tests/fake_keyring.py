"""Keyring back-ends for tests: one that keeps passwords in a dict, one that is always locked.

Tests pass them explicitly (``backend=`` or ``Backends(keyring=...)``) so no test reads
or writes the real OS keyring of the machine it runs on. Their negative priority keeps
keyring's own back-end detection from ever choosing them (every subclass registers itself).
"""

from __future__ import annotations

from typing import Optional

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    priority = -5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> Optional[str]:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


class LockedKeyring(KeyringBackend):
    """A Secret Service whose collection stays locked: every call fails."""

    priority = -5  # type: ignore[assignment]

    def get_password(self, service: str, username: str, *password: str) -> Optional[str]:
        raise KeyringLocked("the collection is locked")

    set_password = delete_password = get_password  # type: ignore[assignment]
