"""The Backtest workspace: configure, run (cancellable, with progress), study, export."""
