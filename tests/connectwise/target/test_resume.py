"""Killed mid-run and rerun the way a tap does it: no record lost, none published twice.

A tap resends everything after the last STATE the target emitted (printed on stdout), so the
rerun here gets exactly the input after the last STATE line the killed target printed (all of
it when it printed none). The results file of the killed run stays in place: the target reads
it back and does not POST again what the interrupted run created.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

from connector_core.publish import fingerprint
from connector_core.publish.journal import pending_path_for
from tests.connectwise.target.helpers import (
    ADDRESS_FORMATS,
    FORMAT_SCHEMA,
    TARGET,
    list_all,
    messages_text,
    read_jsonl,
    record,
    run_target,
    schema,
    start_sandbox,
    state,
    target_config,
    write_config,
    writes,
)

N = 300
STATE_EVERY = 50
PREFIX = "resume-"


def _input() -> list[dict]:
    messages = [schema("formats", FORMAT_SCHEMA)]
    for i in range(1, N + 1):
        messages.append(record("formats", {"name": f"{PREFIX}{i:03d}", "format": f"[{i}]"}))
        if i % STATE_EVERY == 0:
            messages.append(state({"bookmarks": {"formats": i}}))
    return messages


def _kill_after_some_results(config: dict, messages: list[dict], tmp_path, min_results: int):
    """Start the target, SIGKILL it once ``min_results`` result lines exist; return its stdout."""
    config_path = write_config(tmp_path, config, "kill-config.json")
    proc = subprocess.Popen([*TARGET, "--config", str(config_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout_lines: list[str] = []
    reader = threading.Thread(target=lambda: stdout_lines.extend(proc.stdout), daemon=True)
    reader.start()
    feeder = threading.Thread(target=_feed, args=(proc, messages_text(messages)), daemon=True)
    feeder.start()
    results_path = config["results_path"]
    deadline = time.monotonic() + 60
    killed = False
    while time.monotonic() < deadline and proc.poll() is None:
        lines = [e for e in read_jsonl(results_path) if "checkpoint" not in e] if os.path.exists(results_path) else []
        if len(lines) >= min_results:
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.005)
    proc.wait(timeout=30)
    reader.join(timeout=10)
    return killed, proc.returncode, stdout_lines


def _feed(proc: subprocess.Popen, text: str) -> None:
    try:
        proc.stdin.write(text)
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass


def _resend_after_last_emitted_state(messages: list[dict], stdout_lines: list[str]) -> list[dict]:
    """What a tap sends after a crash: the schema, then everything after the last emitted STATE."""
    emitted = [json.loads(line) for line in stdout_lines if line.strip()]
    if not emitted:
        return messages
    last = emitted[-1]
    position = max(i for i, m in enumerate(messages) if m["type"] == "STATE" and m["value"] == last)
    return [messages[0], *messages[position + 1:]]


def test_killed_mid_run_and_rerun_publishes_every_record_exactly_once(tmp_path):
    sandbox = start_sandbox()
    try:
        sandbox.faults.latency(0.02)
        config = target_config(sandbox, tmp_path, {"formats": {"entity": ADDRESS_FORMATS, "method": "POST"}},
                               concurrency=4)
        messages = _input()
        killed, returncode, stdout_lines = _kill_after_some_results(config, messages, tmp_path, min_results=120)
        assert killed, "the target finished before it could be killed"
        assert returncode == -signal.SIGKILL
        time.sleep(0.2)  # requests the killed target had in flight still complete in the sandbox
        created_before_rerun = len(list_all(sandbox, ADDRESS_FORMATS, f'name like "{PREFIX}*"'))
        assert 0 < created_before_rerun < N
        assert stdout_lines, "no STATE was passed on before the kill"  # STATE goes out as it comes

        sandbox.faults.latency(0)
        sandbox.reset_stats()
        rerun_input = _resend_after_last_emitted_state(messages, stdout_lines)
        rerun = run_target(config, rerun_input, tmp_path)
        assert rerun.rejects == []
        assert rerun.states[-1] == {"bookmarks": {"formats": N}}

        # Nothing the killed run created was POSTed again: the rerun created exactly the rest.
        assert len(writes(sandbox)) == N - created_before_rerun
        names = [f["name"] for f in list_all(sandbox, ADDRESS_FORMATS, f'name like "{PREFIX}*"')]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        missing = sorted({f"{PREFIX}{i:03d}" for i in range(1, N + 1)} - set(names))
        assert duplicated == [], f"published twice: {duplicated}"
        assert missing == [], f"never published: {missing}"
        assert len(names) == N
    finally:
        sandbox.stop()


def test_records_after_the_last_state_of_a_finished_run_are_not_created_again(tmp_path):
    """The tap died after STATE 1 (the target saw the end of its input and finished cleanly):
    meltano keeps STATE 1, so the tap resends the records after it. They must not be POSTed twice,
    and records that are sent again on purpose (PATCH) are applied again."""
    sandbox = start_sandbox()
    try:
        config = target_config(sandbox, tmp_path, {
            "formats": {"entity": ADDRESS_FORMATS, "method": "POST"},
            "fixes": {"entity": ADDRESS_FORMATS + "/{id}", "method": "PATCH"},
        })
        head = [schema("formats", FORMAT_SCHEMA), schema("fixes", FORMAT_SCHEMA)]
        before = [record("formats", {"name": f"tail-{i}", "format": "[t]"}) for i in (1, 2)]
        after = [record("formats", {"name": f"tail-{i}", "format": "[t]"}) for i in (3, 4)]
        after += [record("fixes", {"id": 1, "name": "tail fix"})]
        first = run_target(config, [*head, *before, state({"n": 2}), *after], tmp_path)
        assert first.states == [{"n": 2}]
        sandbox.reset_stats()

        second = run_target(config, [*head, *after, state({"n": 4})], tmp_path)
        assert second.states == [{"n": 4}]
        names = [f["name"] for f in list_all(sandbox, ADDRESS_FORMATS, 'name like "tail-*"')]
        assert sorted(names) == ["tail-1", "tail-2", "tail-3", "tail-4"]
        assert [e["method"] for e in writes(sandbox)] == ["PATCH"]  # the PATCH is sent again
    finally:
        sandbox.stop()


def test_an_unanswered_post_is_looked_up_in_connectwise_before_it_is_sent_again(tmp_path):
    """The crash lost the answers of two POSTs (noted as sent, no result): the one ConnectWise
    has is recorded as published, not created again; the one it lacks is POSTed."""
    sandbox = start_sandbox()
    try:
        config = target_config(sandbox, tmp_path, {"formats": {"entity": ADDRESS_FORMATS, "method": "POST"}})
        arrived = {"name": "doubt \"quoted\" 1", "format": "[arrived]", "defaultFlag": True}
        lost = {"name": "doubt 2", "format": "[lost]", "defaultFlag": False}
        existing = sandbox.create(ADDRESS_FORMATS, arrived)
        results = tmp_path / "results.jsonl"
        pending_path_for(results).write_text("".join(
            json.dumps({"sending": fingerprint("formats", r)}) + "\n" for r in (arrived, lost)))
        sandbox.reset_stats()

        run = run_target(config, [schema("formats", FORMAT_SCHEMA), record("formats", arrived),
                                  record("formats", lost), state({"s": 1})], tmp_path)
        assert run.rejects == []
        by_name = {r["remote_id"]: r for r in run.results}
        assert by_name[existing["id"]].get("recovered") is True
        assert [e["method"] for e in writes(sandbox)] == ["POST"]
        lookups = [e for e in sandbox.request_log() if e["method"] == "GET" and "conditions" in e["query"]]
        assert len(lookups) == 2 and all(e["status"] == 200 for e in lookups)
        names = [f["name"] for f in list_all(sandbox, ADDRESS_FORMATS, 'name like "doubt*"')]
        assert sorted(names) == sorted([arrived["name"], lost["name"]])
        assert pending_path_for(results).read_text() == ""  # emptied at the checkpoint
    finally:
        sandbox.stop()
