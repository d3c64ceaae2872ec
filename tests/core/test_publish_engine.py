"""The publish engine with a fake dialect and a fake session: no HTTP.

Grouping (same key → in order, one at a time), the UPSERT look-up cache, envelopes vs plain
records, rejects vs failures, dry run, resuming from the results file (what an interrupted
run published after its last checkpoint is not sent again; what it published before is), and
UPSERT's comparison with the object it found (only what differs is sent, nothing if nothing does).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import typing as t
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from connector_core.params import render_path
from connector_core.publish import (
    FoundObject,
    Journal,
    MappingError,
    PublishDialect,
    Publisher,
    PublishError,
    PublishItem,
    Reject,
    Request,
    StreamMapping,
    fingerprint,
)
from connector_core.publish.journal import pending_path_for
from connector_core.retry import RetryPolicy

BASE = "http://fake.test"
FAST = RetryPolicy(max_tries=3, base_delay=0.001, max_delay=0.002)


def response(status: int, body: t.Any = None, url: str = BASE) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = b"" if body is None else json.dumps(body).encode()
    r.headers["Content-Type"] = "application/json"
    r.url = url
    return r


class FakeSession:
    """Answers like a small REST API and records every call (thread-safe)."""

    def __init__(self, *, jitter: float = 0.0, script: dict[str, list[int]] | None = None) -> None:
        self.calls: list[tuple[str, str, t.Any]] = []
        self.lock = threading.Lock()
        self.jitter = jitter
        self.script = script or {}  # "METHOD path" -> statuses to answer first
        self.next_id = 100
        self.in_flight = 0
        self.max_in_flight = 0

    def request(self, method, url, params=None, data=None, headers=None, timeout=None):
        body = None if data is None else json.loads(data)  # the engine sends encoded JSON
        assert data is None or headers.get("Content-Type") == "application/json"
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.jitter:  # the network: requests sent in one order may arrive in another
            time.sleep(random.uniform(0, self.jitter))
        with self.lock:
            self.in_flight -= 1
            self.calls.append((method, url, body))  # applied in the order they arrive
            scripted = self.script.get(f"{method} {url[len(BASE):]}")
            status = scripted.pop(0) if scripted else None
            if method == "POST":
                self.next_id += 1
                new_id = self.next_id
        if status is not None:
            return response(status, {"message": f"scripted {status}", "errors": None}, url)
        if method == "POST":
            return response(201, {"id": new_id}, url)
        if method == "DELETE":
            return response(204, None, url)
        return response(200, {"id": int(url.rsplit("/", 1)[1])}, url)

    def writes(self) -> list[tuple[str, str, t.Any]]:
        return [c for c in self.calls if c[0] != "GET"]


class FakeDialect(PublishDialect):
    update_method = "PATCH"

    def __init__(self, existing: dict[str, int] | None = None) -> None:
        self.existing = dict(existing or {})  # name -> id
        self.lookups: list[t.Any] = []
        self.found_created: list[str] = []

    def check(self, item: PublishItem) -> None:
        if isinstance(item.payload, dict) and item.payload.get("bad"):
            raise Reject("bad record")

    def build(self, item, method, template, path) -> Request:
        return Request(method, BASE + render_path(template, path),
                       json=None if method == "DELETE" else item.payload)

    def lookup(self, item, send):
        key = item.payload.get("name") if item.mapping.match else item.payload.get("id")
        self.lookups.append(key)
        return self.existing.get(key) if item.mapping.match else key

    def collection_path(self, item):
        return item.mapping.entity.removesuffix("/{id}"), {}

    def item_path(self, item, remote_id):
        return item.mapping.entity + "/{id}", {"id": remote_id}

    def remote_id(self, item, resp):
        return resp.json().get("id") if resp.content else None


def mapping(method: str = "POST", entity: str = "/things", **obj) -> StreamMapping:
    return StreamMapping.from_config("s", {"entity": entity, "method": method, **obj}, where="m")


def items(records: list[dict], m: StreamMapping, key_properties=()) -> list[PublishItem]:
    return [PublishItem.from_record("s", r, m, key_properties) for r in records]


@pytest.fixture
def journal(tmp_path) -> t.Iterator[Journal]:
    j = Journal(tmp_path / "results.jsonl", tmp_path / "rejects.jsonl")
    yield j
    j.close()


def publisher(journal, session=None, dialect=None, **kwargs) -> Publisher:
    return Publisher(dialect or FakeDialect(), journal, session=session or FakeSession(),
                     retry_policy=kwargs.pop("retry_policy", FAST), rate_limiter=None, **kwargs)


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


# -- envelopes and plain records -------------------------------------------------------------------
class TestEnvelopeDetection:
    def test_full_envelope(self):
        m = mapping("PATCH", "/things/{id}", query={"a": 1})
        item = PublishItem.from_record("s", {"path": {"id": 7}, "query": {"b": 2}, "payload": {"x": 1}}, m)
        assert (item.path, item.query, item.payload) == ({"id": 7}, {"a": 1, "b": 2}, {"x": 1})

    def test_payload_only_and_path_only_envelopes(self):
        assert PublishItem.from_record("s", {"payload": [{"op": "replace"}]}, mapping()).payload == [{"op": "replace"}]
        item = PublishItem.from_record("s", {"path": {"id": 3}}, mapping("DELETE", "/things/{id}"))
        assert item.path == {"id": 3} and item.payload is None and item.key == {"id": 3}

    def test_records_that_merely_have_such_fields_are_plain(self):
        m = mapping("PATCH", "/things/{id}")
        plain = PublishItem.from_record("s", {"id": 4, "path": "/a/b", "name": "n"}, m)
        assert plain.path == {"id": 4} and plain.payload == {"id": 4, "path": "/a/b", "name": "n"}
        other = PublishItem.from_record("s", {"payload": {"x": 1}, "extra": True}, mapping())
        assert other.payload == {"payload": {"x": 1}, "extra": True}
        assert PublishItem.from_record("s", {}, mapping()).payload == {}

    def test_plain_record_fills_the_path_from_mapped_fields_which_are_not_in_the_body(self):
        m = mapping("POST", "/tickets/{parentId}/notes", path={"parentId": "ticket_id"})
        item = PublishItem.from_record("s", {"ticket_id": 5, "text": "hi"}, m)
        assert item.path == {"parentId": 5}
        assert item.payload == {"text": "hi"}
        assert item.record == {"ticket_id": 5, "text": "hi"}  # rejects show the record as sent
        same_name = PublishItem.from_record("s", {"id": 2, "name": "n"}, mapping("PATCH", "/things/{id}"))
        assert same_name.payload == {"id": 2, "name": "n"}  # default-named fields are the dialect's

    def test_fingerprint_is_the_record_as_received(self):
        a = PublishItem.from_record("s", {"b": 1, "a": 2}, mapping())
        b = PublishItem.from_record("s", {"a": 2, "b": 1}, mapping())
        c = PublishItem.from_record("other", {"a": 2, "b": 1}, mapping())
        assert a.fingerprint == b.fingerprint == fingerprint("s", {"a": 2, "b": 1}) != c.fingerprint


# -- grouping --------------------------------------------------------------------------------------
def test_records_with_the_same_key_go_in_order_while_other_keys_run_in_parallel(journal):
    session = FakeSession(jitter=0.01)
    m = mapping("PATCH", "/things/{id}")
    records = [{"id": i % 5, "seq": n} for n, i in enumerate(range(60))]
    publisher(journal, session, concurrency=4).publish(items(records, m, ["id"]))
    by_key: dict[str, list[int]] = {}
    for _method, url, body in session.calls:
        by_key.setdefault(url, []).append(body["seq"])
    assert len(by_key) == 5
    for url, seqs in by_key.items():
        assert seqs == sorted(seqs), f"{url} out of order: {seqs}"
    assert session.max_in_flight > 1, "different keys should be published concurrently"
    assert journal.published == 60


def test_upserts_of_one_match_value_share_a_group(journal):
    session = FakeSession(jitter=0.005)
    m = mapping("UPSERT", match=["name"])
    records = [{"name": f"n{i % 3}", "v": n} for n, i in enumerate(range(30))]
    publisher(journal, session, concurrency=4).publish(items(records, m))
    creates = [c for c in session.calls if c[0] == "POST"]
    assert len(creates) == 3  # one per name; the rest PATCH the created object, in order
    for name in ("n0", "n1", "n2"):
        seq = [body["v"] for _, _, body in session.calls if body and body.get("name") == name]
        assert seq == sorted(seq)


# -- UPSERT ----------------------------------------------------------------------------------------
def test_upsert_cache_hit_avoids_a_second_lookup(journal):
    dialect = FakeDialect(existing={"known": 9})
    session = FakeSession()
    m = mapping("UPSERT", match=["name"])
    pub = publisher(journal, session, dialect, concurrency=1)
    pub.publish(items([{"name": "known", "v": 1}, {"name": "new", "v": 1}], m))
    pub.publish(items([{"name": "known", "v": 2}, {"name": "new", "v": 2}, {"name": "new", "v": 3}], m))
    assert dialect.lookups == ["known", "new"]  # one per match value, across batches
    assert [(c[0], c[1][len(BASE):]) for c in session.calls] == [
        ("PATCH", "/things/9"), ("POST", "/things"),
        ("PATCH", "/things/9"), ("PATCH", "/things/101"), ("PATCH", "/things/101"),
    ]
    results = [r for r in lines(journal.results_path)]
    assert [r["remote_id"] for r in results] == [9, 101, 9, 101, 101]


def test_upsert_cache_is_bounded(journal):
    dialect = FakeDialect(existing={f"n{i}": i for i in range(10)})
    m = mapping("UPSERT", match=["name"])
    pub = publisher(journal, FakeSession(), dialect, concurrency=1, lookup_cache_size=3)
    pub.publish(items([{"name": f"n{i}"} for i in range(10)], m))
    pub.publish(items([{"name": "n9"}, {"name": "n0"}], m))
    assert dialect.lookups == [f"n{i}" for i in range(10)] + ["n0"]  # n9 cached, n0 evicted


def test_required_fields_are_checked_only_before_a_post(journal):
    """`required`: creating needs these fields; an update of an existing object does not."""
    dialect = FakeDialect(existing={"known": 9})
    session = FakeSession()
    m = mapping("UPSERT", match=["name"], required=["name", "lines"])
    publisher(journal, session, dialect, concurrency=1).publish(items([
        {"name": "known"},                      # found: PATCH, lines not needed
        {"name": "new", "lines": []},           # would be created: empty lines count as missing
        {"name": "newer", "lines": [{"q": 1}]},  # created
    ], m))
    assert [(c[0], c[1][len(BASE):]) for c in session.calls] == [("PATCH", "/things/9"),
                                                                ("POST", "/things")]
    assert [r["reason"] for r in lines(journal.rejects_path)] == [
        "lines missing: creating a /things needs name, lines (mappings.s.required)"]
    with pytest.raises(MappingError, match="m.required must be a field name or a list"):
        mapping("POST", required=[1])


# -- rejects, failures, dry run --------------------------------------------------------------------
def test_a_4xx_rejects_the_record_with_the_vendor_message_and_the_rest_go_on(journal):
    session = FakeSession(script={"POST /things": [400]})
    publisher(journal, session, concurrency=1).publish(items([{"a": 1}, {"bad": True}, {"a": 2}], mapping()))
    rejects = lines(journal.rejects_path)
    assert [r["reason"] for r in rejects] == ["POST /things answered 400: scripted 400", "bad record"]
    assert rejects[0]["status"] == 400 and rejects[0]["vendor_message"] == "scripted 400"
    assert [r["status"] for r in lines(journal.results_path)] == [201]
    assert len(session.calls) == 2  # the locally rejected record was never sent


def test_retries_then_success_and_exhausted_retries_fail_the_batch(journal):
    session = FakeSession(script={"POST /things": [503, 429], "PATCH /things/1": [500, 500, 500]})
    pub = publisher(journal, session, concurrency=1)
    pub.publish(items([{"a": 1}], mapping()))
    assert [c[0] for c in session.calls] == ["POST"] * 3
    with pytest.raises(PublishError, match="500"):
        pub.publish(items([{"id": 1, "a": 2}], mapping("PATCH", "/things/{id}")))
    assert lines(journal.rejects_path) == []


def test_refused_credentials_stop_the_run_instead_of_rejecting(journal):
    session = FakeSession(script={"POST /things": [401, 401]})
    with pytest.raises(PublishError, match="401"):
        publisher(journal, session, concurrency=1).publish(items([{"a": 1}, {"a": 2}], mapping()))
    assert lines(journal.rejects_path) == []


class HintingConnection:
    """A vendor connection's error readings (``BaseConnection.error_hint``/``vendor_error``)."""

    def error_hint(self, response: requests.Response) -> str | None:
        if response.status_code in (401, 403):
            return "check the `api_key` setting"
        return None

    def vendor_error(self, response: requests.Response) -> str | None:
        return response.json().get("message")


class HintingDialect(FakeDialect):
    def __init__(self, existing: dict[str, int] | None = None) -> None:
        super().__init__(existing)
        self.connection = HintingConnection()

    def lookup(self, item, send):
        response = send(Request("GET", f"{BASE}/things", params={"name": item.payload["name"]}))
        self.expect_ok(response, f"looking up {item.payload['name']}")
        return None


def test_refused_credentials_stop_the_run_naming_the_setting_to_fix(journal):
    """As the tap's error does: the connection's hint names the setting."""
    session = FakeSession(script={"POST /things": [401]})
    with pytest.raises(PublishError) as failure:
        publisher(journal, session, dialect=HintingDialect(), concurrency=1).publish(items([{"a": 1}], mapping()))
    assert str(failure.value) == "POST /things answered 401: scripted 401; check the `api_key` setting"
    assert lines(journal.rejects_path) == []
    # Without a connection's hint, the generic words.
    with pytest.raises(PublishError, match="answered 401: scripted 401; check the credentials$"):
        publisher(journal, FakeSession(script={"POST /things": [401]}), concurrency=1).publish(
            items([{"a": 1}], mapping()))


def test_a_refused_write_or_look_up_is_rejected_naming_the_setting_to_fix(journal):
    session = FakeSession(script={"POST /things": [403], "GET /things": [403]})
    pub = publisher(journal, session, dialect=HintingDialect(), concurrency=1)
    pub.publish(items([{"a": 1}], mapping()))
    pub.publish(items([{"name": "x"}], mapping("UPSERT", match="name")))
    rejects = lines(journal.rejects_path)
    assert [r["reason"] for r in rejects] == [
        "POST /things answered 403: scripted 403; check the `api_key` setting",
        "looking up x answered 403: scripted 403; check the `api_key` setting"]
    assert [(r["status"], r["vendor_message"]) for r in rejects] == [(403, "scripted 403")] * 2
    # A refusal without a hint (a 400) says what the vendor said, and no more.
    pub.publish(items([{"a": 2}], mapping("POST", "/other")))
    session.script["POST /other"] = [400]
    pub.publish(items([{"a": 3}], mapping("POST", "/other")))
    assert lines(journal.rejects_path)[-1]["reason"] == "POST /other answered 400: scripted 400"


def test_dry_run_sends_nothing(journal):
    session = FakeSession()
    pub = publisher(journal, session, dry_run=True)
    pub.publish(items([{"a": 1}, {"id": 2, "a": 1}], mapping()))
    assert session.calls == []
    assert [r["dry_run"] for r in lines(journal.results_path)] == [True, True]


# -- resuming after a crash ------------------------------------------------------------------------
def _result(fp: str, method: str = "POST", remote_id: int = 1) -> dict:
    return {"stream": "s", "key": None, "method": method, "status": 201, "remote_id": remote_id,
            "fingerprint": fp}


def _write(path: Path, entries: list[dict]) -> None:
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))


def test_resume_skips_what_was_published_after_the_last_checkpoint_only(tmp_path):
    records = [{"n": i} for i in range(4)]
    fps = [fingerprint("s", r) for r in records]
    results = tmp_path / "results.jsonl"
    _write(results, [
        _result(fps[0]), {"checkpoint": "c1"},      # covered by a STATE: the tap won't resend it
        _result(fps[1]), {"checkpoint": "c2"},
        _result(fps[2], remote_id=42),              # after the last checkpoint: in flight
        {"stream": "s", "fingerprint": fps[3], "method": "POST", "status": None, "dry_run": True},
    ])
    results.write_text(results.read_text() + '{"stream": "s", "finger')  # a line cut by the crash
    journal = Journal(results, tmp_path / "rejects.jsonl")
    assert journal.already_published(fps[0]) is None
    assert journal.already_published(fps[1]) is None
    assert journal.already_published(fps[2])["remote_id"] == 42
    assert journal.already_published(fps[3]) is None  # a dry run published nothing
    journal.close()

    journal = Journal(results, tmp_path / "rejects.jsonl")
    session = FakeSession()
    publisher(journal, session, concurrency=1).publish(items(records, mapping()))
    assert [c[2]["n"] for c in session.calls] == [0, 1, 3]
    journal.checkpoint({"done": 1})
    journal.close()
    assert Journal(results, tmp_path / "rejects.jsonl").already_published(fps[2]) is None


def test_resume_hands_each_earlier_result_out_once(tmp_path):
    """Two identical records: the crashed run created one; the rerun creates only the other."""
    fp = fingerprint("s", {"same": 1})
    _write(tmp_path / "results.jsonl", [{"checkpoint": "c"}, _result(fp)])
    journal = Journal(tmp_path / "results.jsonl", tmp_path / "rejects.jsonl")
    session = FakeSession()
    publisher(journal, session, concurrency=1).publish(items([{"same": 1}, {"same": 1}], mapping()))
    assert [c[0] for c in session.calls] == ["POST"]


def test_resume_sends_puts_and_patches_again_but_not_deletes(tmp_path):
    m = mapping("PATCH", "/things/{id}")
    d = mapping("DELETE", "/things/{id}")
    patch, delete = {"id": 1, "v": 2}, {"id": 3}
    _write(tmp_path / "results.jsonl", [_result(fingerprint("s", patch), "PATCH"),
                                        _result(fingerprint("s", delete), "DELETE")])
    journal = Journal(tmp_path / "results.jsonl", tmp_path / "rejects.jsonl")
    session = FakeSession()
    pub = publisher(journal, session, concurrency=1)
    pub.publish(items([patch], m))
    pub.publish(items([delete], d))
    assert [c[0] for c in session.calls] == ["PATCH"]


class FindingDialect(FakeDialect):
    def __init__(self, found: int | None) -> None:
        super().__init__()
        self.found = found

    def find_created(self, item, request, send):
        self.found_created.append(item.payload["n"])
        return self.found


def test_a_post_sent_but_never_answered_is_looked_up_before_it_is_sent_again(tmp_path):
    results = tmp_path / "results.jsonl"
    records = [{"n": 0}, {"n": 1}, {"n": 2}]
    fps = [fingerprint("s", r) for r in records]
    for found, expect_posts in ((7, []), (None, [1, 2])):
        # notes written before each POST: n0 (answered), n1 and n2 (the crash lost the answers)
        _write(results, [_result(fps[0])])
        _write(pending_path_for(results), [{"sending": fp} for fp in fps])
        journal = Journal(results, tmp_path / "rejects.jsonl")
        dialect, session = FindingDialect(found), FakeSession()
        publisher(journal, session, dialect, concurrency=1).publish(items(records, mapping()))
        assert dialect.found_created == [1, 2]
        assert [c[2]["n"] for c in session.calls] == expect_posts
        if found is not None:
            # n1 and n2 exist: nothing is POSTed, both recorded as recovered
            recovered = [r for r in lines(results) if r.get("recovered")]
            assert [r["remote_id"] for r in recovered] == [7, 7]
        journal.close()


def test_without_a_dialect_look_up_an_unanswered_post_is_rejected_not_repeated(tmp_path):
    results = tmp_path / "results.jsonl"
    fp = fingerprint("s", {"n": 1})
    _write(pending_path_for(results), [{"sending": fp}])
    journal = Journal(results, tmp_path / "rejects.jsonl")
    session = FakeSession()
    publisher(journal, session, concurrency=1).publish(items([{"n": 1}, {"n": 1}], mapping()))
    [reject] = lines(journal.rejects_path)
    assert "interrupted run" in reject["reason"] and "may have created" in reject["reason"]
    assert [c[0] for c in session.calls] == ["POST"]  # the second, identical record is new


def test_pending_notes_are_written_before_posts_and_cleared_by_a_checkpoint(tmp_path):
    results = tmp_path / "results.jsonl"
    journal = Journal(results, tmp_path / "rejects.jsonl")
    seen_notes: list[int] = []

    class Watching(FakeSession):
        def request(self, method, url, **kwargs):
            seen_notes.append(len(lines(pending_path_for(results))))
            return super().request(method, url, **kwargs)

    publisher(journal, Watching(), concurrency=1).publish(
        items([{"n": 1}], mapping()) + items([{"id": 1, "v": 1}], mapping("PATCH", "/things/{id}")))
    assert seen_notes == [1, 1]  # noted before the POST; a PATCH needs no note
    journal.checkpoint({"s": 1})
    assert lines(pending_path_for(results)) == []
    journal.close()


# -- UPSERT sends only what changed ----------------------------------------------------------------
class ComparingDialect(FakeDialect):
    """Reads the object's values in its look-up (like the vendor dialects) and compares."""

    def __init__(self, objects: dict[str, tuple[int, dict]], *, absent_is_null: bool = False,
                 fields: frozenset | None = None, echo: bool = False) -> None:
        super().__init__()
        self.objects = objects  # name -> (id, values)
        self.absent_is_null = absent_is_null
        self.fields = fields
        self.echo = echo

    def lookup(self, item, send):
        self.lookups.append(item.payload["name"])
        if item.payload["name"] not in self.objects:
            return None
        remote_id, values = self.objects[item.payload["name"]]
        return FoundObject(remote_id, values, self.fields)

    def update_fields(self, item, template, path):
        return {k: v for k, v in item.payload.items() if k != "skip_me"}

    def written_object(self, item, request, resp):
        return resp.json() if self.echo and resp.content else None


class EchoSession(FakeSession):
    """Keeps the objects written and answers a POST or PATCH with the whole object, as
    ConnectWise does."""

    def __init__(self) -> None:
        super().__init__()
        self.objects: dict[int, dict] = {}

    def request(self, method, url, params=None, data=None, headers=None, timeout=None):
        answer = super().request(method, url, params=params, data=data, headers=headers,
                                 timeout=timeout)
        if method in ("POST", "PATCH"):
            rid = answer.json()["id"]
            self.objects[rid] = {**self.objects.get(rid, {}), **json.loads(data), "id": rid}
            answer._content = json.dumps(self.objects[rid]).encode()
        return answer


ACME = {"name": "acme", "city": "Delft", "n": 10, "flag": True, "code": "7",
        "ref": {"id": 5, "name": "Five", "_info": {"x": "y"}}, "tags": [1, 2], "notes": "kept"}


def upsert_run(journal, dialect, records, session=None, **kwargs):
    session = session or FakeSession()
    pub = publisher(journal, session, dialect, concurrency=1, **kwargs)
    pub.publish(items(records, mapping("UPSERT", match=["name"])))
    return session, pub


def test_upsert_of_what_the_object_already_has_sends_nothing(journal):
    dialect = ComparingDialect({"acme": (9, ACME)})
    same = {"name": "acme", "city": "Delft", "n": Decimal("10.00"), "flag": True,
            "ref": {"id": 5}, "tags": [1, 2]}   # a reference by id; "notes" not mentioned
    session, _ = upsert_run(journal, dialect, [same, {**same, "n": 10.0}])
    assert session.calls == []
    assert [{k: r[k] for k in ("key", "method", "url", "status", "remote_id", "skipped")}
            for r in lines(journal.results_path)] == [
        {"key": None, "method": None, "url": BASE + "/things/9", "status": None, "remote_id": 9,
         "skipped": "unchanged"}] * 2
    assert journal.unchanged_count == 2 and journal.published == 0
    assert dialect.lookups == ["acme"]  # the second record used the cached look-up


def test_upsert_sends_only_the_fields_that_differ(journal):
    dialect = ComparingDialect({"acme": (9, ACME)})
    session, _ = upsert_run(journal, dialect, [{"name": "acme", "city": "Leiden", "n": 10,
                                                "ref": {"id": 6}, "skip_me": 1}])
    # the fields the update would send unchanged are left out; others (skip_me) stay
    assert session.writes() == [("PATCH", BASE + "/things/9", {"city": "Leiden", "ref": {"id": 6},
                                                              "skip_me": 1})]
    [result] = lines(journal.results_path)
    assert (result["method"], result["status"], result["remote_id"]) == ("PATCH", 200, 9)
    assert "skipped" not in result


@pytest.mark.parametrize(("field", "value", "sent"), [
    ("city", None, True),                    # null over a value is a change
    ("flag", 1, True),                       # 1 is no boolean
    ("n", "10", True),                       # a string is no number
    ("n", 10.5, True),
    ("code", 7, True),
    ("tags", [1], True),                     # lists compare whole, element by element
    ("tags", [2, 1], True),
    ("ref", {"id": 5, "name": "Other"}, True),
    ("ref", {}, True),                       # an empty object is not the object's reference
    ("ref", 5, True),
    ("city", {"name": "Delft"}, True),
    ("missing", "x", True),                  # the object lacks it: unknown, sent
    ("missing", None, True),
    ("ref", {"id": 5.0}, False),             # numbers by value, nested too
    ("notes", "kept", False),
])
def test_what_counts_as_a_difference(journal, field, value, sent):
    session, _ = upsert_run(journal, ComparingDialect({"acme": (9, ACME)}),
                            [{"name": "acme", field: value}])
    assert session.writes() == ([("PATCH", BASE + "/things/9", {field: value})] if sent else [])


def test_absent_means_null_only_where_the_vendor_leaves_nulls_out(journal):
    """ConnectWise omits null fields: a field the look-up asked for and did not get is null.
    A field the look-up did not ask for is unknown, whatever the vendor."""
    dialect = ComparingDialect({"acme": (9, ACME)}, absent_is_null=True,
                               fields=frozenset({"name", "city", "missing", "ref"}))
    session, _ = upsert_run(journal, dialect, [
        {"name": "acme", "missing": None, "ref": {"id": 5, "gone": None}},  # equal: nothing sent
        {"name": "acme", "missing": "x"},
        {"name": "acme", "notes": "kept"},   # not asked for: unknown, sent
    ])
    assert [c[2] for c in session.writes()] == [{"missing": "x"}, {"notes": "kept"}]


def test_the_cached_object_follows_the_runs_writes(journal):
    """The run knows what it wrote: a record that sets a value back is sent, one that repeats the
    last write is not."""
    dialect = ComparingDialect({"acme": (9, ACME)})
    session, _ = upsert_run(journal, dialect, [
        {"name": "acme", "city": "Leiden"}, {"name": "acme", "city": "Leiden"},
        {"name": "acme", "city": "Delft"}, {"name": "acme", "city": "Delft", "n": 10}])
    assert [c[2] for c in session.writes()] == [{"city": "Leiden"}, {"city": "Delft"}]
    assert [r.get("skipped") for r in lines(journal.results_path)] == [None, "unchanged", None,
                                                                       "unchanged"]
    assert dialect.lookups == ["acme"]


def test_an_object_created_by_the_run_is_compared_with_what_its_post_answered(journal):
    dialect = ComparingDialect({}, echo=True)
    session, _ = upsert_run(journal, dialect, [
        {"name": "new", "city": "Delft"}, {"name": "new", "city": "Delft"},
        {"name": "new", "city": "Leiden"}, {"name": "new", "city": "Leiden"}], EchoSession())
    assert [(c[0], c[2]) for c in session.writes()] == [("POST", {"name": "new", "city": "Delft"}),
                                                        ("PATCH", {"city": "Leiden"})]


def test_an_explicit_write_makes_the_run_forget_the_objects_values(journal):
    dialect = ComparingDialect({"acme": (9, ACME)})
    session = FakeSession()
    pub = publisher(journal, session, dialect, concurrency=1)
    upsert = mapping("UPSERT", match=["name"])
    pub.publish(items([{"name": "acme", "city": "Leiden"}], upsert))
    pub.publish(items([{"id": 9, "city": "Delft"}], mapping("PATCH", "/things/{id}")))
    pub.publish(items([{"name": "acme", "city": "Leiden"}], upsert))  # stale cache would skip it
    assert [c[2] for c in session.writes()] == [{"city": "Leiden"}, {"id": 9, "city": "Delft"},
                                                {"name": "acme", "city": "Leiden"}]
    assert dialect.lookups == ["acme"]  # the id is still known; the values were not


def test_only_upsert_compares(journal):
    """PUT and PATCH mappings have no look-up: they send the record as it is."""
    dialect = ComparingDialect({"acme": (9, ACME)})
    session = FakeSession()
    publisher(journal, session, dialect, concurrency=1).publish(
        items([{"id": 9, "name": "acme", "city": "Delft"}], mapping("PATCH", "/things/{id}")))
    assert session.writes() == [("PATCH", BASE + "/things/9", {"id": 9, "name": "acme", "city": "Delft"})]
    assert dialect.lookups == []


def test_dry_run_reports_what_would_be_sent_or_skipped(journal, caplog):
    dialect = ComparingDialect({"acme": (9, ACME)})
    with caplog.at_level(logging.INFO, logger="connector_core.publish"):
        session, _ = upsert_run(journal, dialect, [{"name": "acme", "city": "Delft"},
                                                   {"name": "acme", "city": "Leiden"}], dry_run=True)
    assert session.calls == []
    results = lines(journal.results_path)
    assert [(r.get("skipped"), r["method"], r["dry_run"]) for r in results] == [
        ("unchanged", None, True), (None, "PATCH", True)]
    assert "would send nothing to http://fake.test/things/9: unchanged" in caplog.text
    assert 'would send PATCH http://fake.test/things/9 params={} body={"city":"Leiden"}' in caplog.text


def test_skipped_lines_are_not_taken_for_published_writes_after_a_crash(tmp_path):
    """A rerun after a crash looks an unchanged record up again (a read), it does not trust the line."""
    results = tmp_path / "results.jsonl"
    journal = Journal(results, tmp_path / "rejects.jsonl")
    upsert_run(journal, ComparingDialect({"acme": (9, ACME)}), [{"name": "acme", "city": "Delft"}])
    journal.close()
    journal = Journal(results, tmp_path / "rejects.jsonl")
    dialect = ComparingDialect({"acme": (9, ACME)})
    upsert_run(journal, dialect, [{"name": "acme", "city": "Delft"}])
    assert dialect.lookups == ["acme"] and journal.unchanged_count == 1
    journal.close()
