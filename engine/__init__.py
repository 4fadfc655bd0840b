"""The atb-tui trading engine.

One implementation of every financial rule, shared by the backtest, the replay and
the live session (see DESIGN.md). Pure Python + numpy/pandas/SQLModel/ccxt; it never
imports textual, ``screens`` or ``atb_tui``. Heavy modules are imported by the
submodules that need them, so ``import engine`` stays cheap.
"""
