"""Errors the user can fix: bad files, bad parameters, unreachable exchanges.

Front-ends catch :class:`InputError` and show its message (CLI: one line, exit 2)
instead of a traceback. Anything else escaping the engine is a bug.
"""


class InputError(ValueError):
    """Bad input from the user: the message names what is wrong and where."""


class DataError(InputError):
    """A candle source (file, exchange, cache) holds data we cannot trade on."""


class ExchangeError(InputError):
    """The exchange could not be reached or refused the request."""


class DataChanged(DataError):
    """A stored run's candles load, but are not the ones it ran on (its fingerprint differs)."""
