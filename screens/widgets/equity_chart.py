"""Equity curve with its drawdown underneath, as two sparklines sharing the time axis."""

from __future__ import annotations

from typing import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline

from engine.metrics import drawdown_pct


class EquityChart(Vertical):
    DEFAULT_CSS = """
    EquityChart { height: auto; }
    EquityChart Sparkline { height: 5; margin: 0 1; }
    EquityChart #drawdown { height: 3; }
    EquityChart Label { margin: 0 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Label("Equity", id="equity-label")
        yield Sparkline([], id="equity")
        yield Label("Drawdown", id="drawdown-label")
        yield Sparkline([], id="drawdown")

    def show(self, equity: Sequence[float], initial_balance: float) -> None:
        import numpy as np

        eq = np.asarray(equity, dtype=float)
        dd = drawdown_pct(eq, initial=initial_balance) if len(eq) else eq
        self.query_one("#equity", Sparkline).data = eq.tolist()
        # Drawn as depth below zero so the worst drawdown is the tallest bar.
        self.query_one("#drawdown", Sparkline).data = (-dd).tolist()
        if len(eq):
            self.query_one("#equity-label", Label).update(
                f"Equity  {eq[0]:,.2f} -> {eq[-1]:,.2f}  (min {eq.min():,.2f}, max {eq.max():,.2f})"
            )
            self.query_one("#drawdown-label", Label).update(f"Drawdown  worst {dd.min():.2f} %")
