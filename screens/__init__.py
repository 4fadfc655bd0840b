"""Textual screens and widgets of atb-tui. Imports the engine, never ``atb_tui``."""
