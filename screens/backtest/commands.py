"""The Backtest workspace's own entries in the command palette (ctrl+p).

Only what its keys do and the palette would not offer otherwise: showing or hiding
the form, named as ctrl+f would act at this moment.
"""

from __future__ import annotations

from textual.command import DiscoveryHit, Hit, Hits, Provider


class FormCommands(Provider):
    """The form's show / hide in the command palette, as its key would do it now."""

    def _commands(self) -> list[tuple[str, str, object]]:
        from screens.backtest.workspace import BacktestScreen  # the screen imports this module

        screen = self.screen
        if not isinstance(screen, BacktestScreen):
            return []
        if screen.form_hidden:
            return [("Show the backtest form", "Bring the form back to set up the next run (ctrl+f)",
                     screen.action_show_form)]
        if screen.result is not None:
            return [("Hide the backtest form", "Give the results the whole width (ctrl+f)", screen.action_hide_form)]
        return []

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)  # type: ignore[arg-type]
