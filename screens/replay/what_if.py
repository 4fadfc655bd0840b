"""The what-if dialog: one manual action, previewed by the engine before it is taken.

The dialog knows nothing of the replay: it is given a ``preview`` callable (the
engine's own preview, which applies the action to a copy) and returns the action.
"""

from __future__ import annotations

from typing import Callable, Optional

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from engine.actions import ActionKind, Amount, AmountUnit, ManualAction, Preview
from engine.enums import Side
from engine.errors import InputError

KINDS = [("Partial exit", ActionKind.PARTIAL_EXIT), ("Scale in", ActionKind.SCALE_IN), ("Close", ActionKind.CLOSE),
         ("Move SL/TP", ActionKind.MOVE_STOPS), ("Open", ActionKind.OPEN)]
UNITS = [("% of open size", AmountUnit.PERCENT), ("x original size", AmountUnit.FRACTION),
         ("base quantity", AmountUnit.BASE), ("quote amount", AmountUnit.QUOTE)]
SIDES = [("long", Side.LONG), ("short", Side.SHORT)]
QUICK = (25, 50, 75, 100)  # % of the open size


def _price(text: str, what: str) -> Optional[float]:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{what}: {text.strip()!r} is not a price") from None


class WhatIfScreen(ModalScreen[Optional[ManualAction]]):
    CSS_PATH = "what_if.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "confirm", "Take it")]

    def __init__(self, preview: Callable[[ManualAction], Preview], heading: str, kind: ActionKind = ActionKind.PARTIAL_EXIT,
                 *, open_size: Optional[float] = None, minimum: float = 0.0) -> None:
        """``open_size`` (a live position's size) adds the 25/50/75/100 % quick choices, each
        greyed out when it, or what it leaves, is under the market's ``minimum``."""
        super().__init__()
        self.preview = preview
        self.heading = heading
        self.kind = kind
        self.open_size = open_size
        self.minimum = minimum
        self.action_ready: Optional[ManualAction] = None
        self.problem = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="what-if"):
            yield Static(self.heading, id="what-if-heading")
            with Horizontal(classes="row"):
                yield Label("Action")
                yield Select(KINDS, value=self.kind, allow_blank=False, id="kind")
            with Horizontal(classes="row"):
                yield Label("Amount")
                yield Input("50", id="amount")
                yield Select(UNITS, value=AmountUnit.PERCENT, allow_blank=False, id="unit")
            if self.open_size is not None:
                with Horizontal(classes="row", id="quick"):
                    yield Label("Take off")
                    for pct in QUICK:
                        yield Button(f"{pct} %", id=f"quick-{pct}", disabled=not self._quick_allowed(pct))
            with Horizontal(classes="row"):
                yield Label("Side (open)")
                yield Select(SIDES, value=Side.LONG, allow_blank=False, id="side")
            with Horizontal(classes="row"):
                yield Label("Stop / target")
                yield Input("", placeholder="stop-loss price", id="stop-loss")
                yield Input("", placeholder="take-profit price", id="take-profit")
            yield Static("", id="preview")
            with Horizontal(id="what-if-buttons"):
                yield Button("Take it", id="confirm", variant="primary")
                yield Button("Cancel", id="cancel")
        yield Footer()  # its own keys, not those of the screen behind it

    def on_mount(self) -> None:
        self._update()

    def _quick_allowed(self, pct: int) -> bool:
        size = self.open_size or 0.0
        out, rest = size * pct / 100, size * (100 - pct) / 100
        return out >= self.minimum and not (0.0 < rest < self.minimum)

    @on(Button.Pressed, "#quick Button")
    def _quick(self, event: Button.Pressed) -> None:
        event.stop()
        self.query_one("#kind", Select).value = ActionKind.PARTIAL_EXIT
        self.query_one("#unit", Select).value = AmountUnit.PERCENT
        self.query_one("#amount", Input).value = str(event.button.id).removeprefix("quick-")

    def build(self) -> ManualAction:
        kind = self.query_one("#kind", Select).value
        amount = None
        if kind in (ActionKind.PARTIAL_EXIT, ActionKind.SCALE_IN, ActionKind.OPEN):
            text = self.query_one("#amount", Input).value.strip()
            try:
                value = float(text)
            except ValueError:
                raise InputError(f"amount: {text!r} is not a number") from None
            amount = Amount(value, self.query_one("#unit", Select).value)  # type: ignore[arg-type]
        return ManualAction(
            kind, amount,  # type: ignore[arg-type]
            side=self.query_one("#side", Select).value if kind is ActionKind.OPEN else None,  # type: ignore[arg-type]
            stop_loss=_price(self.query_one("#stop-loss", Input).value, "stop-loss"),
            take_profit=_price(self.query_one("#take-profit", Input).value, "take-profit"),
        )

    @on(Input.Changed)
    @on(Select.Changed)
    def _update(self) -> None:
        preview = self.query_one("#preview", Static)
        try:
            action = self.build()
            result = self.preview(action)
        except InputError as exc:
            self.action_ready, self.problem = None, str(exc)
            preview.update(f"[red]✗ {exc}[/red]")
        else:
            self.action_ready, self.problem = action, ""
            preview.update(describe(result))
        self.query_one("#confirm", Button).disabled = self.action_ready is None

    def action_confirm(self) -> None:
        if self.action_ready is not None:
            self.dismiss(self.action_ready)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()


def describe(result: Preview) -> str:
    """The preview as the dialog shows it."""
    lines = [f"[b]{result.action.describe()}[/b] at {result.price:,.2f}"]
    if result.fill_price is not None:
        lines.append(f"fills {result.qty:.6g} at {result.fill_price:,.2f}   fees {result.fees:,.2f}")
    lines.append(f"realised PnL {result.realized_pnl:+,.2f}   balance after {result.balance_after:,.2f}")
    if result.size_after > 0:
        lines.append(f"size after {result.size_after:.6g}   average entry {result.avg_entry_after:,.2f}")
    else:
        lines.append("the position is closed" if result.trade is not None else "no position after it")
    if result.stop_loss_after is not None or result.take_profit_after is not None:
        sl = "—" if result.stop_loss_after is None else f"{result.stop_loss_after:,.2f}"
        tp = "—" if result.take_profit_after is None else f"{result.take_profit_after:,.2f}"
        lines.append(f"stop-loss {sl}   take-profit {tp}")
    return "\n".join(lines)
