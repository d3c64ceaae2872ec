"""tap-exactonline with start_date, without and then with state, on every kind of stream.

The emulator's rows are dated 2019..2025 (``Modified`` grows with the row), so a start_date of
2022-01-01 splits every table of a few hundred rows. A run without start_date is the oracle: the
run with start_date must emit exactly its rows modified at or after start_date, whichever way the
stream gets there (regular: ``Modified ge``; sync with SyncTimestamp: from the Timestamp Exact
answers; sync without: every row read, the older ones skipped).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import parse_qs

import pytest

from tests.exactonline.tap.helpers import TAP, data_requests, run_tap, start_sandbox, tap_config, write_store
from tests.tap_runner import run_tap_process

START = "2022-01-01T00:00:00Z"
START_AT = datetime(2022, 1, 1, tzinfo=timezone.utc)
WALL_CLOCK = "2022-01-01T01:00:00"  # START in Exact's wall clock (Amsterdam, CET in January)
DIVISIONS = [100001, 100002]  # 100002: every row older than START
SYNC_TIMESTAMP = "/read/sync/Sync/SyncTimestamp"

CUSTOM = [
    # The same sync endpoint as financial_transactionlines: SyncTimestamp is asked once for both.
    {"name": "transactionlines_again", "endpoint": "/sync/Financial/TransactionLines",
     "replication_key": "Timestamp"},
    {"name": "tasks_by_modified", "endpoint": "/activities/Tasks", "replication_key": "Modified"},
    {"name": "receivables_list", "endpoint": "/read/financial/ReceivablesList"},  # a read/ function
]
SKIPPED_SYNC = ["crm_accounts", "deleted"]  # sync, no SyncTimestamp: read from the start, skipped
SERVED_SYNC = ["financial_transactionlines", "transactionlines_again"]  # sync with SyncTimestamp
REGULAR = ["activities_tasks", "tasks_by_modified"]  # Modified ge start_date
UNDATED_SYNC = "documents_documentattachments"  # sync, no SyncTimestamp, no Modified: every row
FULL = ["cashflow_receivables", "receivables_list"]  # bulk and read/ function: full reads
STREAMS = SKIPPED_SYNC + SERVED_SYNC + REGULAR + [UNDATED_SYNC] + FULL


@pytest.fixture
def eo():
    sandbox = start_sandbox(seed=17, minutely_limit=300, sizes={
        "crm/Accounts": 400, "financial/TransactionLines": 400, "activities/Tasks": 400,
        "cashflow/Receivables": 30, "read/financial/ReceivablesList": 12})
    for table in ("crm/Accounts", "financial/TransactionLines", "activities/Tasks"):
        sandbox.set_size(table, 20, division=100002)  # 20 rows: all in 2019
    yield sandbox
    sandbox.stop()


@pytest.fixture
def store(eo, tmp_path):
    path = tmp_path / "tokens.json"
    write_store(path, eo.issue_tokens())
    return path


def config(eo, store, **overrides) -> dict:
    return tap_config(eo, store, **{"start_date": START, "divisions": DIVISIONS,
                                    "requests_per_minute": 300, "custom_streams": CUSTOM,
                                    **overrides})


def keys(rows) -> set[tuple[int, str]]:
    return {(r["Division"], r["ID"]) for r in rows}


def as_json(rows) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def sync_timestamp_requests(eo) -> list[tuple[str, dict]]:
    """(division, query) of every SyncTimestamp request the emulator answered."""
    return [(r["path"].split("/")[3], {k: v[0] for k, v in parse_qs(r["query"]).items()})
            for r in data_requests(eo, SYNC_TIMESTAMP)]


def partition(state: dict, stream: str, division: int) -> dict:
    return next(p for p in state["bookmarks"][stream]["partitions"]
                if p["context"] == {"Division": division})


def test_exactonline_tap_start_date_then_state_on_every_kind_of_stream(eo, store):
    oracle = run_tap(config(eo, store, start_date=None), STREAMS).records
    assert len(oracle["crm_accounts"]) == 420 and len(oracle["financial_transactionlines"]) == 420
    assert not data_requests(eo, SYNC_TIMESTAMP)  # no start_date: no SyncTimestamp

    # Two accounts deleted: one "in 2020" (before START), one now. Only the second is a deletion
    # since START (sync/Deleted, and the mark of crm_accounts).
    old_gone, new_gone = (eo.key_of("crm/Accounts", i, 100001) for i in (3, 390))
    now = eo.clock.now()
    eo.clock.set(datetime(2020, 6, 1, tzinfo=timezone.utc))
    assert eo.delete("crm/Accounts", old_gone, 100001)
    eo.clock.set(now)
    assert eo.delete("crm/Accounts", new_gone, 100001)
    eo.reset_stats()

    first = run_tap(config(eo, store), STREAMS)
    rows = first.records

    # Rows modified before START are not emitted; every row at or after it is, on every stream
    # that can tell (sync with or without SyncTimestamp, regular, custom of each kind).
    for stream in ["crm_accounts", *SERVED_SYNC, *REGULAR]:
        wanted = {(r["Division"], r["ID"]) for r in oracle[stream] if at(r["Modified"]) >= START_AT}
        if stream == "crm_accounts":
            wanted -= {(100001, new_gone)}
        emitted = [r for r in rows[stream] if "_sdc_deleted_at" not in r]
        assert keys(emitted) == wanted, stream
        assert len(emitted) == len(wanted), stream  # each row once
        assert 0 < len(wanted) < len(oracle[stream]), stream  # START really splits it
        assert all(at(r["Modified"]) >= START_AT for r in emitted), stream
    assert rows["transactionlines_again"] == rows["financial_transactionlines"]
    # Deletions since START only, and only their marks.
    assert [(r["EntityKey"], r["EntityType"]) for r in rows["deleted"]] == [(new_gone, 2)]
    assert at(rows["deleted"][0]["DeletedDate"]) >= START_AT
    marks = [r for r in rows["crm_accounts"] if "_sdc_deleted_at" in r]
    assert [(m["Division"], m["ID"]) for m in marks] == [(100001, new_gone)]
    # Nothing dates a document attachment: every row, with a warning naming start_date.
    assert keys(rows[UNDATED_SYNC]) == keys(oracle[UNDATED_SYNC])
    assert "start_date 2022-01-01T00:00:00Z cannot apply" in first.stderr
    # Bulk and read/ functions are full reads.
    for stream in FULL:
        assert rows[stream] and as_json(rows[stream]) == as_json(oracle[stream]), stream
    # The log says how each sync partition starts.
    assert "SyncTimestamp does not serve /sync/CRM/Accounts" in first.stderr
    assert "SyncTimestamp of TransactionLines answered" in first.stderr

    # SyncTimestamp: once per division and endpoint (two streams read TransactionLines), with
    # start_date in Exact's wall clock; never for the endpoints Exact's docs do not list.
    asked = sync_timestamp_requests(eo)
    assert sorted(division for division, _ in asked) == ["100001", "100002"]
    assert all(q == {"modified": f"datetime'{WALL_CLOCK}'", "endPoint": "'TransactionLines'"}
               for _, q in asked)
    # The sync read starts where SyncTimestamp says: at most the last older row is read (and
    # skipped), in division 100002 where no row is new enough.
    for division in DIVISIONS:
        pages = data_requests(eo, f"/{division}/sync/Financial/TransactionLines")
        assert len(pages) == 2  # the catalog stream and the custom one, one page each
        after = {int(parse_qs(p["query"])["$filter"][0].removeprefix("Timestamp gt ").rstrip("L"))
                 for p in pages}
        older = [r["Timestamp"] for r in oracle["financial_transactionlines"]
                 if r["Division"] == division and at(r["Modified"]) < START_AT]
        newer = [r["Timestamp"] for r in oracle["financial_transactionlines"]
                 if r["Division"] == division and at(r["Modified"]) >= START_AT]
        assert len(after) == 1 and (max(older) - 1 <= after.pop() < min(newer or [10**12]))
    # Regular streams filter on the server, in Exact's wall clock.
    task_page = data_requests(eo, "/100001/activities/Tasks")[0]
    assert parse_qs(task_page["query"])["$filter"][0] == f"Modified ge datetime'{WALL_CLOCK}'"

    # Bookmarks: sync partitions end at the last row read, skipped rows included (division
    # 100002 emitted nothing yet has its bookmark); regular ones at the newest Modified.
    state = first.final_state
    for stream in ("crm_accounts", *SERVED_SYNC):
        source = "crm_accounts" if stream == "crm_accounts" else "financial_transactionlines"
        for division in DIVISIONS:
            newest = max(r["Timestamp"] for r in oracle[source] if r["Division"] == division)
            assert partition(state, stream, division)["replication_key_value"] == newest, stream
    assert not any(r["Division"] == 100002 for s in STREAMS for r in rows.get(s, [])
                   if s not in FULL and s != UNDATED_SYNC)
    deletions = partition(state, "deleted", 100001)
    assert deletions["replication_key_value"] == rows["deleted"][0]["Timestamp"]
    assert partition(state, "activities_tasks", 100001)["replication_key_value"] == max(
        r["Modified"] for r in rows["activities_tasks"])

    # Changes since the first run: an account of 2019 and one of 2024 touched, a line touched,
    # a task touched, an account deleted.
    accounts = [eo.key_of("crm/Accounts", i, 100001) for i in (5, 380)]
    eo.touch("crm/Accounts", accounts, 100001)
    line = eo.key_of("financial/TransactionLines", 7, 100002)
    eo.touch("financial/TransactionLines", [line], 100002)
    task = eo.key_of("activities/Tasks", 2, 100001)
    eo.touch("activities/Tasks", [task], 100001)
    gone = eo.key_of("crm/Accounts", 200, 100001)
    assert eo.delete("crm/Accounts", gone, 100001)
    eo.reset_stats()

    second = run_tap(config(eo, store), STREAMS, state=state)
    again = second.records
    # The bookmark wins over start_date: no SyncTimestamp, and only what changed is read.
    assert sync_timestamp_requests(eo) == []
    assert keys(r for r in again["crm_accounts"] if "_sdc_deleted_at" not in r) == {
        (100001, key) for key in accounts}
    assert [m["ID"] for m in again["crm_accounts"] if "_sdc_deleted_at" in m] == [gone]
    assert [r["EntityKey"] for r in again["deleted"]] == [gone]
    for stream in SERVED_SYNC:
        assert keys(again[stream]) == {(100002, line)}, stream
    for stream in REGULAR:  # the touched task, plus the inclusive boundary row
        assert (100001, task) in keys(again[stream]), stream
        assert len(again[stream]) <= 2, stream
    for stream in FULL:
        assert as_json(again[stream]) == as_json(rows[stream]), stream
    assert again.get(UNDATED_SYNC, []) == []  # its bookmark holds
    for division in DIVISIONS:
        for stream in ("crm_accounts", *SERVED_SYNC):
            before = partition(state, stream, division)["replication_key_value"]
            after = partition(second.final_state, stream, division)["replication_key_value"]
            assert after >= before and (after > before) == any(
                r["Division"] == division and "_sdc_deleted_at" not in r
                for r in again[stream]), (stream, division)


def test_exactonline_tap_start_date_at_a_row_includes_that_row(eo, store):
    """start_date equal to a line's Modified (to the millisecond): that line is the first read."""
    oracle = run_tap(config(eo, store, start_date=None, divisions=[100001], custom_streams=None),
                     ["financial_transactionlines"]).records["financial_transactionlines"]
    ordered = sorted(oracle, key=lambda r: r["Timestamp"])
    boundary = ordered[150]
    run = run_tap(config(eo, store, start_date=boundary["Modified"], divisions=[100001],
                         custom_streams=None), ["financial_transactionlines"])
    assert [r["ID"] for r in run.records["financial_transactionlines"]] == [
        r["ID"] for r in ordered[150:]]


def test_exactonline_tap_sync_timestamp_refused_falls_back_to_skipping(eo, store):
    """A listed endpoint Exact refuses (400): read from the start, older rows skipped, a warning."""
    one = {"divisions": [100001], "custom_streams": None}
    oracle = run_tap(config(eo, store, start_date=None, **one),
                     ["financial_transactionlines"]).records["financial_transactionlines"]
    eo.faults.add(status=400, count=1, path_prefix=SYNC_TIMESTAMP)
    eo.reset_stats()
    run = run_tap(config(eo, store, **one), ["financial_transactionlines"])
    assert keys(run.records["financial_transactionlines"]) == {
        (r["Division"], r["ID"]) for r in oracle if at(r["Modified"]) >= START_AT}
    assert "Injected fault: HTTP 400" in run.stderr
    assert "reading it from its first row instead" in run.stderr
    page = data_requests(eo, "/sync/Financial/TransactionLines")[0]
    assert parse_qs(page["query"])["$filter"][0] == "Timestamp gt 0L"
    bookmark = partition(run.final_state, "financial_transactionlines", 100001)
    assert bookmark["replication_key_value"] == max(r["Timestamp"] for r in oracle)


def test_exactonline_tap_sync_timestamp_is_a_request_of_the_daily_budget(eo, store):
    """The daily budget allows one request: SyncTimestamp spends it, the run stops cleanly, and
    the Timestamp it answered is saved, so the next day's run does not ask again."""
    eo.set_limits(daily=1)
    first = run_tap(config(eo, store, divisions=[100001], custom_streams=None,
                           daily_budget_max_wait=5), ["financial_transactionlines"])
    assert len(sync_timestamp_requests(eo)) == 1
    assert data_requests(eo, "/sync/Financial/TransactionLines") == []
    assert "financial_transactionlines (100001, partly read)" in first.stderr
    start = partition(first.final_state, "financial_transactionlines", 100001)
    assert start["replication_key"] == "Timestamp"

    eo.set_limits(daily=5000)
    eo.reset_limits()
    eo.reset_stats()
    second = run_tap(config(eo, store, divisions=[100001], custom_streams=None),
                     ["financial_transactionlines"], state=first.final_state)
    assert sync_timestamp_requests(eo) == []
    page = data_requests(eo, "/sync/Financial/TransactionLines")[0]
    saved = start["replication_key_value"]
    assert parse_qs(page["query"])["$filter"][0] == f"Timestamp gt {saved}L"
    rows = second.records["financial_transactionlines"]
    assert rows and all(at(r["Modified"]) >= START_AT for r in rows)


@pytest.mark.parametrize(("cursor", "error"), [
    ("Code", "is neither Timestamp (sync endpoints) nor a date-time column such as Modified"),
    ("Nope", "is not a column of the stream"),
])
def test_exactonline_custom_stream_cursor_must_be_timestamp_or_a_date_time(eo, store, cursor,
                                                                           error):
    """The incremental filter and start_date need Timestamp or a date: any other replication_key
    is a config error naming the entry, not a crash mid-run."""
    settings = config(eo, store, custom_streams=[
        {"name": "accounts", "endpoint": "/crm/Accounts", "replication_key": cursor}])
    run = run_tap_process(TAP, settings, check=False)  # no catalog: the tap discovers itself
    assert run.returncode != 0 and not run.records
    assert f"custom_streams[0].replication_key {cursor!r} {error}" in run.stderr
    assert "Traceback" not in run.stderr
