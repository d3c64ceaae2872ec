"""What the targets' runs of singer-sdk's standard target suite share (tests/*/test_target_*_standard.py).

The SDK's ``.singer`` files, the streams they name, the tests left out or expected to raise, the
number of RECORDs each test must account for (every one published or rejected), and
``TargetRelaysEveryState``, the replacement of ``multiple_state_messages``: its SDK version (commented
out of the SDK's own suite) expects 3 of the 5 STATEs of its file (the drain schedule of a plain
SDK target) and compares them with strings where the 0.54.9 runner collects dicts; a publishing
target passes on every STATE, in order, once the records before it are published or rejected.
"""

from __future__ import annotations

import importlib.resources
import json
import typing as t
from pathlib import Path

import pytest
from singer_sdk.testing import get_target_test_class, target_test_streams
from singer_sdk.testing.suites import SingerTestSuite, target_tests
from singer_sdk.testing.target_tests import TargetMultipleStateMessages, TargetRecordMissingKeyProperty

from tests.target_runner import read_jsonl

# record_missing_key_property: the SDK test expects MissingKeyPropertiesError to stop the run; a
# publishing target (connector-core's PublishSink) rejects such a record with its reason instead.
EXCLUDED = {"record_missing_key_property"}
RAISING = {"invalid_schema", "record_before_schema"}  # the SDK test expects an exception


def _singer_files() -> dict[str, list[dict]]:
    files = {}
    for entry in importlib.resources.files(target_test_streams).iterdir():
        if entry.name.endswith(".singer"):
            lines = entry.read_text(encoding="utf-8").splitlines()
            files[entry.name[:-len(".singer")]] = [json.loads(line) for line in lines if line.strip()]
    return files


SINGER_FILES = _singer_files()
STREAMS = sorted({m["stream"] for messages in SINGER_FILES.values() for m in messages
                  if "stream" in m})


def records_in(test_name: str) -> int:
    """RECORDs the standard test ``test_name`` must leave published or rejected (0 if it raises)."""
    if test_name in SINGER_FILES and test_name not in RAISING:
        return sum(1 for m in SINGER_FILES[test_name] if m["type"] == "RECORD")
    return 0


class TargetRelaysEveryState(TargetMultipleStateMessages):
    """multiple_state_messages, expecting what a publishing target does: every STATE passed on, in
    order, once the records before it are published or rejected."""

    def test(self) -> None:
        self.runner.sync_all()
        expected = [m["value"] for m in SINGER_FILES[self.name] if m["type"] == "STATE"]
        assert self.runner.state_messages == expected


class TargetRejectsRecordMissingKey(TargetRecordMissingKeyProperty):
    """record_missing_key_property, expecting what the suite's targets do (connector-core's
    ``PublishSink``): the record is rejected with the reason, nothing is sent, and the run goes on
    to its end. Named like the SDK's test, so it runs that file."""

    def test(self) -> None:
        self.runner.sync_all()
        rejects = read_jsonl(Path(self.runner.config["rejects_path"]))
        assert [(r["stream"], r["record"], r["reason"]) for r in rejects] == [
            ("test_record_missing_key_property", {"metric": 8214}, "key property id missing")]


def standard_test_class(target: type, config: dict, sandbox: t.Any, extra: t.Sequence[type] = ()) -> type:
    """The SDK's standard target tests (less ``EXCLUDED``, plus ``TargetRelaysEveryState`` and
    ``extra``) for ``target`` with ``config``, run against ``sandbox``, stopped at the end."""
    suite = SingerTestSuite(kind="target", tests=[
        *(test for test in target_tests.tests if test.name not in EXCLUDED),
        TargetRelaysEveryState, *extra])
    base = get_target_test_class(target, config=config, custom_suites=[suite],
                                 include_target_tests=False)

    class StandardTests(base):  # type: ignore[misc,valid-type]
        @pytest.fixture(scope="class")
        @classmethod
        def resource(cls):
            yield sandbox
            sandbox.stop()

    return StandardTests


def rejected_unsent(config: dict, sandbox: t.Any,
                    reason_fits: t.Callable[[str, dict, list[str]], bool], *,
                    before: t.Callable[[], t.Any] = lambda: None,
                    after: t.Callable[[t.Any], None] = lambda _: None) -> t.Any:
    """The per-test autouse fixture of a standard target class whose standard records are all
    refused before sending: each input record of the test's file is exactly one reject, none is
    published, each reason passes ``reason_fits(reason, record, key_properties)``, no request
    reaches ``sandbox``; ``after(before())`` checks what else must hold (a count unchanged...).

        class TestTargetAcmeStandard(standard_test_class(...)):
            every_record_rejected_unsent = rejected_unsent(CONFIG, SANDBOX, reason_fits)
    """

    @pytest.fixture(autouse=True)
    def every_record_rejected_unsent(self: t.Any, request: pytest.FixtureRequest) -> t.Iterator[None]:
        for path in (config["results_path"], config["rejects_path"]):
            Path(path).write_text("")
        sandbox.reset_stats()
        observed = before()
        yield
        name = request.node.name.removeprefix("test_target_")
        results = [e for e in read_jsonl(Path(config["results_path"])) if "checkpoint" not in e]
        rejects = read_jsonl(Path(config["rejects_path"]))
        expected = records_in(name)
        assert len(results) + len(rejects) == expected, (
            f"{name}: {expected} records in, {len(results)} published + {len(rejects)} rejected")
        assert results == [], f"{name}: a standard record was published: {results}"
        keys = {m["stream"]: m.get("key_properties") or [] for m in SINGER_FILES.get(name, [])
                if m["type"] == "SCHEMA"}
        for reject in rejects:
            assert reject["stream"] in STREAMS, reject
            assert reason_fits(reject["reason"], reject["record"], keys[reject["stream"]]), reject
        assert sandbox.request_log() == [], f"{name}: a request was sent"
        after(observed)

    return every_record_rejected_unsent
