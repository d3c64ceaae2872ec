"""The one line a failed run ends with."""

from __future__ import annotations

import logging

from connector_core.cli import error_line, report_error
from connector_core.redaction import REDACTOR
from connector_core.retry import RetriesExhaustedError
from connector_core.settings import config_error


def test_a_config_error_reads_like_singer_sdks_own():
    assert error_line(config_error("page_size must be between 1 and 1000; got 0")) == \
        "Config validation error: page_size must be between 1 and 1000; got 0"


def test_a_situation_is_its_message_on_one_line():
    exc = RetriesExhaustedError("GET /x failed after 8 attempts;\n  last error: HTTP 503")
    assert error_line(exc) == "GET /x failed after 8 attempts; last error: HTTP 503"
    assert error_line(ValueError("redirect_uri must be a loopback address")) == \
        "redirect_uri must be a loopback address"


def test_a_bug_is_named_and_points_to_the_traceback():
    assert error_line(KeyError("id")) == \
        "KeyError: 'id' (an unexpected error; LOGLEVEL=DEBUG shows where it happened)"
    assert error_line(RuntimeError()).startswith("RuntimeError (an unexpected error")


def test_secrets_are_masked():
    REDACTOR.add("s3cr3t-token-value")
    assert error_line(RuntimeError("refused s3cr3t-token-value")) == "refused ***"


def test_the_traceback_only_at_debug(caplog):
    logger = logging.getLogger("tap-cli-test")
    try:
        raise RuntimeError("it broke")
    except RuntimeError as exc:
        error = exc
    with caplog.at_level(logging.INFO, logger="tap-cli-test"):
        report_error(logger, error)
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in caplog.records] == [
        ("ERROR", "it broke", None)]
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="tap-cli-test"):
        report_error(logger, error)
    assert [r.levelname for r in caplog.records] == ["ERROR", "DEBUG"]
    assert caplog.records[1].exc_info[1] is error
