"""Secret redaction for log lines, error messages and uncaught exceptions.

A :class:`SecretRedactor` holds the secret values of a run (API keys, passwords,
tokens) together with the forms in which they tend to leak: URL-quoted in a
query string, JSON-escaped in a body echo, base64 inside a ``Basic``
authorization header. :meth:`SecretRedactor.redact` replaces all of them with
``***``.

:func:`install_log_redaction` makes every log record of the process pass
through a redactor, and wraps ``sys.excepthook`` / ``threading.excepthook`` so
that a crash report cannot print a secret either.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
import sys
import threading
import traceback
import typing as t
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "REDACTOR",
    "RedactingFilter",
    "SecretRedactor",
    "install_log_redaction",
    "redact",
    "redact_exception",
    "register_config_secrets",
]

MASK = "***"
_MIN_SECRET_LENGTH = 4


class SecretRedactor:
    """A thread-safe set of secret strings and a way to mask them in text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def __len__(self) -> int:
        """Number of registered forms (secrets plus their derived encodings)."""
        return len(self._forms)

    def add(self, *secrets: object) -> None:
        """Register secret values together with their URL-quoted and JSON forms.

        ``None``, empty values and values shorter than 4 characters are ignored:
        masking every ``"1"`` or ``"abc"`` in the logs would destroy them
        without protecting anything.
        """
        forms: set[str] = set()
        for secret in secrets:
            if secret is None:
                continue
            text = secret if isinstance(secret, str) else str(secret)
            if len(text) < _MIN_SECRET_LENGTH:
                continue
            forms.update(_derived_forms(text))
        self._add_forms(forms)

    def add_basic_auth(self, username: object, password: object) -> None:
        """Register a password and the base64 ``username:password`` of HTTP Basic."""
        self.add(password)
        if password is None or str(password) == "":
            return
        pair = f"{'' if username is None else username}:{password}"
        encoded = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        self.add(encoded)

    def clear(self) -> None:
        """Forget every registered secret (useful in tests)."""
        with self._lock:
            self._forms.clear()
            self._pattern = None

    def redact(self, text: object) -> str:
        """Return ``text`` (``str()``-ed if needed) with every secret form masked."""
        if not isinstance(text, str):
            try:
                text = str(text)
            except Exception:  # noqa: BLE001 - a broken __str__ must not break logging
                text = f"<unprintable {type(text).__name__}>"
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)

    def _add_forms(self, forms: set[str]) -> None:
        forms = {f for f in forms if len(f) >= _MIN_SECRET_LENGTH}
        with self._lock:
            if forms <= self._forms:
                return
            self._forms |= forms
            # Longest first: the regex alternation takes the first branch that
            # matches, so a secret that contains another one is masked whole.
            ordered = sorted(self._forms, key=lambda f: (-len(f), f))
            self._pattern = re.compile("|".join(re.escape(f) for f in ordered))


def _derived_forms(secret: str) -> set[str]:
    """The secret plus the encodings in which it commonly appears in text."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),  # default safe="/" as used for URL paths
        quote_plus(secret),
        json.dumps(secret)[1:-1],  # as echoed inside a JSON string
    }
    return {f for f in forms if f}


REDACTOR = SecretRedactor()
"""The process-wide redactor used by default by every connector_core mechanism."""


def redact(text: object) -> str:
    """Mask every secret registered in :data:`REDACTOR`."""
    return REDACTOR.redact(text)


def redact_exception(exc: BaseException, redactor: SecretRedactor = REDACTOR) -> str:
    """Format ``exc`` with its traceback and causes, secrets masked."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return redactor.redact("".join(lines))


def register_config_secrets(
    config: t.Mapping[str, t.Any],
    schema: t.Mapping[str, t.Any] | None,
    redactor: SecretRedactor = REDACTOR,
) -> None:
    """Register config values whose JSON schema property is marked secret.

    singer-sdk marks ``Property(..., secret=True)`` with ``"secret": true`` and
    ``"writeOnly": true``. Nested objects and arrays of objects are followed.
    """
    if not schema or not isinstance(config, t.Mapping):
        return
    properties = schema.get("properties") or {}
    for key, prop in properties.items():
        if key not in config or not isinstance(prop, t.Mapping):
            continue
        value = config[key]
        if prop.get("secret") or prop.get("writeOnly"):
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                redactor.add(value)
            continue
        if isinstance(value, t.Mapping):
            register_config_secrets(value, prop, redactor)
        elif isinstance(value, list) and isinstance(prop.get("items"), t.Mapping):
            for item in value:
                if isinstance(item, t.Mapping):
                    register_config_secrets(item, prop["items"], redactor)


# --------------------------------------------------------------------------
# Logging integration
# --------------------------------------------------------------------------

# Attributes every LogRecord has; anything else was passed through ``extra=``
# and may be printed by structured formatters, so string extras are redacted.
_STANDARD_RECORD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", (), None))
) | {"message", "asctime", "taskName"}


_DONE_ATTR = "_connector_core_redacted"


class _RedactedTraceback(Exception):  # noqa: N818 - stands in for the original
    """Placeholder exception type carrying an already-redacted message."""


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in a record; it never drops a record."""

    def __init__(self, redactor: SecretRedactor = REDACTOR) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place and let it through."""
        redact_record(record, self.redactor)
        return True


def redact_record(record: logging.LogRecord, redactor: SecretRedactor = REDACTOR) -> None:
    """Mask secrets in a log record's message, traceback, stack and extras."""
    if not len(redactor):
        return
    try:
        rendered = record.getMessage()
    except Exception:  # noqa: BLE001 - let the handler report the bad format
        return
    masked = redactor.redact(rendered)
    if masked != rendered or not isinstance(record.msg, str):
        record.msg = masked
        record.args = ()
    # When nothing was masked the record is left as is: structured formatters
    # (singer-sdk's METRIC records) rely on the original ``args`` objects.

    already_done = getattr(record, _DONE_ATTR, False)
    setattr(record, _DONE_ATTR, True)
    if record.exc_info and record.exc_info[1] is not None and not already_done:
        exc_type, exc, tb = record.exc_info
        formatted = "".join(traceback.format_exception(exc_type, exc, tb)).rstrip("\n")
        masked_tb = redactor.redact(formatted)
        record.exc_text = masked_tb
        if masked_tb != formatted:
            # Formatters that walk exc_info themselves (singer-sdk's
            # StructuredFormatter) would re-render the secret: swap in a
            # stand-in with the same type name and a masked message.
            stand_in_type = type(
                getattr(exc_type, "__name__", "Exception"),
                (_RedactedTraceback,),
                {"__module__": getattr(exc_type, "__module__", __name__)},
            )
            record.exc_info = (stand_in_type, stand_in_type(redactor.redact(exc)), None)
    elif record.exc_text:
        record.exc_text = redactor.redact(record.exc_text)

    if record.stack_info:
        record.stack_info = redactor.redact(record.stack_info)

    for key, value in list(vars(record).items()):
        if key not in _STANDARD_RECORD_ATTRS and isinstance(value, str):
            setattr(record, key, redactor.redact(value))


_install_lock = threading.Lock()
# Keyed by the redactor object itself (not id()) so a key is never reused.
_installed: dict[SecretRedactor, RedactingFilter] = {}


def _add_filter_once(target: logging.Filterer, flt: RedactingFilter) -> None:
    if flt not in target.filters:
        target.addFilter(flt)


def install_log_redaction(redactor: SecretRedactor = REDACTOR) -> RedactingFilter:
    """Make every log line and crash report of the process go through ``redactor``.

    Idempotent: a second call only attaches the filter to handlers that lack it.

    Why several layers. A filter on a *logger* only sees records logged on
    that very logger, not records propagated from children such as
    ``tap-x.companies``; a filter on a *handler* sees everything the handler
    prints, but only if the handler exists when the filter is added. singer-sdk
    creates its console handler in ``Tap.cli()`` and ``SINGER_SDK_LOG_CONFIG``
    may build new handlers through dictConfig, usually *after* this function
    ran. So:

    1. the filter goes on the root logger and on every handler that exists now
       (root's and those of every logger already created);
    2. ``logging.Handler.__init__`` is wrapped so that every handler created
       later gets the filter too, whoever creates it; this covers the message,
       the traceback and ``extra=`` fields right before any handler formats;
    3. the log-record factory is wrapped so that message and traceback are
       already masked when a record is created: a safety net for handlers
       whose filters are reset by their owner after creation.

    ``sys.excepthook`` and ``threading.excepthook`` are wrapped so that an
    uncaught exception's traceback is printed with secrets masked.
    """
    with _install_lock:
        flt = _installed.get(redactor)
        first_time = flt is None
        if flt is None:
            flt = RedactingFilter(redactor)
            _installed[redactor] = flt

        root = logging.getLogger()
        _add_filter_once(root, flt)
        loggers: list[logging.Logger] = [root]
        for candidate in list(logging.Logger.manager.loggerDict.values()):
            if isinstance(candidate, logging.Logger):
                loggers.append(candidate)
        for logger in loggers:
            for handler in list(logger.handlers):
                _add_filter_once(handler, flt)

        if first_time:
            _wrap_handler_init(flt)
            _wrap_record_factory(redactor)
            _wrap_excepthooks(redactor)
    return flt


def _wrap_handler_init(flt: RedactingFilter) -> None:
    original_init = logging.Handler.__init__

    @functools.wraps(original_init)
    def init_with_redaction(self: logging.Handler, *args: t.Any, **kwargs: t.Any) -> None:
        original_init(self, *args, **kwargs)
        _add_filter_once(self, flt)

    logging.Handler.__init__ = init_with_redaction  # type: ignore[method-assign]


def _wrap_record_factory(redactor: SecretRedactor) -> None:
    previous = logging.getLogRecordFactory()

    def redacting_factory(*args: t.Any, **kwargs: t.Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redact_record(record, redactor)
        return record

    logging.setLogRecordFactory(redacting_factory)


def _wrap_excepthooks(redactor: SecretRedactor) -> None:
    previous_sys_hook = sys.excepthook

    def redacting_excepthook(
        exc_type: type[BaseException],
        exc: BaseException,
        tb: t.Any,
    ) -> None:
        if not len(redactor) or issubclass(exc_type, KeyboardInterrupt):
            previous_sys_hook(exc_type, exc, tb)
            return
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(redactor.redact(text))
        sys.stderr.flush()

    sys.excepthook = redacting_excepthook

    previous_thread_hook = threading.excepthook

    def redacting_thread_excepthook(args: t.Any) -> None:
        if not len(redactor) or args.exc_type is SystemExit:
            previous_thread_hook(args)
            return
        name = args.thread.name if args.thread is not None else "<unknown>"
        text = "".join(
            traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)
        )
        sys.stderr.write(f"Exception in thread {name}:\n{redactor.redact(text)}")
        sys.stderr.flush()

    threading.excepthook = redacting_thread_excepthook
