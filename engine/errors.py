"""Errors the user can fix: bad files, bad parameters, unreachable exchanges.

Front-ends catch :class:`InputError` and show its message (CLI: one line, exit 2)
instead of a traceback. Anything else escaping the engine is a bug.
"""


class InputError(ValueError):
    """Bad input from the user: the message names what is wrong and where.

    ``field`` names the configuration field at fault (``since``, ``stop_loss`` ...) when
    there is one; the message then does not: the CLI puts the flag in front of it and
    the form marks the field, so neither shows the other's vocabulary. A rule between
    fields (a fast average not below the slow one, partial sizes without targets) names
    the others in ``also``: ``fields`` holds them all, and the form marks each."""

    def __init__(self, message: str, field: str | None = None, *also: str) -> None:
        super().__init__(message)
        self.field = field
        self.fields: tuple[str, ...] = (field, *also) if field else also


class DataError(InputError):
    """A candle source (file, exchange, cache) holds data we cannot trade on."""


class ExchangeError(InputError):
    """The exchange could not be reached or refused the request."""


class DataChanged(DataError):
    """A stored run's candles load, but are not the ones it ran on (its fingerprint differs)."""
