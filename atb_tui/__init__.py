"""atb-tui: the App (workspaces, bindings, settings, back-end wiring) and the CLI."""

__version__ = "0.1.0"
