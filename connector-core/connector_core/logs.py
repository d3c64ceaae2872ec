"""What a run logs at INFO: the run's work, not singer-sdk's bookkeeping.

singer-sdk logs at INFO a line for every deselected stream a tap skips ("Skipping deselected stream
'x'.", about 600 in a ConnectWise run with the default selection) and for every child stream it
wires to its parent ("Added 'x' as child stream to 'y'"). :class:`BookkeepingToDebug` turns those
lines into DEBUG ones: shown with ``LOGLEVEL=DEBUG`` (or ``<PLUGIN>_LOGLEVEL``), dropped otherwise.
Every plugin of the suite gets it through :class:`~connector_core.cli.OneLineErrorsMixin`.
"""

from __future__ import annotations

import logging

#: The beginnings of singer-sdk's bookkeeping messages (their format strings).
BOOKKEEPING = ("Skipping deselected stream", "Added '%s' as child stream")


class BookkeepingToDebug(logging.Filter):
    """A logger filter: singer-sdk's bookkeeping lines become DEBUG (kept only where DEBUG is on)."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self.logger = logger

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and isinstance(record.msg, str) and record.msg.startswith(BOOKKEEPING):
            if not self.logger.isEnabledFor(logging.DEBUG):
                return False
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def quiet_bookkeeping(logger: logging.Logger) -> None:
    """Install :class:`BookkeepingToDebug` on ``logger`` (once)."""
    if not any(isinstance(f, BookkeepingToDebug) for f in logger.filters):
        logger.addFilter(BookkeepingToDebug(logger))
