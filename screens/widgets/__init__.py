"""Reusable widgets: metrics panel, equity/drawdown chart, sortable trades table."""
