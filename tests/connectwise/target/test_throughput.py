"""Concurrency pays off, the request budget holds, and no secret shows even at DEBUG.

Wall time is measured in the sandbox (first POST received → last POST answered), so the
target's start-up time does not blur the comparison.

The rate limit case needs no waiting: the sandbox allows 30 requests a minute and the target is
told 25, and the run makes fewer than 25 (the waiting case, where the target must hold requests
back for most of a 60 s window, is left out to keep the suite short; connector_core's rate limiter
has its own tests with a fake clock).
"""

from __future__ import annotations

import os
import subprocess

from tests.connectwise.target.helpers import (
    ADDRESS_FORMATS,
    FORMAT_SCHEMA,
    TARGET,
    assert_no_secrets,
    messages_text,
    record,
    run_target,
    schema,
    start_sandbox,
    state,
    target_config,
    write_config,
    writes,
)

RECORDS = 40
LATENCY = 0.05


def _publish_window(sandbox, config, tmp_path, tag: str) -> float:
    sandbox.reset_stats()
    messages = [schema("f", FORMAT_SCHEMA)]
    messages += [record("f", {"name": f"{tag}-{i}", "format": "[c]"}) for i in range(RECORDS)]
    run = run_target(config, [*messages, state({"tag": tag})], tmp_path)
    assert len(run.results) == RECORDS and run.rejects == []
    posts = writes(sandbox)
    assert len(posts) == RECORDS and all(e["status"] == 201 for e in posts)
    start = min(e["received_at"] for e in posts)
    end = max(e["received_at"] + e["duration_ms"] / 1000 for e in posts)
    return end - start


def test_concurrency_4_is_clearly_faster_than_1(tmp_path):
    sandbox = start_sandbox()
    try:
        sandbox.faults.latency(LATENCY)
        mappings = {"f": {"entity": ADDRESS_FORMATS, "method": "POST"}}
        serial = _publish_window(sandbox, target_config(sandbox, tmp_path, mappings, concurrency=1),
                                 tmp_path, "serial")
        parallel = _publish_window(sandbox, target_config(sandbox, tmp_path, mappings, concurrency=4),
                                   tmp_path, "parallel")
        assert serial >= RECORDS * LATENCY
        assert parallel / serial < 0.6, f"concurrency 4: {parallel:.2f}s vs 1: {serial:.2f}s"
    finally:
        sandbox.stop()


def test_a_request_budget_below_the_servers_gives_no_429(tmp_path):
    sandbox = start_sandbox()
    try:
        sandbox.rate_limit(requests=30, per_seconds=60)
        config = target_config(sandbox, tmp_path, {
            "f": {"entity": ADDRESS_FORMATS, "method": "POST"},
            "u": {"entity": ADDRESS_FORMATS, "method": "UPSERT", "match": ["name"]},
        }, requests_per_minute=25, concurrency=4)
        messages = [schema("f", FORMAT_SCHEMA), schema("u", FORMAT_SCHEMA)]
        messages += [record("f", {"name": f"budget-{i}", "format": "[b]"}) for i in range(12)]
        messages += [record("u", {"name": f"budget-up-{i}", "format": "[u]"}) for i in range(5)]
        run = run_target(config, messages, tmp_path)
        assert len(run.results) == 17 and run.rejects == []
        stats = sandbox.stats()
        assert stats["rate_limited"] == 0 and "429" not in stats["by_status"]
        assert stats["total"] == 1 + 12 + 5 * 2  # companyinfo, POSTs, look-ups + POSTs
    finally:
        sandbox.stop()


def test_no_secret_in_any_output_even_at_debug_level(tmp_path):
    sandbox = start_sandbox()
    try:
        sandbox.faults.add(status=503, count=1, path_prefix=ADDRESS_FORMATS)
        sandbox.faults.add(status=400, count=1, path_prefix="/company/companies")
        config = target_config(sandbox, tmp_path, {
            "f": {"entity": ADDRESS_FORMATS, "method": "POST"},
            "c": {"entity": "/company/companies", "method": "UPSERT", "match": ["identifier"]},
            "bad": {"entity": ADDRESS_FORMATS, "method": "PATCH"},
        }, max_retries=3)
        messages = [schema("f", FORMAT_SCHEMA), schema("c"), schema("bad"),
                    record("f", {"name": "debug", "format": "[d]"}),
                    record("c", {"identifier": "DebugCo", "name": "Debug Co"}),
                    record("bad", {"name": "x"}), state({"s": 1})]
        config_path = write_config(tmp_path, config)
        proc = subprocess.run([*TARGET, "--config", str(config_path)], input=messages_text(messages),
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "LOGLEVEL": "DEBUG"})
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "DEBUG" in proc.stderr and "Rejected" in proc.stderr
        files = [p.read_text() for p in tmp_path.glob("*.jsonl")]
        assert len(files) >= 2
        assert_no_secrets(proc.stdout, proc.stderr, *files)
    finally:
        sandbox.stop()
