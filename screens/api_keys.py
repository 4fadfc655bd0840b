"""The exchange API keys dialog: typed into masked inputs, kept in the OS keyring only.

Keys are never shown again once saved: the dialog says whether an exchange has keys
stored by the last characters of the API key, never the secret. Where the machine has
no keyring it shows how to get one and disables Save. The keyring and ccxt's exchange
list are first reached off the UI thread (a keyring back-end may be a D-Bus call, ccxt
is slow to import). Secrets are read from the inputs straight into
:class:`Credentials` (masked repr), never kept in a plain local a crash report could print.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from engine.errors import InputError
from engine.session.credentials import (
    Credentials, delete_credentials, exchange_ids, keyring_status, load_credentials, mask, save_credentials,
)
from screens.confirm import ConfirmScreen

ROWS = (
    ("exchange", "Exchange", "ccxt id, e.g. binance"),
    ("key", "API key", "never shown again once saved"),
    ("secret", "Secret", "never shown again once saved"),
    ("passphrase", "Passphrase", "only if the exchange asks for one (OKX, KuCoin …)"),
)


class ApiKeysScreen(ModalScreen[Optional[str]]):
    """Dismissed with the exchange id whose keys were saved, or None."""

    CSS_PATH = "api_keys.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    class Ready(Message):
        def __init__(self, status: tuple[bool, str], known: frozenset[str]) -> None:
            super().__init__()
            self.status, self.known = status, known

    class Stored(Message):
        def __init__(self, exchange_id: str, hint: str, stored: bool) -> None:
            super().__init__()
            self.exchange_id, self.hint, self.stored = exchange_id, hint, stored

    def __init__(self, exchange_id: str = "") -> None:
        super().__init__()
        self.exchange_id = exchange_id
        self.status: Optional[tuple[bool, str]] = None  # None until the keyring was asked
        self.known: Optional[frozenset[str]] = None
        self.stored_for: Optional[str] = None  # the exchange whose keys the hint describes as stored

    @property
    def backend(self) -> Any:
        return getattr(self.app.services, "keyring", None)

    @property
    def ready(self) -> bool:
        return self.status is not None

    def compose(self) -> ComposeResult:
        with Vertical(id="keys-dialog"):
            yield Static("Exchange API keys", id="keys-title")
            with VerticalScroll(id="keys-fields"):
                yield Static("Asking the OS keyring…", id="keys-status", markup=False)
                for name, label, hint in ROWS:
                    with Horizontal(classes="keys-row"):
                        yield Label(label, classes="keys-label")
                        with Vertical(classes="keys-entry"):
                            yield Input(self.exchange_id if name == "exchange" else "", id=f"keys-{name}",
                                        placeholder=hint, password=name != "exchange")
                            if name == "exchange":
                                yield Static("", id="keys-stored", markup=False)  # messages may hold [brackets]
            with Vertical(id="keys-actions"):  # docked: on a short terminal the fields scroll, these stay
                yield Static("", id="keys-problem", markup=False)
                with Horizontal(id="keys-buttons"):
                    yield Button("Save", id="save", variant="primary", disabled=True)
                    yield Button("Delete", id="delete", variant="error", disabled=True)
                    yield Button("Cancel", id="cancel")
        # Its own Footer: the one underneath would list keys of the screen behind the dialog.
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#keys-key", Input).focus()
        self._prepare(self.backend)

    @work(thread=True, group="keys-prepare")
    def _prepare(self, backend: Any) -> None:
        status = keyring_status(backend)
        self.post_message(self.Ready(status, exchange_ids()))

    @work(thread=True, exclusive=True, group="keys-lookup")
    def _look_up(self, exchange_id: str, backend: Any) -> None:
        try:
            creds = load_credentials(exchange_id, backend)
        except InputError as exc:
            self.post_message(self.Stored(exchange_id, str(exc), False))
            return
        if creds is None:
            self.post_message(self.Stored(exchange_id, f"no keys stored for {exchange_id}", False))
        else:
            extra = " and a passphrase" if creds.password else ""
            self.post_message(self.Stored(exchange_id, f"stored: key {mask(creds.api_key)}{extra}", True))

    # --- state ------------------------------------------------------------------------------

    def _text(self, name: str) -> str:
        return self.query_one(f"#keys-{name}", Input).value

    def candidate(self) -> Credentials:
        return Credentials(self._text("exchange").strip(), self._text("key").strip(), self._text("secret").strip(),
                           self._text("passphrase") or None)

    def on_api_keys_screen_ready(self, event: Ready) -> None:
        self.status, self.known = event.status, event.known
        status = self.query_one("#keys-status", Static)
        status.update(event.status[1])
        status.set_class(not event.status[0], "-unavailable")
        self.refresh_state(look_up=True)

    def on_api_keys_screen_stored(self, event: Stored) -> None:
        if event.exchange_id != self.candidate().exchange_id:
            return  # typed on since
        self.stored_for = event.exchange_id if event.stored else None
        self.query_one("#keys-stored", Static).update(event.hint)
        self.refresh_state()

    def refresh_state(self, look_up: bool = False) -> None:
        creds = self.candidate()
        problems = creds.problems(self.known)
        usable = self.status is not None and self.status[0]
        stored = self.query_one("#keys-stored", Static)
        if "exchange_id" in problems:
            self.stored_for = None
            stored.update(f"must be {problems['exchange_id']}" if self.known is not None else "")
        elif look_up and usable:
            stored.update("looking in the keyring…")
            self._look_up(creds.exchange_id, self.backend)
        stored.set_class("exchange_id" in problems, "-error")
        self.query_one("#save", Button).disabled = not usable or bool(problems)
        self.query_one("#delete", Button).disabled = not usable or self.stored_for != creds.exchange_id

    # --- events -----------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#keys-problem", Static).update("")
        self.refresh_state(look_up=event.input.id == "keys-exchange")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"save": self.action_save, "delete": self.action_delete}.get(event.button.id or "", self.action_cancel)()

    def _attempt(self, what: str, call: Callable[[], object]) -> bool:
        """Run a keyring call; its failure is shown in the dialog ("Not saved: …")."""
        try:
            call()
        except InputError as exc:
            self.query_one("#keys-problem", Static).update(f"Not {what}: {exc}")
            return False
        return True

    def action_save(self) -> None:
        if self.query_one("#save", Button).disabled:
            return
        creds = self.candidate()
        if self._attempt("saved", lambda: save_credentials(creds, self.backend)):
            self.app.notify(f"API keys saved in the OS keyring: {creds}.", markup=False)
            self.dismiss(creds.exchange_id)

    def action_delete(self) -> None:
        exchange_id = self.stored_for
        if exchange_id is None or self.query_one("#delete", Button).disabled:
            return

        def answered(yes: Optional[bool]) -> None:
            if yes and self._attempt("deleted", lambda: delete_credentials(exchange_id, self.backend)):
                self.app.notify(f"API keys of {exchange_id} deleted from the OS keyring.", markup=False)
                self.stored_for = None
                self.refresh_state(look_up=True)

        self.app.push_screen(ConfirmScreen(f"Delete the API keys of {exchange_id} from the OS keyring?"), answered)

    def action_cancel(self) -> None:
        self.dismiss(None)
