"""Live and paper trading sessions: the engine driven bar by bar by a market feed.

A session is a third driver of :class:`engine.core.Engine` (after the backtest and the
replay): feeds bring closed candles and last prices, a broker turns the engine's orders
into executions (simulated for paper, ccxt for an exchange), and every fill, order and
position change is committed to the database before anyone is told of it.
"""
