"""The settings dialog: exchange, fees, slippage, balance, database URL, export folder and theme.

It knows the settings only as a frozen dataclass with ``.problems()`` (the rules live
with the settings in ``atb_tui``, which screens may not import, and their bounds in
``engine.limits``): every keystroke builds ``dataclasses.replace(current, ...)`` and
asks it what is wrong, so the dialog, the settings file and the Backtest form can
never disagree on what is valid. A password inside the database URL is masked and
kept as it was unless the URL is retyped.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Iterable, Optional

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Footer, Input, Label, Select, Static

from engine.errors import InputError
from screens.api_keys import ApiKeysScreen

FIELDS = (
    ("default_exchange", "Default exchange", "ccxt id, e.g. binance"),
    ("fee_pct", "Fee %", "per fill, of notional"),
    ("slippage_pct", "Slippage %", "adverse, on market fills"),
    ("balance", "Starting balance", "quote currency"),
    ("db_url", "Database URL", "empty: SQLite in the user data dir"),
    ("export_dir", "Export folder", "empty: atb-tui in your documents folder"),
)
_PASSWORD = re.compile(r"^([a-z0-9+.-]+://[^:/@]*:)([^@]*)(@)", re.IGNORECASE)


def mask_password(url: str) -> str:
    return _PASSWORD.sub(lambda m: m.group(1) + "***" + m.group(3), url)


def _plain_number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


class _FieldCheck(Validator):
    """Delegates to the dialog so one function decides what an entry's problem is."""

    def __init__(self, form: "SettingsScreen", name: str) -> None:
        super().__init__()
        self.form = form
        self.name = name

    def validate(self, value: str) -> ValidationResult:
        problem = self.form.problem_of(self.name, value)
        return self.success() if problem is None else self.failure(problem)


class SettingsScreen(ModalScreen[Optional[object]]):
    CSS_PATH = "settings.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, current: Any, themes: Optional[Iterable[str]] = None) -> None:
        super().__init__()
        self.current = current
        self.themes = tuple(themes) if themes is not None else None
        self.problems: dict[str, str] = {}

    # --- parsing and checking ---------------------------------------------------------

    def parse(self, name: str, text: str) -> Any:
        """Entry text -> the field's value; ValueError for text that is not of its type."""
        old = getattr(self.current, name)
        if name == "db_url" and text == mask_password(old):
            return old  # the masked URL stands for the stored one
        if isinstance(old, float):
            return float(text.strip())
        if isinstance(old, int):
            return int(text.strip())
        return text.strip()

    def problem_of(self, name: str, text: str) -> Optional[str]:
        try:
            value = self.parse(name, text)
        except ValueError:
            return f"{text.strip()!r} is not a number" if text.strip() else "a number is needed"
        return dataclasses.replace(self.current, **{name: value}).problems().get(name)

    def candidate(self) -> tuple[Optional[Any], dict[str, str]]:
        """The settings the form describes, or None, and every field's problem."""
        problems: dict[str, str] = {}
        values: dict[str, Any] = {}
        for name, _label, _hint in FIELDS:
            text = self.query_one(f"#set-{name}", Input).value
            try:
                values[name] = self.parse(name, text)
            except ValueError:
                problems[name] = self.problem_of(name, text) or "invalid"
        theme = self.query_one("#set-theme", Select).value
        if isinstance(theme, str):
            values["theme"] = theme
        else:
            problems["theme"] = "choose a theme"
        if problems:
            return None, problems
        new = dataclasses.replace(self.current, **values)
        problems = new.problems()
        return (None if problems else new), problems

    def theme_choices(self) -> list[str]:
        names = self.themes if self.themes is not None else tuple(self.app.available_themes)
        # Offer only what the settings accept, so the dialog never proposes an invalid theme.
        ok = [t for t in names if "theme" not in dataclasses.replace(self.current, theme=t).problems()]
        if self.current.theme not in ok:
            ok.insert(0, self.current.theme)
        return ok

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="settings-dialog"):
            yield Static("Settings", id="settings-title")
            with VerticalScroll(id="settings-fields"):
                for name, label, hint in FIELDS:
                    value = getattr(self.current, name)
                    text = _plain_number(value) if isinstance(value, float) else str(value)
                    if name == "db_url":
                        text = mask_password(text)
                    with Horizontal(classes="setting-row"):
                        yield Label(label, classes="setting-label")
                        with Vertical(classes="setting-entry"):
                            yield Input(
                                text, id=f"set-{name}", placeholder=hint,
                                validators=[_FieldCheck(self, name)], validate_on=["changed"],
                            )
                            yield Static("", id=f"err-{name}", classes="setting-error")
                            if name == "db_url":
                                yield Static("A new database is used from the next start.", classes="setting-hint")
                with Horizontal(classes="setting-row"):
                    yield Label("Theme", classes="setting-label")
                    with Vertical(classes="setting-entry"):
                        yield Select(
                            [(t, t) for t in self.theme_choices()], id="set-theme",
                            value=self.current.theme, allow_blank=False,
                        )
                        yield Static("", id="err-theme", classes="setting-error")
            yield Static("", id="settings-problem")
            with Horizontal(id="settings-buttons"):
                yield Button("API keys…", id="api-keys")
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")
        # Its own Footer: the one underneath would list keys of the screen behind the dialog.
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_state()

    # --- events ---------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refresh_state()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.refresh_state()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "api-keys":
            self.action_api_keys()
        else:
            self.action_cancel()

    def refresh_state(self) -> None:
        _new, self.problems = self.candidate()
        for name in [f[0] for f in FIELDS] + ["theme"]:
            err = self.query_one(f"#err-{name}", Static)
            err.update(self.problems.get(name, ""))
            err.display = name in self.problems
        self.query_one("#settings-problem", Static).display = False
        self.query_one("#save", Button).disabled = bool(self.problems)

    def action_save(self) -> None:
        new, self.problems = self.candidate()
        if new is None:
            self.refresh_state()
            return
        try:
            self.app.services.save_settings(new)
        except (InputError, OSError) as exc:
            problem = self.query_one("#settings-problem", Static)
            problem.update(f"Not saved: {exc}")
            problem.display = True
            return
        self.dismiss(new)

    def action_api_keys(self) -> None:
        exchange = self.query_one("#set-default_exchange", Input).value.strip()
        self.app.push_screen(ApiKeysScreen(exchange or self.current.default_exchange))

    def action_cancel(self) -> None:
        self.dismiss(None)
