"""Progress lines and the end-of-run summary (connector_core.progress).

Unit tests on a fake clock (the interval, nested streams, the limiter's budget), a singer-sdk tap
in process against the local scripted server (the summary's counts: requests, retries, 429s and
their waits, limiter waits, a failed run), then real runs of tap-lightspeed, tap-connectwise and
tap-saleslayer against their emulators, whose request logs the summary must match exactly.
"""

from __future__ import annotations

import collections
import logging
import re
import typing as t

import pytest
import requests
from singer_sdk import RESTStream, Tap, metrics
from singer_sdk import typing as th
from singer_sdk.exceptions import FatalAPIError

from connector_core import RateLimiter, ResilientRESTStreamMixin, RetryPolicy, progress
from connector_core.progress import (
    INTERVAL_ENV,
    ProgressStreamMixin,
    RunProgress,
    _RecordCounter,
    attach_run_progress,
    budget_left,
    current_stats,
)
from connector_core.ratelimit import BudgetExhausted
from tests.core.http_server import Reply, ScriptedServer

PASSWORD = "progress-secret-5d1e"
LOGGER = "tap-progresstest"


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def _no_run_left_active() -> t.Iterator[None]:
    """A run one test made active must not count another test's requests."""
    yield
    progress._ACTIVE_RUN = None


def fields_of(line: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


def summary_of(text: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """``({stream: fields}, total fields)`` from the summary lines in ``text`` (log output)."""
    streams: dict[str, dict[str, str]] = {}
    total: dict[str, str] = {}
    for line in text.splitlines():
        if "Sync summary: " in line:
            fields = fields_of(line.split("Sync summary: ", 1)[1])
            streams[fields.pop("stream")] = fields
        elif "Sync total: " in line:
            assert not total, "one total line"
            total = fields_of(line.split("Sync total: ", 1)[1])
    return streams, total


def seconds(value: str) -> float:
    assert value.endswith("s"), value
    return float(value[:-1])


# -- the interval, on a fake clock ------------------------------------------------------------------


def test_a_progress_line_every_interval_while_the_stream_syncs_and_none_otherwise(caplog):
    clock = FakeClock()
    run = RunProgress(logging.getLogger(LOGGER), interval=30, clock=clock).activate()
    stats = run.stats("tickets")
    stats.limiter = RateLimiter(100, 60.0, clock=clock, wall_clock=clock)
    policy = RetryPolicy(max_tries=1)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        with _RecordCounter(metrics.record_counter("tickets"), run, stats) as counter:
            for second in range(1, 101):  # one record a second, one request every 10 records
                clock.now += 1
                if second % 10 == 1:
                    stats.limiter.acquire()
                    policy.decorate(lambda: None)()
                    stats.pages = (stats.pages or 0) + 1
                counter.increment()
        clock.now += 100
        policy.decorate(lambda: None)()  # no stream syncs: no line, counted outside the streams
        stats.tick()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Progress:")]
    assert lines == [
        "Progress: stream=tickets records=30 pages=3 requests=3 rate=1.0/s budget_left=97 elapsed=30.0s",
        "Progress: stream=tickets records=60 pages=6 requests=6 rate=1.0/s budget_left=94 elapsed=60.0s",
        "Progress: stream=tickets records=90 pages=9 requests=9 rate=1.0/s budget_left=94 elapsed=90.0s",
    ]
    assert stats.records == 100 and stats.requests == 10 and stats.active == 100.0
    assert run.outside.requests == 1


def test_the_interval_comes_from_the_environment_and_zero_turns_the_lines_off(monkeypatch, caplog):
    logger = logging.getLogger(LOGGER)
    assert RunProgress(logger).interval == 30.0
    monkeypatch.setenv(INTERVAL_ENV, "5")
    assert RunProgress(logger).interval == 5.0
    monkeypatch.setenv(INTERVAL_ENV, "soon")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert RunProgress(logger).interval == 30.0
    assert f"{INTERVAL_ENV} must be a number of seconds" in caplog.text
    monkeypatch.setenv(INTERVAL_ENV, "0")
    clock = FakeClock()
    run = RunProgress(logger, clock=clock)
    stats = run.stats("tickets")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        with _RecordCounter(metrics.record_counter("tickets"), run, stats) as counter:
            for _ in range(100):
                clock.now += 60
                counter.increment()
    assert "Progress:" not in caplog.text and stats.records == 100


def test_a_child_streams_time_is_its_own_and_requests_count_where_they_are_made(caplog):
    clock = FakeClock()
    run = RunProgress(logging.getLogger(LOGGER), interval=0, clock=clock).activate()
    parent, child = run.stats("tickets"), run.stats("tickets_notes")
    policy = RetryPolicy(max_tries=1)
    run.enter(parent)
    clock.now += 2
    policy.decorate(lambda: None)()
    for _ in range(3):  # three parent records, each with a child sync of 5 s and two requests
        run.enter(child)
        assert current_stats() is child
        clock.now += 5
        policy.decorate(lambda: None)()
        policy.decorate(lambda: None)()
        run.exit(child)
        assert current_stats() is parent
        clock.now += 1
    run.exit(parent)
    assert current_stats() is run.outside
    assert (parent.active, parent.requests, parent.syncs) == (5.0, 1, 1)
    assert (child.active, child.requests, child.syncs) == (15.0, 6, 3)


def test_an_attempt_the_limiter_refuses_sent_nothing_and_is_not_counted():
    run = RunProgress(logging.getLogger(LOGGER), interval=0, clock=FakeClock())
    stats = run.stats("sales")

    def refused() -> None:
        raise BudgetExhausted("spent", limiter_name="daily", reset_at_epoch=None)

    run.enter(stats)
    with pytest.raises(BudgetExhausted):
        RetryPolicy(max_tries=3).decorate(refused)()
    run.exit(stats)
    assert stats.requests == 0 and stats.retries == 0


def test_budget_left_is_what_the_limiter_knows_or_nothing():
    clock = FakeClock(1_000_000.0)
    assert budget_left(None) is None
    headers_only = RateLimiter(None, 60.0, clock=clock, wall_clock=clock)
    assert budget_left(headers_only) is None  # nothing said yet
    headers_only.observe(remaining=40, reset_at_epoch=clock() + 30)
    headers_only.acquire()
    assert budget_left(headers_only) == "39"  # the server's 40, less the request sent since
    clock.now += 31
    assert budget_left(headers_only) is None  # that window is over; the next is unknown
    published = RateLimiter(10, 60.0, clock=clock, wall_clock=clock)
    for _ in range(3):
        published.acquire()
    assert budget_left(published) == "7"
    published.observe(remaining=2, reset_at_epoch=clock() + 10)
    assert budget_left(published) == "2"  # the smaller of the two

    class Own:
        def budget_left(self) -> int:
            return 12

    assert budget_left(Own()) == "12"


# -- the summary of a real singer-sdk tap, against the local server ---------------------------------


class ItemsStream(ProgressStreamMixin, ResilientRESTStreamMixin, RESTStream):
    name = "items"
    path = "/v1/items"
    primary_keys = ("id",)
    records_jsonpath = "$.items[*]"
    next_page_token_jsonpath = "$.next"  # noqa: S105 - a JSONPath, not a secret
    schema = th.PropertiesList(th.Property("id", th.IntegerType)).to_dict()
    retry_policy = RetryPolicy(max_tries=4, base_delay=0.01, max_delay=0.02)

    @property
    def url_base(self) -> str:
        return self.config["base_url"]

    @property
    def rate_limiter(self) -> RateLimiter:  # type: ignore[override]
        return self._tap.limiter  # type: ignore[attr-defined]

    def get_url_params(self, context: t.Any, next_page_token: t.Any) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {"apikey": self.config["password"]}
        if next_page_token:
            params["page"] = next_page_token
        return params

    def get_child_context(self, record: dict, context: t.Any) -> dict:
        return {"item_id": record["id"]}


class NotesStream(ItemsStream):
    name = "notes"
    path = "/v1/items/{item_id}/notes"
    parent_stream_type = ItemsStream
    next_page_token_jsonpath = None  # type: ignore[assignment]
    schema = th.PropertiesList(th.Property("id", th.IntegerType), th.Property("item_id", th.IntegerType)).to_dict()


class EmptyStream(ItemsStream):
    name = "empty"
    path = "/v1/empty"


class BrokenStream(ItemsStream):
    name = "broken"
    path = "/v1/broken"


class SkippedStream(ItemsStream):
    name = "skipped"
    path = "/v1/skipped"
    selected_by_default = False


class TapProgress(Tap):
    name = LOGGER
    config_jsonschema = th.PropertiesList(
        th.Property("base_url", th.StringType, required=True),
        th.Property("password", th.StringType, required=True, secret=True),
        th.Property("broken", th.BooleanType, default=False),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        # Every acquire after the first waits 10 s, on a fake clock: limiter waits are exact.
        self.clock = FakeClock()
        self.limiter = RateLimiter(1, 10.0, name="test", clock=self.clock, wall_clock=self.clock,
                                   sleep=self.clock.sleep)
        super().__init__(*args, **kwargs)

    def discover_streams(self) -> list[RESTStream]:
        streams: list[RESTStream] = []
        if self.config.get("broken"):
            streams.append(BrokenStream(self))
        return [*streams, ItemsStream(self), NotesStream(self), EmptyStream(self), SkippedStream(self)]


def script_items(server: ScriptedServer) -> None:
    server.script("/v1/items",
                  Reply(429, {"message": "slow down"}, {"Retry-After": "0.2"}),
                  Reply(503, {"message": "busy"}),
                  Reply(200, {"items": [{"id": 1}, {"id": 2}], "next": 2}),
                  Reply(200, {"items": [{"id": 3}], "next": None}))
    server.script("/v1/items/1/notes", Reply(200, {"items": [{"id": 10}, {"id": 11}]}))
    server.script("/v1/items/2/notes", Reply(429, {}, {"Retry-After": "0.2"}), Reply(200, {"items": [{"id": 20}]}))
    server.script("/v1/items/3/notes", Reply(200, {"items": []}))
    server.script("/v1/empty", Reply(200, {"items": []}))
    server.script("/v1/broken", Reply(400, {"message": "bad filter"}))


def test_the_summary_counts_every_attempt_429_and_wait_per_stream(http_server, caplog):
    script_items(http_server)
    tap = TapProgress(config={"base_url": http_server.base_url, "password": PASSWORD})
    with caplog.at_level(logging.INFO, logger=LOGGER):
        tap.sync_all()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith(("Sync ", "Progress:"))]
    streams, total = summary_of("\n".join(lines))
    assert list(streams) == ["empty", "items", "notes"]  # synced by name; the deselected one: no line
    assert {name: {k: v for k, v in f.items() if not k.startswith("wait_") and k != "duration"}
            for name, f in streams.items()} == {
        "items": {"records": "3", "pages": "2", "requests": "4", "retries": "2", "http_429": "1", "status": "ok"},
        "notes": {"records": "3", "pages": "3", "requests": "4", "retries": "1", "http_429": "1", "status": "ok"},
        "empty": {"records": "0", "pages": "1", "requests": "1", "retries": "0", "http_429": "0", "status": "ok"},
    }
    # What the server saw, path by path.
    assert http_server.count("/v1/items") == 4
    assert sum(http_server.count(f"/v1/items/{i}/notes") for i in (1, 2, 3)) == 4
    assert http_server.count("/v1/empty") == 1
    # Retry-After 0.2 is waited out in full, at most 10 % more; the 503's backoff is not a 429 wait.
    assert 0.2 <= seconds(streams["items"]["wait_429"]) <= 0.22
    assert 0.2 <= seconds(streams["notes"]["wait_429"]) <= 0.22
    # 9 acquires, the first (empty's) free: 10 s each for the others (fake clock).
    assert [streams[s]["wait_limiter"] for s in ("empty", "items", "notes")] == ["0.00s", "40.00s", "40.00s"]
    assert seconds(streams["items"]["duration"]) >= 0.2 and seconds(streams["notes"]["duration"]) >= 0.2
    assert {k: v for k, v in total.items() if not k.startswith("wait_") and k != "duration"} == {
        "streams": "3", "records": "6", "pages": "6", "requests": "9", "retries": "3", "http_429": "2",
        "status": "ok"}
    assert total["wait_limiter"] == "80.00s"
    assert seconds(total["duration"]) >= sum(seconds(f["duration"]) for f in streams.values()) - 0.01
    assert all(PASSWORD not in line and "apikey" not in line and "?" not in line for line in lines)
    caplog.clear()  # the run is over: a second summary is never logged
    for stream in tap.streams.values():
        stream.log_sync_costs()
    assert "Sync summary" not in caplog.text


def test_a_failed_run_still_ends_with_its_summary(http_server, caplog):
    script_items(http_server)
    tap = TapProgress(config={"base_url": http_server.base_url, "password": PASSWORD, "broken": True})
    with caplog.at_level(logging.INFO, logger=LOGGER), pytest.raises(FatalAPIError):
        tap.sync_all()
    streams, total = summary_of(caplog.text)
    assert streams == {
        "broken": {"records": "0", "pages": "0", "requests": "1", "retries": "0", "http_429": "0",
                   "wait_429": "0.00s", "wait_limiter": "0.00s", "duration": streams["broken"]["duration"],
                   "status": "failed"},
        **{name: {"records": "0", "pages": "0", "requests": "0", "retries": "0", "http_429": "0",
                  "wait_429": "0.00s", "wait_limiter": "0.00s", "duration": "0.00s", "status": "not_run"}
           for name in ("empty", "items", "notes")},
    }
    assert (total["streams"], total["requests"], total["status"]) == ("4", "1", "failed")


def test_requests_outside_every_stream_are_in_the_total(caplog):
    run = RunProgress(logging.getLogger(LOGGER), interval=0, clock=FakeClock())

    class FakeTap:
        logger = logging.getLogger(LOGGER)
        streams: dict[str, t.Any] = {}

    attach_run_progress(FakeTap(), run)
    response = requests.Response()
    response.status_code = 429
    RetryPolicy(max_tries=1).decorate(lambda: response)()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        run.finish()
        run.finish()  # once
    assert caplog.messages == [
        "Sync total: streams=0 records=0 requests=1 retries=0 http_429=1 wait_429=0.00s wait_limiter=0.00s "
        "duration=0.00s outside_requests=1 status=ok"]
    assert current_stats() is None  # the run is over: nothing counts any more


# -- real runs against the emulators ---------------------------------------------------------------


@pytest.mark.timeout(180)
def test_a_lightspeed_run_summary_matches_the_emulators_request_log(monkeypatch):
    from tests.lightspeed.tap.helpers import TAP as LIGHTSPEED
    from tests.lightspeed.tap.helpers import catalog_selecting, start_sandbox, tap_config
    from tests.tap_runner import run_tap_process

    sandbox = start_sandbox(sizes={"/products": 23, "/customers": 7, "/brands": 0}, max_page_size=10)
    try:
        config = tap_config(sandbox)
        catalog = catalog_selecting(config, ["products", "customers", "brands"])
        sandbox.faults.add(status=429, count=1, path_prefix="/products", headers={"Retry-After": "1"})
        sandbox.faults.add(status=503, count=1, path_prefix="/customers")
        sandbox.reset_stats()
        monkeypatch.setenv(INTERVAL_ENV, "0.5")
        run = run_tap_process(LIGHTSPEED, config, catalog)
        log = sandbox.request_log()
    finally:
        sandbox.stop()
    streams, total = summary_of(run.stderr)
    assert list(streams) == ["brands", "customers", "products"]
    for name, fields in streams.items():
        seen = [e for e in log if e["path"] == f"/api/2.0/{name}"]
        assert int(fields["records"]) == len(run.records.get(name, [])), name
        assert int(fields["requests"]) == len(seen), name
        assert int(fields["http_429"]) == sum(e["status"] == 429 for e in seen), name
        assert int(fields["pages"]) == sum(e["status"] == 200 for e in seen), name
        assert int(fields["retries"]) == sum(e["status"] != 200 for e in seen), name
    assert {name: (f["records"], f["pages"], f["requests"], f["http_429"]) for name, f in streams.items()} == {
        "brands": ("0", "1", "1", "0"),  # selected, nothing to emit: still a line
        "customers": ("7", "2", "3", "0"),
        "products": ("23", "4", "5", "1"),  # ceil(23/10) pages, the empty last one, one 429
    }
    assert 1.0 <= seconds(streams["products"]["wait_429"]) <= 1.1
    assert streams["customers"]["wait_429"] == "0.00s"
    assert (total["streams"], total["records"], total["requests"], total["status"]) == ("3", "30", str(len(log)), "ok")
    assert len(log) == 9
    # The progress line due while products waited for its 429: after the retry, before any record.
    progress = [fields_of(line.split("Progress: ", 1)[1]) for line in run.stderr.splitlines() if "Progress: " in line]
    waited = [p for p in progress if p["stream"] == "products" and p["requests"] == "2" and p["records"] == "0"]
    assert waited and seconds(waited[0]["elapsed"]) >= 1.0, progress
    assert all(re.fullmatch(r"\d+\.\d/s", p["rate"]) for p in progress)
    assert all(int(p["records"]) <= int(streams[p["stream"]]["records"]) for p in progress)


@pytest.mark.timeout(180)
def test_a_connectwise_run_has_a_line_per_child_stream_matching_the_emulator():
    from tests.connectwise.tap.helpers import run_tap, start_sandbox, tap_config

    sandbox = start_sandbox(sizes={"/service/tickets": 25, "/service/tickets/{parentId}/notes": 2})
    try:
        sandbox.faults.add(status=429, count=1, path_prefix="/service/tickets/3/notes",
                           headers={"Retry-After": "1"})
        run = run_tap(tap_config(sandbox, page_size=10), ["service_tickets", "service_tickets_notes"])
        log = sandbox.request_log()
    finally:
        sandbox.stop()
    routes = collections.Counter(e["route"] for e in log if e["status"] == 200)
    assert routes == {"GET /login/companyinfo/{companyId}": 1, "GET /service/tickets": 3,
                      "GET /service/tickets/{parentId}/notes": 25}
    assert sum(e["status"] == 429 for e in log) == 1
    streams, total = summary_of(run.stderr)
    notes = streams["service_tickets_notes"]
    tickets = streams["service_tickets"]
    assert list(streams) == ["service_tickets", "service_tickets_notes"]
    assert int(notes["records"]) == len(run.records["service_tickets_notes"]) == 50
    assert (notes["pages"], notes["requests"], notes["retries"], notes["http_429"]) == ("25", "26", "1", "1")
    assert 1.0 <= seconds(notes["wait_429"]) <= 1.1
    # The codebase look-up (login/companyinfo) is made for the first stream: counted there.
    assert int(tickets["records"]) == len(run.records["service_tickets"]) == 25
    assert (tickets["pages"], tickets["requests"], tickets["http_429"]) == ("3", "4", "0")
    assert (total["records"], total["requests"], total["status"]) == ("75", str(len(log)), "ok")
    # The parent's duration leaves out its children's: they add up to the run's.
    assert seconds(notes["duration"]) >= 1.0 > seconds(tickets["duration"])


@pytest.mark.timeout(180)
def test_a_saleslayer_run_counts_the_export_against_the_stream_that_read_it():
    from tests.saleslayer.tap.helpers import TAP as SALESLAYER
    from tests.saleslayer.tap.helpers import catalog_selecting, start_sandbox, tap_config
    from tests.tap_runner import run_tap_process

    sandbox = start_sandbox(sizes={"catalogue": 2, "products": 3, "product_formats": 2, "brands": 2})
    try:
        config = tap_config(sandbox)
        catalog = catalog_selecting(config, ["brands", "catalogue", "products"])
        sandbox.reset_stats()
        run = run_tap_process(SALESLAYER, config, catalog)
        log = sandbox.request_log()
    finally:
        sandbox.stop()
    streams, total = summary_of(run.stderr)
    assert len(log) == 1  # the one export, one page
    # brands syncs first and reads the export; the others read their spool. No pages field: the
    # export's pages are not any one stream's.
    assert {name: (f["records"], f["requests"], "pages" in f) for name, f in streams.items()} == {
        "brands": ("2", "1", False), "catalogue": ("2", "0", False), "products": ("3", "0", False)}
    assert {name: len(rows) for name, rows in run.records.items()} == {"brands": 2, "catalogue": 2, "products": 3}
    assert (total["records"], total["requests"], "pages" in total) == ("7", "1", False)
