"""tap-exactonline at volume: 100,000 transaction lines in the fewest requests, and a minutely
budget kept without a single 429."""

from __future__ import annotations

import math
import time

import msgspec

from tests.exactonline.tap.helpers import (
    catalog_selecting,
    data_requests,
    run_tap,
    start_sandbox,
    tap_config,
    write_store,
)

STREAM = "financial_transactionlines"
SYNC_PATH = "/sync/Financial/TransactionLines"
TABLE = "financial/TransactionLines"
DIVISION = 100001
PAGE = 1000  # rows per sync page (§2.5)


class _Row(msgspec.Struct):
    Division: int
    ID: str
    Timestamp: int


class _Record(msgspec.Struct):
    stream: str
    record: _Row


_decode_record = msgspec.json.Decoder(_Record).decode


class RecordTally:
    """Counts RECORD lines as the tap writes them: (Division, ID) once each, highest Timestamp."""

    def __init__(self) -> None:
        self.keys: set[tuple[int, str]] = set()
        self.count = 0
        self.other_streams = 0
        self.max_timestamp = 0

    def __call__(self, line: bytes) -> None:
        message = _decode_record(line)
        if message.stream != STREAM:
            self.other_streams += 1
            return
        self.count += 1
        row = message.record
        self.keys.add((row.Division, row.ID))
        self.max_timestamp = max(self.max_timestamp, row.Timestamp)


def no_429s(eo) -> None:
    stats = eo.stats()
    assert stats["exactonline"]["rate_limited_minutely"] == 0
    assert stats["exactonline"]["rate_limited_daily"] == 0
    assert stats["rate_limited"] == 0
    assert "429" not in stats["by_status"]
    assert [r for r in eo.request_log() if r["status"] == 429] == []


def test_exactonline_tap_100k_transaction_lines_in_minimum_requests(tmp_path):
    rows = 100_000
    # A budget above the 100 pages on both sides, so the figures are the tap's paging alone; the
    # sandbox still sends its X-RateLimit headers.
    eo = start_sandbox(seed=11, sizes={TABLE: rows}, minutely_limit=200)
    try:
        assert eo.count(TABLE, DIVISION) == rows
        store = tmp_path / "tokens.json"
        write_store(store, eo.issue_tokens())
        tally = RecordTally()
        started = time.monotonic()
        # Without start_date: the figures are the paging alone (with it, one SyncTimestamp
        # request more; test_start_date.py).
        run = run_tap(tap_config(eo, store, divisions=[DIVISION], requests_per_minute=200,
                                 start_date=None), [STREAM], timeout=240, record_line=tally)
        elapsed = time.monotonic() - started

        assert tally.other_streams == 0
        assert tally.count == run.record_count == rows
        assert len(tally.keys) == rows                      # every (Division, ID) once
        assert {division for division, _ in tally.keys} == {DIVISION}
        pages = data_requests(eo, SYNC_PATH)
        assert len(pages) == math.ceil(rows / PAGE) == 100  # a full last page carries no __next
        assert all(p["status"] == 200 for p in pages)
        assert len({p["query"] for p in pages}) == len(pages)  # no page asked twice
        assert eo.stats()["data_requests"] == len(pages)       # and nothing else was asked
        no_429s(eo)
        bookmark = run.final_state["bookmarks"][STREAM]["partitions"][0]
        assert bookmark["context"] == {"Division": DIVISION}
        assert bookmark["replication_key_value"] == tally.max_timestamp
        assert elapsed < 120, f"100,000 rows took {elapsed:.1f} s"
    finally:
        eo.stop()


def test_exactonline_tap_minutely_budget_kept_without_429(tmp_path):
    """Budget 3 a minute, 5 pages: 3 pages, a wait for the announced reset, 2 pages; zero 429s."""
    budget, rows = 3, 5_000
    eo = start_sandbox(seed=12, sizes={TABLE: rows})
    try:
        # The sandbox clock is real time (the default Clock, no offset): the epoch-ms reset the
        # sandbox announces is the real instant its minute renews, so a tap that waits for it
        # never sends a request into the exhausted minute.
        assert abs(eo.clock.timestamp() - time.time()) < 0.05
        eo.set_limits(minutely=budget)
        store = tmp_path / "tokens.json"
        write_store(store, eo.issue_tokens())
        # requests_per_minute: default (60); no start_date: every request is a page (with it,
        # SyncTimestamp would take one of the minute's 3).
        config = tap_config(eo, store, divisions=[DIVISION], start_date=None)
        catalog_selecting([STREAM])  # discovery (cached) before the clock matters
        # The first `budget` pages must fall in one sandbox minute: start with at least 10 s of it
        # left (the tap needs about 2 s to start), so the run lasts at most about 70 s.
        left = 60 - time.time() % 60
        if left < 10:
            time.sleep(left + 0.5)
        started_epoch = time.time()
        reset_at = (started_epoch // 60 + 1) * 60  # the sandbox minute renews at the next whole minute
        started = time.monotonic()
        run = run_tap(config, [STREAM], timeout=150)
        elapsed = time.monotonic() - started

        records = run.records[STREAM]
        assert len(records) == rows
        assert len({(r["Division"], r["ID"]) for r in records}) == rows
        pages = data_requests(eo, SYNC_PATH)
        assert [p["status"] for p in pages] == [200] * math.ceil(rows / PAGE)
        no_429s(eo)
        received = [p["received_at"] for p in pages]
        assert all(t < reset_at for t in received[:budget]), (
            f"the first {budget} pages did not fit in the first minute (started {started_epoch:.1f}, "
            f"reset {reset_at:.0f}, received {received}): the test premise failed")
        assert all(t >= reset_at for t in received[budget:]), (received, reset_at)
        # The tap waited for the reset the sandbox announced, not for a 429 it never got.
        assert elapsed >= reset_at - started_epoch
        last_in_minute = pages[budget - 1]
        waited = reset_at - (last_in_minute["received_at"] + last_in_minute["duration_ms"] / 1000)
        if waited > 6:  # the limiter logs waits longer than 5 s at INFO
            assert "server reports 0 request(s) left" in run.stderr
        assert elapsed < 80
    finally:
        eo.stop()


def test_exactonline_tap_sync_stream_checkpoints_as_it_goes_and_resumes_there(tmp_path):
    """Rows come in Timestamp order, so a long sync emits its bookmark every 10,000 rows; a run
    interrupted after such a STATE resumes from it and reads each remaining row once."""
    rows = 25_000
    eo = start_sandbox(seed=13, sizes={TABLE: rows}, minutely_limit=200)
    try:
        store = tmp_path / "tokens.json"
        write_store(store, eo.issue_tokens())
        config = tap_config(eo, store, divisions=[DIVISION], requests_per_minute=200)
        full = run_tap(config, [STREAM], timeout=120)
        records = full.records[STREAM]
        assert len(records) == rows
        marks = [s["bookmarks"][STREAM]["partitions"][0]["replication_key_value"]
                 for s in full.states if STREAM in s.get("bookmarks", {})
                 and s["bookmarks"][STREAM].get("partitions")]
        timestamps = [r["Timestamp"] for r in records]
        assert timestamps == sorted(timestamps)
        # Mid-run checkpoints: after 10,000 and 20,000 rows, then the end.
        assert timestamps[9_999] in marks and timestamps[19_999] in marks
        assert marks[-1] == timestamps[-1]
        # "Killed" after the second checkpoint: the rerun from that STATE reads the rest only.
        checkpoint = next(s for s in full.states if STREAM in s.get("bookmarks", {})
                          and s["bookmarks"][STREAM]["partitions"][0]["replication_key_value"]
                          == timestamps[19_999])
        rest = run_tap(config, [STREAM], state=checkpoint, timeout=120).records[STREAM]
        assert [r["ID"] for r in rest] == [r["ID"] for r in records[20_000:]]
    finally:
        eo.stop()
