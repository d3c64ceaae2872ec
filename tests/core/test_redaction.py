from __future__ import annotations

import base64
import io
import json
import logging
import sys
import threading
import typing as t
import uuid
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

import pytest
from singer_sdk.logging import ConsoleFormatter, StructuredFormatter

from connector_core import REDACTOR, SecretRedactor, install_log_redaction, redact, redact_exception
from connector_core.redaction import register_config_secrets

SECRET = "p@ss w/rd&token=Zx9!"


# -- SecretRedactor -----------------------------------------------------------


def test_plain_and_longest_first() -> None:
    r = SecretRedactor()
    r.add("abcd", "abcdefgh")
    assert r.redact("x abcdefgh y abcd z") == "x *** y *** z"


def test_short_empty_and_none_are_ignored() -> None:
    r = SecretRedactor()
    r.add(None, "", "abc", 12)
    assert r.redact("abc 12 ok") == "abc 12 ok"
    assert len(r) == 0


def test_non_strings_are_stringified() -> None:
    r = SecretRedactor()
    r.add(12345678)
    assert r.redact(["id", 12345678]) == "['id', ***]"
    assert r.redact(None) == "None"


def test_url_quoted_forms_are_masked() -> None:
    r = SecretRedactor()
    r.add(SECRET)
    for form in (quote(SECRET, safe=""), quote(SECRET), quote_plus(SECRET)):
        assert form != SECRET
        assert r.redact(f"GET /x?key={form}&a=1") == "GET /x?key=***&a=1"


def test_json_escaped_form_is_masked() -> None:
    r = SecretRedactor()
    r.add('quo"te\\back')
    assert "quo" not in r.redact(json.dumps({"echo": 'quo"te\\back'}))


def test_basic_auth_base64_is_masked() -> None:
    r = SecretRedactor()
    r.add_basic_auth("company+publicKey", "privateKey123")
    token = base64.b64encode(b"company+publicKey:privateKey123").decode()
    assert r.redact(f"Authorization: Basic {token}") == "Authorization: Basic ***"
    assert r.redact("pw=privateKey123") == "pw=***"


def test_module_level_redact_uses_the_shared_redactor() -> None:
    REDACTOR.add("shared-secret-1")
    assert redact("a shared-secret-1 b") == "a *** b"


def test_config_secrets_are_registered_from_the_schema() -> None:
    r = SecretRedactor()
    schema = {
        "properties": {
            "api_key": {"type": "string", "secret": True, "writeOnly": True},
            "base_url": {"type": "string"},
            "oauth": {
                "type": "object",
                "properties": {"refresh_token": {"type": "string", "writeOnly": True}},
            },
        }
    }
    config = {
        "api_key": "key-abcdef",
        "base_url": "https://api.example.com",
        "oauth": {"refresh_token": "rt-123456"},
    }
    register_config_secrets(config, schema, r)
    assert r.redact(json.dumps(config)) == (
        '{"api_key": "***", "base_url": "https://api.example.com", "oauth": {"refresh_token": "***"}}'
    )


# -- logging integration --------------------------------------------------------


@pytest.fixture
def isolated_logging() -> t.Iterator[SecretRedactor]:
    """A fresh redactor; the global logging hooks are restored afterwards."""
    factory = logging.getLogRecordFactory()
    handler_init = logging.Handler.__init__
    sys_hook, thread_hook = sys.excepthook, threading.excepthook
    root = logging.getLogger()
    root_filters, root_handlers = list(root.filters), list(root.handlers)
    redactor = SecretRedactor()
    yield redactor
    logging.setLogRecordFactory(factory)
    logging.Handler.__init__ = handler_init  # type: ignore[method-assign]
    sys.excepthook, threading.excepthook = sys_hook, thread_hook
    root.filters[:] = root_filters
    root.handlers[:] = root_handlers
    for logger in list(logging.Logger.manager.loggerDict.values()):
        for handler in getattr(logger, "handlers", []):
            handler.filters[:] = [
                f for f in handler.filters if getattr(f, "redactor", None) is not redactor
            ]


def own_logger(formatter: logging.Formatter | None = None) -> tuple[logging.Logger, io.StringIO]:
    """Like a singer-sdk plugin logger: its own handler, not propagating."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter or ConsoleFormatter())
    logger = logging.getLogger(f"tap-x-{uuid.uuid4().hex[:6]}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_handler_created_before_install_is_covered(isolated_logging: SecretRedactor) -> None:
    logger, out = own_logger()
    child = logger.getChild("companies")  # stream loggers are children
    isolated_logging.add(SECRET)
    install_log_redaction(isolated_logging)
    install_log_redaction(isolated_logging)  # idempotent
    logger.info("connecting with key %s", SECRET)
    child.warning("url was /x?k=%s", quote_plus(SECRET))
    text = out.getvalue()
    assert SECRET not in text and quote_plus(SECRET) not in text
    assert "connecting with key ***" in text
    assert "url was /x?k=***" in text
    assert text.count("connecting") == 1


def test_handler_created_after_install_is_covered(isolated_logging: SecretRedactor) -> None:
    install_log_redaction(isolated_logging)
    isolated_logging.add_basic_auth("user", "hunter2-pass")
    logger, out = own_logger()  # e.g. singer-sdk's console handler made in Tap.cli()
    token = base64.b64encode(b"user:hunter2-pass").decode()
    logger.error("headers: %s", {"Authorization": f"Basic {token}"})
    text = out.getvalue()
    assert token not in text and "hunter2-pass" not in text
    assert "Basic ***" in text


def test_secrets_registered_after_install_are_masked(isolated_logging: SecretRedactor) -> None:
    install_log_redaction(isolated_logging)
    logger, out = own_logger()
    logger.info("before %s", "late-secret-42")
    isolated_logging.add("late-secret-42")
    logger.info("after %s", "late-secret-42")
    assert out.getvalue().splitlines()[-1].endswith("after ***")


def test_traceback_is_masked(isolated_logging: SecretRedactor) -> None:
    isolated_logging.add(SECRET)
    install_log_redaction(isolated_logging)
    logger, out = own_logger()
    try:
        raise ValueError(f"rejected credentials {SECRET}")
    except ValueError:
        logger.exception("request failed")
    text = out.getvalue()
    assert SECRET not in text
    assert "ValueError: rejected credentials ***" in text
    assert "Traceback (most recent call last)" in text
    assert "raise ValueError" in text  # the frames are still there


def test_structured_formatter_output_is_masked(isolated_logging: SecretRedactor) -> None:
    isolated_logging.add(SECRET)
    install_log_redaction(isolated_logging)
    logger, out = own_logger(StructuredFormatter())
    try:
        raise RuntimeError(f"token {SECRET} expired")
    except RuntimeError:
        logger.exception("sync %s failed", "companies", extra={"url": f"/x?key={SECRET}"})
    line = out.getvalue().strip()
    assert SECRET not in line
    data = json.loads(line)
    assert data["message"] == "sync companies failed"
    assert data["exception"]["type"] == "RuntimeError"
    assert data["exception"]["message"] == "token *** expired"
    assert data["extra"]["url"] == "/x?key=***"


@dataclass
class Point:
    type: str
    value: int


def test_records_without_secrets_keep_their_args(isolated_logging: SecretRedactor) -> None:
    isolated_logging.add("nothing-matches-this")
    install_log_redaction(isolated_logging)
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logger = logging.getLogger("singer_sdk.metrics.test")
    logger.setLevel(logging.INFO)
    handler = Keep()
    logger.addHandler(handler)
    try:
        point = Point("counter", 3)
        logger.info("METRIC: %s", point)
    finally:
        logger.removeHandler(handler)
    assert seen[0].args == (point,)  # structured metric formatters need the object


def test_excepthook_masks_uncaught_exceptions(
    isolated_logging: SecretRedactor, capsys: pytest.CaptureFixture[str]
) -> None:
    isolated_logging.add(SECRET)
    install_log_redaction(isolated_logging)
    try:
        raise PermissionError(f"401 for key {SECRET}")
    except PermissionError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    err = capsys.readouterr().err
    assert SECRET not in err
    assert "PermissionError: 401 for key ***" in err


def test_redact_exception_includes_causes() -> None:
    REDACTOR.add("cause-secret-77")
    try:
        try:
            raise KeyError("cause-secret-77")
        except KeyError as inner:
            raise RuntimeError("outer") from inner
    except RuntimeError as exc:
        text = redact_exception(exc)
    assert "cause-secret-77" not in text
    assert "KeyError" in text and "RuntimeError: outer" in text
