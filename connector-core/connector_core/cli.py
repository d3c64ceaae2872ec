"""How a plugin's run ends on an error: one clear line on stderr, exit code 1, no traceback.

singer-sdk prints an error in several ways depending on where it happens: a config error during
``--discover`` escapes its callback as a traceback, an error during a sync is logged by the SDK's
``excepthook`` with the whole chain of tracebacks (five for one refused connection). Every plugin of
the suite puts :class:`OneLineErrorsMixin` first in its bases instead: whatever fails (bad
settings, an unreadable config file, an unreachable URL, a failed request, a bug), the run ends
with ONE log line at ERROR carrying the exception's message, secrets masked, and exit code 1.
The traceback follows at DEBUG only: ``LOGLEVEL=DEBUG`` (or ``<PLUGIN>_LOGLEVEL``, e.g.
``TAP_CONNECTWISE_LOGLEVEL=DEBUG``, or a ``SINGER_SDK_LOG_CONFIG`` file) shows it.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
import typing as t
import warnings

import click
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.plugin_base import SingerCommand

from connector_core.logs import quiet_bookkeeping
from connector_core.redaction import redact

__all__ = ["OneLineErrorsMixin", "PluginCommand", "error_line", "report_error", "run_subcommand"]

CONFIG_ERROR_PREFIX = "Config validation error: "  # the words singer-sdk's --discover uses


def error_line(exc: BaseException) -> str:
    """The one line that ends a failed run: the exception's message, on one line, redacted.

    A config error is prefixed like singer-sdk's own; an error that is a bug rather than a
    situation (a ``KeyError`` says only ``'id'``) gets its type name and a pointer to the traceback.
    """
    message = " ".join(str(exc).split())
    if isinstance(exc, ConfigValidationError):
        return redact(CONFIG_ERROR_PREFIX + message)
    if isinstance(exc, _BUGS) or not message:
        name = type(exc).__name__
        message = f"{name}: {message}" if message else name
        message += " (an unexpected error; LOGLEVEL=DEBUG shows where it happened)"
    return redact(message)


# Exceptions whose message alone tells a user nothing: programming errors, not situations.
_BUGS = (LookupError, TypeError, AttributeError, NameError, AssertionError, ArithmeticError,
         RecursionError, NotImplementedError)


def report_error(logger: logging.Logger, exc: BaseException) -> None:
    """Log ``exc`` as one ERROR line; its traceback only when DEBUG is enabled."""
    logger.error(error_line(exc))
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("Traceback of the error above:", exc_info=(type(exc), exc, exc.__traceback__))


class PluginCommand(SingerCommand):
    """singer-sdk's command, but a failure anywhere (callbacks included) ends as one line."""

    def main(self, *args: t.Any, **kwargs: t.Any) -> t.Any:  # noqa: D102
        try:
            return super().main(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure ends the same way
            # click handles its own exceptions (usage errors, ctx.exit) inside main(); anything
            # else reaching here is the run's failure: a --discover or --test callback, or a sync.
            report_error(self.logger, exc)
            sys.exit(1)

    def invoke(self, ctx: click.Context) -> t.Any:  # noqa: D102
        # SingerCommand.invoke logs a config error as two lines (the error, then "Config
        # validation failed") and installs an excepthook that prints every chained traceback;
        # main() above reports instead.
        logging.captureWarnings(capture=True)
        warnings.filterwarnings("once", category=DeprecationWarning)
        return click.Command.invoke(self, ctx)


class OneLineErrorsMixin:
    """Put it before ``Tap``/``Target``: the plugin's CLI ends every error run with one line (and
    singer-sdk's bookkeeping lines are DEBUG, not INFO: :mod:`connector_core.logs`)."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        quiet_bookkeeping(self.logger)  # type: ignore[attr-defined]
        super().__init__(*args, **kwargs)

    @classmethod
    def get_singer_command(cls) -> click.Command:  # noqa: D102
        command = super().get_singer_command()  # type: ignore[misc]
        if isinstance(command, SingerCommand) and not isinstance(command, PluginCommand):
            # singer-sdk builds the SingerCommand itself (no hook for the class); PluginCommand
            # adds behaviour only, no state, so the built command becomes one.
            command.__class__ = PluginCommand
        return command

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> t.Any:
        """Read the ``--config`` files; a missing or malformed file is a config error naming it."""
        try:
            return super().cb_config(ctx, param, value)  # type: ignore[misc]
        except (OSError, ValueError) as exc:
            where = ", ".join(v for v in value if v != "ENV")
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigValidationError(
                f"cannot read the config file {where}: {detail}",
                errors=[f"cannot read the config file {where}: {detail}"],
            ) from None


def _debug_enabled(plugin_name: str) -> bool:
    """Whether singer-sdk would log DEBUG for ``plugin_name`` (``<PLUGIN>_LOGLEVEL``/``LOGLEVEL``)."""
    prefix = plugin_name.upper().replace("-", "_")
    level = os.environ.get(f"{prefix}_LOGLEVEL") or os.environ.get("LOGLEVEL") or ""
    return level.upper() == "DEBUG"


def run_subcommand(plugin_name: str, command: str, func: t.Callable[[], int]) -> int:
    """Run a plugin's own subcommand (``tap-x authorize``, outside singer-sdk's CLI) with the same
    ending: an error is one line on stderr (``tap-x authorize: <message>``) and exit code 1."""
    try:
        return func()
    except Exception as exc:  # noqa: BLE001 - every failure ends the same way
        print(f"{plugin_name} {command}: {error_line(exc)}", file=sys.stderr)
        if _debug_enabled(plugin_name):
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        return 1
