"""Contract tests for the ConnectWise Manage emulator (plain ``requests`` against a real server).

Contract: shared/vendors/connectwise-exactonline.md §1 and the ConnectWise Developer Guide.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from connector_sandbox.connectwise import ConnectWiseSandbox

CLIENT_ID = "00000000-0000-4000-8000-000000000000"


def auth_header(company: str = "sandbox", public: str = "sandbox-public", private: str = "sandbox-private") -> str:
    return "Basic " + base64.b64encode(f"{company}+{public}:{private}".encode()).decode()


HEADERS = {
    "Authorization": auth_header(),
    "clientId": CLIENT_ID,
    "Accept": "application/vnd.connectwise.com+json; version=2025.1",
}


def links(resp: requests.Response) -> dict[str, str]:
    out = {}
    for part in resp.headers.get("Link", "").split(","):
        m = re.match(r'\s*<([^>]+)>;\s*rel="(\w+)"', part)
        if m:
            out[m.group(2)] = m.group(1)
    return out


@pytest.fixture(scope="module")
def sb():
    server = ConnectWiseSandbox(seed=42, sizes={"/service/tickets": 2500}).start()
    yield server
    server.stop()


@pytest.fixture()
def api(sb):
    sb.reset_data()
    sb.faults.clear()
    sb.rate_limit(None)
    sb.reset_stats()
    session = requests.Session()
    session.headers.update(HEADERS)

    class Api:
        base = sb.api_url

        def get(self, path, **kw):
            return session.get(self.base + path, **kw)

        def post(self, path, **kw):
            return session.post(self.base + path, **kw)

        def put(self, path, **kw):
            return session.put(self.base + path, **kw)

        def patch(self, path, **kw):
            return session.patch(self.base + path, **kw)

        def delete(self, path, **kw):
            return session.delete(self.base + path, **kw)

    yield Api()
    session.close()


# ----------------------------------------------------------------------------- discovery & auth
def test_company_info_and_codebases(sb, api):
    r = requests.get(f"{sb.url}/login/companyinfo/sandbox")
    assert r.status_code == 200
    info = r.json()
    assert info["Codebase"] == "v2025_1/" and info["CompanyID"] == "sandbox"
    assert info["VersionCode"] == "v2025.1" and info["IsCloud"] in (True, "True")
    assert requests.get(f"{sb.url}/login/companyinfo/nope").status_code == 404
    # the codebase from companyinfo and the on-prem style v4_6_release both serve the API
    for codebase in ("v2025_1", "v4_6_release"):
        r = requests.get(f"{sb.url}/{codebase}/apis/3.0/system/info", headers=HEADERS)
        assert r.status_code == 200, r.text
        assert r.headers["api-current-version"] == "2025.1"
        assert r.json()["isCloud"] is True
    assert requests.get(f"{sb.url}/v1999_1/apis/3.0/system/info", headers=HEADERS).status_code == 404


def test_auth_failures_are_distinct(sb):
    url = sb.api_url + "/service/tickets"
    no_auth = requests.get(url, headers={"clientId": CLIENT_ID})
    assert no_auth.status_code == 401
    assert no_auth.json()["code"] == "Unauthorized" and "message" in no_auth.json()
    wrong_key = requests.get(url, headers={"clientId": CLIENT_ID, "Authorization": auth_header(private="nope")})
    assert wrong_key.status_code == 401 and wrong_key.json()["code"] == "Unauthorized"
    wrong_company = requests.get(url, headers={"clientId": CLIENT_ID, "Authorization": auth_header(company="other")})
    assert wrong_company.status_code == 401
    no_client = requests.get(url, headers={"Authorization": auth_header()})
    assert no_client.status_code == 400
    body = no_client.json()
    assert set(body) == {"code", "message", "errors"} and "clientId" in body["message"]
    bad_guid = requests.get(url, headers={"Authorization": auth_header(), "clientId": "not-a-guid"})
    assert bad_guid.status_code == 400
    assert requests.get(url, headers=HEADERS).status_code == 200
    # unversioned Accept and plain JSON are fine; a malformed version is not
    assert requests.get(url, headers={**HEADERS, "Accept": "application/vnd.connectwise.com+json"}).status_code == 200
    assert requests.get(url, headers={**HEADERS, "Accept": "application/json"}).status_code == 200
    bad_version = {**HEADERS, "Accept": "application/vnd.connectwise.com+json; version=abc"}
    assert requests.get(url, headers=bad_version).status_code == 400


def test_unknown_path_and_method(api):
    r = api.get("/service/nosuchthing")
    assert r.status_code == 404 and r.json()["code"] == "NotFound"
    r = api.put("/service/tickets/count", json={})
    assert r.status_code == 405 and "GET" in r.headers["Allow"]
    assert api.get("/service/tickets/999999").status_code == 404
    assert api.get("/service/tickets/999999").json()["message"] == "Ticket 999999 not found"


# ----------------------------------------------------------------------------- pagination
def test_page_size_limits(api):
    r = api.get("/service/tickets", params={"pageSize": 1001})
    assert r.status_code == 400
    assert r.json() == {"code": "InvalidObject", "message": "pageSize object is invalid", "errors": [{
        "code": "OutOfRange", "message": "The field pageSize must be between 1 and 1000.",
        "resource": "pageSize", "field": "pageSize"}]}
    assert api.get("/service/tickets", params={"pageSize": 0}).status_code == 400
    assert len(api.get("/service/tickets").json()) == 25  # default page size
    assert len(api.get("/service/tickets", params={"pagesize": 7}).json()) == 7  # case-insensitive


def test_navigable_links_over_2500_rows(api):
    r = api.get("/service/tickets", params={"pageSize": 1000, "conditions": "id > 0"})
    assert r.status_code == 200
    first = links(r)
    assert set(first) == {"next", "last"}
    assert "page=3" in first["last"] and "conditions=" in first["next"]
    ids = [t["id"] for t in r.json()]
    url = first["next"]
    pages = 1
    while url:
        r = requests.get(url, headers=HEADERS)
        assert r.status_code == 200
        ids += [t["id"] for t in r.json()]
        lk = links(r)
        pages += 1
        assert {"first", "prev", "last"} <= set(lk)
        url = lk.get("next")
    assert pages == 3
    assert ids == list(range(1, 2501))
    # past the end: empty page, no next
    r = api.get("/service/tickets", params={"pageSize": 1000, "page": 4})
    assert r.json() == [] and "next" not in links(r)


def test_forward_only_over_2500_rows(api):
    fo = {"pagination-type": "forward-only"}
    r = api.get("/service/tickets", params={"pageSize": 1000, "page": 7}, headers=fo)  # page is ignored
    ids = [t["id"] for t in r.json()]
    assert ids[0] == 1
    seen_links = 1
    url = links(r).get("next")
    while url:
        assert re.search(r"pageId=\d+", url)
        r = requests.get(url, headers={**HEADERS, **fo})
        assert r.status_code == 200
        batch = [t["id"] for t in r.json()]
        ids += batch
        url = links(r).get("next")
        if batch:
            assert url and url.endswith(f"pageId={batch[-1]}")
            seen_links += 1
        else:
            assert "Link" not in r.headers  # our reading: empty page carries no Link
    assert ids == list(range(1, 2501)) and len(set(ids)) == 2500
    assert seen_links == 3
    r = api.get("/service/tickets", params={"orderBy": "id desc"}, headers=fo)
    assert r.status_code == 400 and r.json()["code"] == "InvalidObject"
    r = api.get("/service/tickets", params={"pageSize": 5, "pageId": 100}, headers=fo)
    assert [t["id"] for t in r.json()] == [101, 102, 103, 104, 105]
    # audit trail: no forward-only -> served as navigable, without any Link header
    r = api.get("/system/audittrail", params={"pageSize": 1}, headers=fo)
    assert r.status_code == 200 and "Link" not in r.headers
    # pageId without the header is ignored (navigable)
    r = api.get("/service/tickets", params={"pageSize": 2, "pageId": 100})
    assert [t["id"] for t in r.json()] == [1, 2]


def test_nested_lists_and_records(api):
    notes = api.get("/service/tickets/7/notes").json()
    assert len(notes) == 3 and all(n["ticketId"] == 7 for n in notes)
    one = api.get(f"/service/tickets/7/notes/{notes[0]['id']}")
    assert one.status_code == 200 and one.json() == notes[0]
    assert api.get(f"/service/tickets/8/notes/{notes[0]['id']}").status_code == 404
    assert api.get("/service/tickets/999999/notes").status_code == 404
    assert api.get("/service/tickets/7/notes/count").json() == {"count": 3}
    # references resolve: the ticket's board/status/company exist and the status belongs to the board
    t = api.get("/service/tickets/7").json()
    board = api.get(f"/service/boards/{t['board']['id']}").json()
    assert board["name"] == t["board"]["name"]
    status = api.get(f"/service/boards/{board['id']}/statuses/{t['status']['id']}")
    assert status.status_code == 200 and status.json()["name"] == t["status"]["name"]
    company = requests.get(t["company"]["_info"]["company_href"], headers=HEADERS).json()
    assert company["identifier"] == t["company"]["identifier"]
    assert set(t["_info"]) >= {"lastUpdated", "updatedBy", "dateEntered", "enteredBy"}
    assert any(isinstance(v, list) for k, v in t.items() if k == "customFields")
    # a time entry's company is the company of the ticket it is charged to
    te = api.get("/time/entries/5").json()
    assert te["chargeToType"] == "ServiceTicket"
    tk = api.get(f"/service/tickets/{te['chargeToId']}").json()
    assert te["company"]["id"] == tk["company"]["id"]


def test_every_list_endpoint_answers(sb, api):
    failures = []
    for coll in sb.catalog.collections.values():
        path = coll.template
        for p in coll.params:
            path = path.replace("{" + p + "}", "x" if p in coll.list_op.string_params else "1")
        r = api.get(path, params={"pageSize": 2})
        if r.status_code != 200 or not isinstance(r.json(), list):
            failures.append((path, r.status_code))
    assert len(sb.catalog.collections) == 682
    assert failures == []


# ----------------------------------------------------------------------------- conditions, fields, count
def test_conditions(api):
    since = "2022-01-01T00:00:00Z"
    r = api.get("/service/tickets", params={"conditions": f"lastUpdated > [{since}] and board/id = 1",
                                            "pageSize": 1000})
    assert r.status_code == 200
    rows = r.json()
    assert rows and all(t["_info"]["lastUpdated"] > since and t["board"]["id"] == 1 for t in rows)
    total = api.get("/service/tickets/count", params={"conditions": f"lastUpdated > [{since}]"}).json()["count"]
    alt = api.get("/service/tickets/count", params={"conditions": f"_info/lastUpdated > [{since}]"}).json()["count"]
    assert 0 < total == alt < 2500
    assert len(api.get("/service/tickets", params={"conditions": f"LastUpdated > [{since}]",
                                                    "pageSize": 1000, "page": 3}).json()) == total - 2000 \
        if total > 2000 else True
    cases = {
        'board/id in (1, 2) AND closedFlag = False': lambda t: t["board"]["id"] in (1, 2) and not t["closedFlag"],
        '(board/id = 1 or board/id = 3) and not (status/name = "Closed")':
            lambda t: t["board"]["id"] in (1, 3) and t["status"]["name"] != "Closed",
        'summary like "*printer*"': lambda t: "printer" in t["summary"].lower(),
        'summary not contains "password"': lambda t: "password" not in t["summary"].lower(),
        'id >= 10 and id < 20': lambda t: 10 <= t["id"] < 20,
        'company/name != null and contact/id > 100': lambda t: t["contact"]["id"] > 100,
    }
    for cond, check in cases.items():
        rows = api.get("/service/tickets", params={"conditions": cond, "pageSize": 1000}).json()
        assert rows, cond
        assert all(check(t) for t in rows), cond
    for bad in ("summary = ", "nosuchfield = 1", "board/id = \"x\"", "(id = 1", "id = 1 and", "summary > [nope]",
                "closedFlag > true"):
        r = api.get("/service/tickets", params={"conditions": bad})
        assert r.status_code == 400, bad
        body = r.json()
        assert body["code"] == "InvalidObject" and body["errors"][0]["field"] == "conditions", bad


def test_order_by_and_fields_and_count(api):
    rows = api.get("/service/tickets", params={"orderBy": "id desc", "pageSize": 3}).json()
    assert [t["id"] for t in rows] == [2500, 2499, 2498]
    rows = api.get("/company/companies", params={"orderBy": "name asc", "pageSize": 1000}).json()
    names = [c["name"].lower() for c in rows]
    assert names == sorted(names)
    assert api.get("/service/tickets", params={"orderBy": "nosuch asc"}).status_code == 400
    rows = api.get("/service/tickets", params={"fields": "id,summary,status/name,_info/lastUpdated",
                                               "pageSize": 5}).json()
    assert all(set(t) == {"id", "summary", "status", "_info"} and set(t["status"]) == {"name"}
               and set(t["_info"]) == {"lastUpdated"} for t in rows)
    one = api.get("/service/tickets/3", params={"fields": "id,board/id"}).json()
    assert one == {"id": 3, "board": {"id": one["board"]["id"]}}
    assert api.get("/service/tickets", params={"fields": "id,nosuch"}).status_code == 400
    assert api.get("/service/tickets/count").json() == {"count": 2500}
    n1 = api.get("/service/tickets/count", params={"conditions": "board/id = 1"}).json()["count"]
    n2 = api.get("/service/tickets/count", params={"conditions": "board/id != 1"}).json()["count"]
    assert n1 + n2 == 2500 and n1 > 0
    # childConditions / customFieldConditions are honoured (any element matches)
    contacts = api.get("/company/contacts", params={
        "childConditions": 'communicationItems/communicationType = "Email"', "pageSize": 5}).json()
    assert len(contacts) == 5
    vip = api.get("/company/companies", params={"customFieldConditions": 'caption = "VIP" and value = true',
                                                "pageSize": 1000}).json()
    assert all(any(cf.get("caption") == "VIP" and cf.get("value") is True for cf in c["customFields"]) for c in vip)


# ----------------------------------------------------------------------------- scale & determinism
def test_hundred_thousand_tickets_lazy_and_fast():
    import psutil

    proc = psutil.Process()
    server = ConnectWiseSandbox(seed=7, sizes={"/service/tickets": 100_000}).start()
    try:
        rss_before = proc.memory_info().rss
        s = requests.Session()
        s.headers.update(HEADERS)
        t0 = time.perf_counter()
        r = s.get(server.api_url + "/service/tickets", params={"pageSize": 1000})
        first_page = time.perf_counter() - t0
        assert r.status_code == 200 and len(r.json()) == 1000
        assert first_page < 2.0
        assert links(r)["last"].endswith("page=100")
        assert s.get(server.api_url + "/service/tickets/count").json() == {"count": 100_000}
        deep = s.get(server.api_url + "/service/tickets", params={"pageSize": 1000, "page": 100})
        assert [t["id"] for t in deep.json()][-1] == 100_000 and "next" not in links(deep)
        # warm page from the encoded-record cache
        warm = []
        for _ in range(3):
            s.get(server.api_url + "/service/tickets", params={"pageSize": 1000, "page": 100})
            warm.append(server.request_log(1)[0]["duration_ms"])
        assert min(warm) < 50, warm
        # incremental window answered without scanning (ids are monotone in lastUpdated)
        t0 = time.perf_counter()
        n = s.get(server.api_url + "/service/tickets/count",
                  params={"conditions": "lastUpdated >= [2024-01-01T00:00:00Z]"}).json()["count"]
        assert 0 < n < 100_000 and time.perf_counter() - t0 < 1.0
        # a million is free to "create"
        server.set_size("/service/tickets", 1_000_000)
        r = s.get(server.api_url + "/service/tickets", params={"pageSize": 1000, "page": 1000})
        assert r.json()[-1]["id"] == 1_000_000
        assert server.materialized_records() <= 10_000
        assert proc.memory_info().rss - rss_before < 300 * 1024 * 1024
    finally:
        server.stop()


def test_same_seed_same_bytes():
    def page(seed):
        server = ConnectWiseSandbox(seed=seed, sizes={"/service/tickets": 300}).start()
        try:
            body = requests.get(server.api_url + "/service/tickets", params={"pageSize": 300},
                                headers=HEADERS).content
            notes = requests.get(server.api_url + "/service/tickets/9/notes", headers=HEADERS).content
            return (body + notes).replace(server.url.encode(), b"http://HOST")
        finally:
            server.stop()

    a, b, c = page(11), page(11), page(12)
    assert a == b
    assert a != c


# ----------------------------------------------------------------------------- writes
def test_post_put_patch_delete(sb, api):
    before = sb.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    r = api.post("/service/tickets", json={"summary": "Created by test", "company": {"id": 3}, "board": {"id": 1}})
    assert r.status_code == 201, r.text
    created = r.json()
    tid = created["id"]
    assert tid == 2501 and created["company"]["identifier"] and created["_info"]["lastUpdated"] >= before
    assert api.get(f"/service/tickets/{tid}").json()["summary"] == "Created by test"
    assert api.get("/service/tickets/count").json() == {"count": 2501}
    got = api.get("/service/tickets", params={"conditions": f"lastUpdated >= [{before}]"}).json()
    assert [t["id"] for t in got] == [tid]

    r = api.post("/service/tickets", json={"summary": "no company"})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "InvalidObject" and body["message"] == "ticket object is invalid"
    assert body["errors"][0]["field"] == "company" and "Required" in body["errors"][0]["code"]
    r = api.post("/service/tickets", json={"summary": "x" * 101, "company": {"id": 1}})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "MaxLengthField"
    r = api.post("/service/tickets", json={"summary": "x", "company": {"id": 99999}})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "company/id"
    r = api.post("/service/tickets", json={"summary": "x", "company": {"id": 1}, "enteredBy": "me"})
    assert r.status_code == 400 and "enteredBy" in r.json()["message"]
    not_json = api.post("/service/tickets", data="not json", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400

    r = api.put(f"/service/tickets/{tid}", json={"summary": "Replaced", "company": {"id": 4},
                                                 "severity": "Low", "impact": "Low"})
    assert r.status_code == 200 and r.json()["summary"] == "Replaced" and "board" not in r.json()
    assert api.put(f"/service/tickets/{tid}", json={"summary": "Replaced", "company": {"id": 4}}).status_code == 400

    r = api.patch("/service/tickets/5", json=[{"op": "replace", "path": "summary", "value": "Patched"},
                                              {"op": "replace", "path": "/budgetHours", "value": 3.5},
                                              {"op": "replace", "path": "company", "value": {"id": 2}}])
    assert r.status_code == 200, r.text
    patched = r.json()
    assert patched["summary"] == "Patched" and patched["budgetHours"] == 3.5 and patched["company"]["id"] == 2
    assert patched["_info"]["lastUpdated"] >= before
    assert api.patch("/service/tickets/5", json={"op": "replace", "path": "summary", "value": "x"}).status_code == 400
    assert api.patch("/service/tickets/5", json=[{"op": "move", "path": "summary"}]).status_code == 400
    assert api.patch("/service/tickets/5", json=[{"op": "replace", "path": "Summary", "value": "x"}]).status_code == 400
    # nested path: the vendor's "false 200" — nothing changes
    r = api.patch("/service/tickets/5", json=[{"op": "replace", "path": "company/identifier", "value": "X"}])
    assert r.status_code == 200 and r.json()["company"]["id"] == 2
    missing = api.patch("/service/tickets/999999", json=[{"op": "replace", "path": "summary", "value": "x"}])
    assert missing.status_code == 404

    assert api.delete(f"/service/tickets/{tid}").status_code == 204
    assert api.get(f"/service/tickets/{tid}").status_code == 404
    assert api.delete(f"/service/tickets/{tid}").status_code == 404
    assert api.get("/service/tickets/count").json() == {"count": 2500}
    assert api.delete("/service/tickets/count").status_code == 405


def test_note_touches_ticket(sb, api):
    sb.clock.set(dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc), frozen=True)
    try:
        r = api.post("/service/tickets/12/notes", json={"text": "hello", "detailDescriptionFlag": True})
        assert r.status_code == 201, r.text
        assert r.json()["ticketId"] == 12
        assert r.json()["_info"]["lastUpdated"] == "2026-03-01T00:00:00Z"
        assert api.get("/service/tickets/12").json()["_info"]["lastUpdated"] == "2026-03-01T00:00:00Z"
        assert api.get("/service/tickets/12/notes/count").json() == {"count": 4}
        assert api.post("/service/tickets/999999/notes", json={"text": "x"}).status_code == 404
    finally:
        sb.clock.unfreeze()
        sb.clock.set(dt.datetime.now(dt.timezone.utc))


def test_helpers(sb, api):
    sb.clock.set("2026-05-01T12:00:00Z", frozen=True)
    try:
        touched = sb.touch("/service/tickets", [3, 4])
        assert [t["_info"]["lastUpdated"] for t in touched] == ["2026-05-01T12:00:00Z"] * 2
        rows = api.get("/service/tickets", params={"conditions": "lastUpdated > [2026-01-01T00:00:00Z]"}).json()
        assert [t["id"] for t in rows] == [3, 4]
        assert rows[0]["summary"] == touched[0]["summary"]
        new = sb.create("/company/companies", {"identifier": "NewCo", "name": "New Co"})
        assert api.get(f"/company/companies/{new['id']}").json()["name"] == "New Co"
        assert sb.count("/company/companies") == 51
        assert sb.delete("/company/companies", new["id"]) and sb.count("/company/companies") == 50
        assert sb.count("/service/tickets/5/notes") == 3
    finally:
        sb.clock.unfreeze()


# ----------------------------------------------------------------------------- faults, limits, control plane
def test_faults(sb, api):
    sb.faults.add(status=503, count=2, path_prefix="/service/tickets")
    assert api.get("/service/boards").status_code == 200  # other prefix untouched
    assert [api.get("/service/tickets").status_code for _ in range(3)] == [503, 503, 200]
    sb.faults.drop(count=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(sb.api_url + "/service/tickets", headers=HEADERS, timeout=5)
    assert api.get("/service/tickets").status_code == 200
    sb.faults.latency(0.2)
    t0 = time.perf_counter()
    assert api.get("/system/info").status_code == 200
    assert time.perf_counter() - t0 >= 0.2
    sb.faults.latency(0)
    st = sb.stats()
    assert st["by_status"].get("503") == 2 and st["dropped"] == 1 and st["faults_injected"] == 3


def test_rate_limit(sb, api):
    sb.rate_limit(3, per_seconds=60)
    codes = [api.get("/system/info").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = api.get("/system/info")
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.json()["error"] == "ConnectWiseAPI" and "Too many requests" in r.json()["message"]
    sb.rate_limit(1, per_seconds=30, retry_after_format="http-date")
    api.get("/system/info")
    r = api.get("/system/info")
    assert r.status_code == 429
    when = email.utils.parsedate_to_datetime(r.headers["Retry-After"])
    assert when > sb.clock.now() - dt.timedelta(seconds=1)
    sb.rate_limit(None)
    assert api.get("/system/info").status_code == 200


def test_stats_and_control_plane(sb, api):
    api.get("/service/tickets")
    api.get("/service/tickets/3")
    requests.get(sb.api_url + "/service/tickets", headers={"clientId": CLIENT_ID})
    st = requests.get(sb.url + "/__sandbox/stats").json()
    assert st["total"] == 3 and st["data_requests"] == 2
    assert st["by_route"]["GET /service/tickets"] == 2 and st["by_route"]["GET /service/tickets/{id}"] == 1
    log = sb.request_log()
    assert log[-1]["headers"]["clientId"] == CLIENT_ID and "Authorization" not in log[-1]["headers"]
    assert log[0]["headers"]["Authorization"] == "Basic ***"
    assert requests.post(sb.url + "/__sandbox/faults", json={"status": 500, "count": 1}).status_code == 200
    assert api.get("/system/info").status_code == 500
    requests.post(sb.url + "/__sandbox/rate-limit", json={"requests": 1, "per_seconds": 60})
    api.get("/system/info")
    assert api.get("/system/info").status_code == 429
    requests.post(sb.url + "/__sandbox/reset", json={})
    assert sb.stats()["total"] == 0 and api.get("/system/info").status_code == 200
    r = requests.post(sb.url + "/__sandbox/clock", json={"set": "2030-01-01T00:00:00Z", "frozen": True}).json()
    assert r["now"] == "2030-01-01T00:00:00Z"
    requests.post(sb.url + "/__sandbox/clock", json={"advance": 60})
    assert sb.clock.now().strftime("%H:%M") == "00:01"
    sb.clock.unfreeze()
    sb.clock.set(dt.datetime.now(dt.timezone.utc))
    requests.post(sb.url + "/__sandbox/connectwise/touch", json={"path": "/service/tickets", "ids": [8]})
    assert api.get("/service/tickets/8").json()["_info"]["lastUpdated"] > "2025-06-01"


def test_cli_ready_line_and_sigterm():
    env = {**os.environ, "CW_SANDBOX_PRIVATE_KEY": "env-secret"}
    proc = subprocess.Popen([sys.executable, "-m", "connector_sandbox", "connectwise", "--port", "0",
                             "--size", "/service/tickets=1234", "--rate-limit", "1000/60"],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:")
        url = line.split()[1]
        headers = {**HEADERS, "Authorization": auth_header(private="env-secret")}
        r = requests.get(url + "/v2025_1/apis/3.0/service/tickets/count", headers=headers, timeout=10)
        assert r.json() == {"count": 1234}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
