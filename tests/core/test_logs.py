"""singer-sdk's bookkeeping lines are DEBUG in the suite's plugins (connector_core.logs)."""

from __future__ import annotations

import logging

from connector_core.logs import quiet_bookkeeping
from tests.saleslayer.tap.helpers import run_tap, start_sandbox, tap_config


def test_bookkeeping_lines_are_dropped_at_info_and_debug_lines_at_debug(caplog):
    logger = logging.getLogger("tap-bookkeeping-test")
    quiet_bookkeeping(logger)
    quiet_bookkeeping(logger)  # once
    assert len(logger.filters) == 1
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("Skipping deselected stream '%s'.", "companies")
        logger.info("Added '%s' as child stream to '%s'", "notes", "tickets")
        logger.info("Beginning sync of '%s'", "tickets")
    assert [r.getMessage() for r in caplog.records] == ["Beginning sync of 'tickets'"]
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        logger.info("Skipping deselected stream '%s'.", "companies")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("DEBUG", "Skipping deselected stream 'companies'.")]


def test_a_tap_run_does_not_log_its_deselected_streams(monkeypatch):
    sandbox = start_sandbox(sizes={"catalogue": 2, "products": 3, "product_formats": 2, "brands": 2})
    try:
        run = run_tap(tap_config(sandbox), ["brands"])
        assert "Skipping deselected stream" not in run.stderr
        # The run's own lines stay INFO (connector_core.progress): the summary of the one stream.
        summary = [line for line in run.stderr.splitlines() if "Sync summary: " in line or "Sync total: " in line]
        assert len(summary) == 2 and all("| INFO " in line for line in summary), summary
        assert "Sync summary: stream=brands records=2 requests=1 retries=0 " in summary[0]
        monkeypatch.setenv("TAP_SALESLAYER_LOGLEVEL", "DEBUG")
        debug = run_tap(tap_config(sandbox), ["brands"])
        assert debug.stderr.count("Skipping deselected stream") == 3
    finally:
        sandbox.stop()
