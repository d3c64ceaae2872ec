"""Contract tests for the Exact Online emulator (plain ``requests`` against a real server on port 0).

Contract: shared/vendors/connectwise-exactonline.md §2.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

import pytest
import requests

from connector_sandbox.exactonline import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, ExactOnlineSandbox

DIV = 100001
ACCOUNTS_FILTER = "Created ge datetime'2000-01-01'"  # Created satisfies Accounts' mandatory filter
BULK_MESSAGE = "Please add a $select or a $top=1 statement to the query string."


@pytest.fixture(scope="module")
def sb():
    server = ExactOnlineSandbox(seed=7, sizes={"crm/Accounts": 150, "crm/Opportunities": 150,
                                               "financial/TransactionLines": 2500}).start()
    server.clock.freeze()  # budget windows are aligned to whole minutes: no real-time boundary mid-test
    yield server
    server.stop()


class Api:
    def __init__(self, sb: ExactOnlineSandbox, token: str) -> None:
        self.sb = sb
        self.s = requests.Session()
        self.s.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})

    def url(self, path: str, division: int | None = DIV) -> str:
        return f"{self.sb.api_url}/{division}/{path}" if division is not None else f"{self.sb.api_url}/{path}"

    def get(self, path: str, division: int | None = DIV, **kw) -> requests.Response:
        return self.s.get(self.url(path, division), **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return self.s.post(self.url(path), **kw)

    def put(self, path: str, **kw) -> requests.Response:
        return self.s.put(self.url(path), **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.s.delete(self.url(path), **kw)


@pytest.fixture()
def api(sb):
    sb.reset_data()
    sb.reset_limits()
    sb.set_limits(minutely=60, daily=5000, empty_429_body=False, headers_on_429="hit")
    sb.faults.clear()
    sb.reset_stats()
    a = Api(sb, sb.issue_tokens()["access_token"])
    yield a
    a.s.close()


def error_value(resp: requests.Response) -> str:
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert set(body["error"]["message"]) == {"lang", "value"}
    return body["error"]["message"]["value"]


def date_ms(value: str) -> int:
    m = re.fullmatch(r"/Date\((-?\d+)\)/", value)
    assert m, value
    return int(m.group(1))


def follow(api: Api, url: str) -> tuple[list[dict], int]:
    rows, pages = [], 0
    while url:
        r = api.s.get(url)
        assert r.status_code == 200, r.text
        d = r.json()["d"]
        rows += d["results"]
        pages += 1
        url = d.get("__next")
    return rows, pages


# ----------------------------------------------------------------------------- OAuth
def _consent(sb: ExactOnlineSandbox, redirect: str = "http://127.0.0.1:8765/callback") -> str:
    r = requests.get(sb.auth_url, params={"client_id": DEFAULT_CLIENT_ID, "redirect_uri": redirect,
                                         "response_type": "code", "state": "xyz", "force_login": "0"},
                     allow_redirects=False)
    assert r.status_code == 302, r.text
    loc = urllib.parse.urlsplit(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == redirect
    q = urllib.parse.parse_qs(loc.query)
    assert q["state"] == ["xyz"]
    assert "%21" in loc.query and "!" in q["code"][0]  # codes must be URL-decoded by clients
    return q["code"][0]


def _token(sb: ExactOnlineSandbox, **form) -> requests.Response:
    return requests.post(sb.token_url, data={"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
                                             **form})


def test_oauth_code_flow_rotation_and_old_token(sb):
    redirect = "http://127.0.0.1:8765/callback"
    code = _consent(sb, redirect)
    r = _token(sb, grant_type="authorization_code", code=code, redirect_uri=redirect)
    assert r.status_code == 200, r.text
    t1 = r.json()
    assert t1["token_type"] == "bearer" and t1["expires_in"] == "600"  # a string, as Exact sends it
    # codes are single use
    again = _token(sb, grant_type="authorization_code", code=code, redirect_uri=redirect)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # wrong client secret
    bad = requests.post(sb.token_url, data={"grant_type": "refresh_token", "refresh_token": t1["refresh_token"],
                                            "client_id": DEFAULT_CLIENT_ID, "client_secret": "nope"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"
    me = requests.get(f"{sb.api_url}/current/Me", headers={"Authorization": f"Bearer {t1['access_token']}",
                                                           "Accept": "application/json"})
    assert me.status_code == 200
    before = sb.stats()["exactonline"]["refreshes"]
    # too early: < 570 s after the access token was issued
    sb.clock.advance(300)
    early = _token(sb, grant_type="refresh_token", refresh_token=t1["refresh_token"])
    assert early.status_code == 400
    assert early.json() == {"error": "access_denied",
                            "error_description": "Rate limit exceeded: access_token not expired"}
    assert early.headers["Reason"].startswith("TooEarlyToRefreshTokens")
    # 571 s after issue: allowed, and the refresh token rotates
    sb.clock.advance(271)
    r2 = _token(sb, grant_type="refresh_token", refresh_token=t1["refresh_token"])
    assert r2.status_code == 200, r2.text
    t2 = r2.json()
    assert t2["refresh_token"] != t1["refresh_token"] and t2["access_token"] != t1["access_token"]
    assert sb.stats()["exactonline"]["refreshes"] == before + 1
    # the old refresh token is dead: 401 unauthorized_client, and (conservative reading) the chain too
    old = _token(sb, grant_type="refresh_token", refresh_token=t1["refresh_token"])
    assert old.status_code == 401
    assert old.json() == {"error": "unauthorized_client", "error_description": "Old refresh token used."}
    sb.clock.advance(600)
    revoked = _token(sb, grant_type="refresh_token", refresh_token=t2["refresh_token"])
    assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"
    gone = requests.get(f"{sb.api_url}/current/Me", headers={"Authorization": f"Bearer {t2['access_token']}",
                                                             "Accept": "application/json"})
    assert gone.status_code == 401


def test_oauth_redirect_and_form_checks(sb):
    code = _consent(sb, "http://127.0.0.1:9999/cb")
    wrong_redirect = _token(sb, grant_type="authorization_code", code=code, redirect_uri="http://127.0.0.1:1/x")
    assert wrong_redirect.status_code == 400 and wrong_redirect.json()["error"] == "invalid_grant"
    as_json = requests.post(sb.token_url, json={"grant_type": "refresh_token", "client_id": DEFAULT_CLIENT_ID,
                                                "client_secret": DEFAULT_CLIENT_SECRET, "refresh_token": "x"})
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    unknown_client = requests.get(sb.auth_url, params={"client_id": "nope", "redirect_uri": "http://x/cb",
                                                       "response_type": "code"}, allow_redirects=False)
    assert unknown_client.status_code == 400
    # a code expires after 3 minutes
    code = _consent(sb, "http://127.0.0.1:9999/cb")
    sb.clock.advance(181)
    late = _token(sb, grant_type="authorization_code", code=code, redirect_uri="http://127.0.0.1:9999/cb")
    assert late.status_code == 400


def test_expired_and_missing_access_token(sb, api):
    assert requests.get(f"{sb.api_url}/current/Me", headers={"Accept": "application/json"}).status_code == 401
    bogus = requests.get(f"{sb.api_url}/current/Me", headers={"Authorization": "Bearer nope",
                                                              "Accept": "application/json"})
    assert bogus.status_code == 401 and "expired" not in bogus.headers["WWW-Authenticate"]
    assert api.get("current/Me", division=None).status_code == 200
    sb.clock.advance(601)
    r = api.get("current/Me", division=None)
    assert r.status_code == 401
    assert "expired" in r.headers["WWW-Authenticate"]
    assert error_value(r)


# ----------------------------------------------------------------------------- divisions & format
def test_me_and_divisions(sb, api):
    r = api.get("current/Me", division=None, params={"$select": "CurrentDivision,UserID"})
    assert r.status_code == 200
    me = r.json()["d"]["results"]
    assert len(me) == 1 and me[0]["CurrentDivision"] == DIV and re.fullmatch(r"[0-9a-f-]{36}", me[0]["UserID"])
    assert set(me[0]) == {"__metadata", "CurrentDivision", "UserID"}
    divs = api.get("system/Divisions").json()["d"]["results"]
    assert [d["Code"] for d in divs] == [100001, 100002, 100003]
    assert [d["Current"] for d in divs] == [True, False, False]
    # the {division} of system/Divisions is not validated (Exact support, picqer #470)
    assert api.get("system/Divisions", division=123).status_code == 200
    all_divs = api.get("system/AllDivisions").json()["d"]["results"]
    assert 100009 in [d["Code"] for d in all_divs]
    for div in (100009, 5):
        r = api.get("crm/Accounts", division=div, params={"$filter": ACCOUNTS_FILTER})
        assert r.status_code == 403 and r.headers["Reason"] == "NoDivisionAccess"
    # each division has its own data
    a = api.get("crm/Accounts", params={"$filter": ACCOUNTS_FILTER, "$top": "1", "$select": "ID,Name"})
    b = api.get("crm/Accounts", division=100002, params={"$filter": ACCOUNTS_FILTER, "$top": "1", "$select": "ID,Name"})
    assert a.json()["d"]["results"][0]["ID"] != b.json()["d"]["results"][0]["ID"]


def test_accept_header(sb, api):
    params = {"$filter": ACCOUNTS_FILTER, "$top": "2", "$select": "ID,Name"}
    atom = requests.get(api.url("crm/Accounts"), headers={"Authorization": api.s.headers["Authorization"]},
                        params=params)
    assert atom.status_code == 200 and atom.headers["Content-Type"].startswith("application/atom+xml")
    assert atom.text.count("<entry>") == 2 and "<m:properties>" in atom.text
    xml = requests.get(api.url("crm/Accounts"), params=params,
                       headers={"Authorization": api.s.headers["Authorization"], "Accept": "application/xml"})
    assert xml.status_code == 406
    assert api.get("crm/Accounts", params=params).headers["Content-Type"].startswith("application/json")


# ----------------------------------------------------------------------------- pagination
def test_regular_pages_of_60_with_next(sb, api):
    r = api.get("crm/Accounts", params={"$filter": ACCOUNTS_FILTER, "$select": "ID,Code,Name"})
    assert r.status_code == 200, r.text
    d = r.json()["d"]
    assert len(d["results"]) == 60
    nxt = d["__next"]
    assert nxt.startswith(sb.api_url + f"/{DIV}/crm/Accounts?")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(nxt).query)
    assert q["$skiptoken"] == [f"guid'{d['results'][-1]['ID']}'"]
    assert q["$filter"] == [ACCOUNTS_FILTER] and q["$select"] == ["ID,Code,Name"]
    rows, pages = follow(api, r.url)
    assert pages == 3 and len(rows) == 150
    assert len({x["ID"] for x in rows}) == 150
    assert [x["Code"] for x in rows[:2]] == [f"{1:>18}", f"{2:>18}"]  # 18 chars, leading spaces
    # $top larger than a page: the next link carries the rest of $top
    t = api.get("crm/Accounts", params={"$filter": ACCOUNTS_FILTER, "$select": "ID", "$top": "70"}).json()["d"]
    assert len(t["results"]) == 60
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(t["__next"]).query)["$top"] == ["10"]
    rest = api.s.get(t["__next"]).json()["d"]
    assert len(rest["results"]) == 10 and "__next" not in rest
    # count
    c = api.get("crm/Accounts", params={"$filter": ACCOUNTS_FILTER, "$select": "ID", "$inlinecount": "allpages"})
    assert c.json()["d"]["__count"] == "150"
    assert api.get("crm/Accounts/$count", params={"$filter": ACCOUNTS_FILTER}).text == "150"


def test_mandatory_filter_and_bad_queries(api):
    r = api.get("crm/Accounts", params={"$select": "ID"})
    assert r.status_code == 400
    assert error_value(r).startswith("A GET request for this endpoint must have a $filter parameter")
    # Modified is not among the documented Accounts filter fields
    r = api.get("crm/Accounts", params={"$filter": "Modified gt datetime'2020-01-01'"})
    assert r.status_code == 400
    assert api.get("crm/Accounts", params={"$filter": "Name eq 'x'"}).status_code == 200
    assert api.get("crm/Opportunities").status_code == 200  # no sync API: no mandatory filter
    for bad in ("Modified gt '2020-01-01'", "Nope eq 1", "Name eq Code", "Modified gt", "ID eq 'abc'"):
        r = api.get("crm/Opportunities", params={"$filter": bad})
        assert r.status_code == 400, bad
        assert error_value(r)
    assert api.get("crm/Opportunities", params={"$select": "ID,Nope"}).status_code == 400
    assert api.get("crm/Opportunities", params={"$format": "json"}).status_code == 400
    assert api.get("crm/NoSuchThing").status_code == 404


def test_modified_filter_gt_and_ge(api):
    rows, _ = follow(api, api.url("crm/Opportunities") + "?$select=ID,Modified")
    assert len(rows) == 150
    mods = [date_ms(x["Modified"]) for x in rows]
    pivot = sorted(mods)[100]
    literal = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(pivot / 1000)) + f".{pivot % 1000:03d}"
    gt, _ = follow(api, api.url("crm/Opportunities") + "?" + urllib.parse.urlencode(
        {"$select": "ID,Modified", "$filter": f"Modified gt datetime'{literal}'"}))
    ge, _ = follow(api, api.url("crm/Opportunities") + "?" + urllib.parse.urlencode(
        {"$select": "ID,Modified", "$filter": f"Modified ge datetime'{literal}'"}))
    assert {x["ID"] for x in gt} == {x["ID"] for x, m in zip(rows, mods) if m > pivot}
    assert {x["ID"] for x in ge} == {x["ID"] for x, m in zip(rows, mods) if m >= pivot}
    assert len(ge) == len(gt) + 1
    # $orderby Modified desc + paging
    desc, pages = follow(api, api.url("crm/Opportunities") + "?" + urllib.parse.urlencode(
        {"$select": "ID,Modified", "$orderby": "Modified desc"}))
    assert pages == 3 and [date_ms(x["Modified"]) for x in desc] == sorted(mods, reverse=True)


# ----------------------------------------------------------------------------- sync & bulk
def test_sync_pages_timestamps_and_touch(sb, api):
    params = {"$select": "ID,Timestamp,Modified,Description,AmountDC", "$filter": "Timestamp gt 1L"}
    r = api.get("sync/Financial/TransactionLines", params=params)
    assert r.status_code == 200, r.text
    d = r.json()["d"]
    assert len(d["results"]) == 1000
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(d["__next"]).query)["$skiptoken"] == [
        f"{d['results'][-1]['Timestamp']}L"]
    rows, pages = follow(api, r.url)
    assert pages == 3 and [len(rows)] == [2500]
    ts = [x["Timestamp"] for x in rows]
    assert ts == sorted(ts) and len(set(ts)) == 2500
    high = ts[-1]
    assert api.get("sync/Financial/TransactionLines", params={**params, "$filter": f"Timestamp gt {high}L"}
                   ).json()["d"]["results"] == []
    # change three rows: they come back after the high-water mark with higher Timestamps
    keys = [rows[5]["ID"], rows[1700]["ID"], rows[42]["ID"]]
    sb.clock.advance(5)
    sb.touch("financialtransaction/TransactionLines", keys, division=DIV)
    delta = api.get("sync/Financial/TransactionLines", params={**params, "$filter": f"Timestamp gt {high}L"}
                    ).json()["d"]["results"]
    assert [x["ID"] for x in delta] == keys
    assert all(x["Timestamp"] > high for x in delta) and [x["Timestamp"] for x in delta] == sorted(
        x["Timestamp"] for x in delta)
    assert all(date_ms(x["Modified"]) > date_ms(rows[-1]["Modified"]) for x in delta)
    assert delta[0]["Description"] == rows[5]["Description"] + " *"
    again, _ = follow(api, r.url)
    assert len(again) == 2500 and [x["ID"] for x in again[-3:]] == keys


def test_sync_requires_select_and_line_level_view(api):
    r = api.get("sync/Financial/TransactionLines", params={"$filter": "Timestamp gt 1L"})
    assert r.status_code == 400 and error_value(r) == BULK_MESSAGE
    r = api.get("sync/SalesInvoice/SalesInvoices", params={
        "$select": "Timestamp,ID,InvoiceID,InvoiceNumber,LineNumber,ItemCode,OrderedByName"})
    lines = r.json()["d"]["results"]
    assert lines and lines[0]["InvoiceNumber"] and lines[0]["OrderedByName"] and lines[0]["LineNumber"] == 1
    headers = {x["InvoiceID"] for x in lines}
    assert len(lines) == 3 * len(headers)  # one row per line, header values on every line


def test_bulk_requires_select(api):
    r = api.get("bulk/Financial/TransactionLines", params={"$filter": "Modified gt datetime'2019-01-01'"})
    assert r.status_code == 400 and error_value(r) == BULK_MESSAGE
    top1 = api.get("bulk/Financial/TransactionLines",
                   params={"$top": "1", "$filter": "Modified gt datetime'2019-01-01'"})
    assert top1.status_code == 200 and len(top1.json()["d"]["results"]) == 1
    ok = api.get("bulk/Financial/TransactionLines", params={"$select": "ID,AmountDC",
                                                            "$filter": "Modified gt datetime'2019-01-01'"})
    assert ok.status_code == 200 and len(ok.json()["d"]["results"]) == 1000 and ok.json()["d"]["__next"]
    # mandatory filter on bulk too
    nofilter = api.get("bulk/Financial/TransactionLines", params={"$select": "ID"})
    assert nofilter.status_code == 400 and "$filter" in error_value(nofilter)


# ----------------------------------------------------------------------------- rate limits
def test_rate_limit_headers_and_minutely_429(sb, api):
    r = api.get("crm/Opportunities", params={"$top": "1"})
    h = r.headers
    assert h["X-RateLimit-Limit"] == "5000" and h["X-RateLimit-Remaining"] == "4999"
    assert h["X-RateLimit-Minutely-Limit"] == "60" and h["X-RateLimit-Minutely-Remaining"] == "59"
    now_ms = sb.clock.timestamp() * 1000
    m_reset, d_reset = int(h["X-RateLimit-Minutely-Reset"]), int(h["X-RateLimit-Reset"])
    assert m_reset % 60_000 == 0 and 0 < m_reset - now_ms <= 60_000  # epoch MILLISECONDS
    assert d_reset % 86_400_000 == 0 and 0 < d_reset - now_ms <= 86_400_000
    sb.reset_limits()
    sb.set_limits(minutely=3)
    for _ in range(3):
        assert api.get("crm/Opportunities", params={"$top": "1"}).status_code == 200
    r = api.get("crm/Opportunities", params={"$top": "1"})
    assert r.status_code == 429
    assert r.headers["X-RateLimit-Minutely-Remaining"] == "0" and "X-RateLimit-Minutely-Reset" in r.headers
    assert not any(k in r.headers for k in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"))
    assert "Retry-After" not in r.headers
    assert error_value(r)
    # another division has its own budget
    assert api.get("crm/Opportunities", division=100002, params={"$top": "1"}).status_code == 200
    # the next minute resets it
    sb.clock.advance(61)
    assert api.get("crm/Opportunities", params={"$top": "1"}).status_code == 200
    assert sb.stats()["exactonline"]["rate_limited_minutely"] == 1


def test_daily_429_and_empty_body_mode(sb, api):
    sb.set_limits(minutely=None, daily=2, empty_429_body=True)
    assert api.get("crm/Opportunities", params={"$top": "1"}).status_code == 200
    assert api.get("crm/Opportunities", params={"$top": "1"}).status_code == 200
    r = api.get("crm/Opportunities", params={"$top": "1"})
    assert r.status_code == 429 and r.content == b""
    assert r.headers["X-RateLimit-Remaining"] == "0" and "X-RateLimit-Minutely-Limit" not in r.headers
    sb.set_limits(headers_on_429="none")
    r = api.get("crm/Opportunities", params={"$top": "1"})
    assert r.status_code == 429 and not any(k.startswith("X-RateLimit") for k in r.headers)


def test_error_block_after_ten_errors(sb, api):
    missing = "crm/Opportunities(guid'00000000-0000-4000-8000-000000000000')"
    for _ in range(10):
        assert api.get(missing).status_code == 404
    r = api.get("crm/Opportunities", params={"$top": "1"})
    assert r.status_code == 429 and "blocked" in error_value(r)
    assert api.get("crm/Contacts", params={"$filter": "Code eq '1'"}).status_code == 200  # other endpoint
    sb.clock.advance(3601)
    api.s.headers["Authorization"] = "Bearer " + sb.issue_tokens()["access_token"]  # the old one expired
    assert api.get("crm/Opportunities", params={"$top": "1"}).status_code == 200


# ----------------------------------------------------------------------------- writes
def test_post_sparse_and_representation(sb, api):
    r = api.post("crm/Accounts", json={"Name": "Sandbox Test B.V.", "City": "Delft"})
    assert r.status_code == 201, r.text
    d = r.json()["d"]
    assert re.fullmatch(r"[0-9a-f-]{36}", d["ID"]) and d["Name"] == "Sandbox Test B.V."
    assert d["Created"] is None and d["Code"] is None  # sparse answer without Prefer
    r = api.post("crm/Accounts", json={"Name": "Full B.V."}, headers={"Prefer": "return=representation"})
    full = r.json()["d"]
    assert r.status_code == 201 and full["Code"] == f"{152:>18}" and full["Division"] == DIV
    assert date_ms(full["Created"]) == date_ms(full["Modified"])
    got = api.get(f"crm/Accounts(guid'{full['ID']}')").json()["d"]
    assert got["Name"] == "Full B.V." and got["Code"] == full["Code"]
    # the new row is visible to sync with a new Timestamp
    sync = api.get("sync/CRM/Accounts", params={"$select": "ID,Timestamp", "$filter": "Timestamp gt 99999999999L"})
    assert [x["ID"] for x in sync.json()["d"]["results"]] == [d["ID"], full["ID"]]


def test_post_header_with_lines(sb, api):
    acc = sb.key_of("crm/Accounts", 3)
    item1, item2 = sb.key_of("logistics/Items", 1), sb.key_of("logistics/Items", 2)
    price1 = sb.get("logistics/Items", item1)["StandardSalesPrice"]
    r = api.post("salesinvoice/SalesInvoices", headers={"Prefer": "return=representation"},
                 json={"OrderedBy": acc, "Description": "API invoice",
                       "SalesInvoiceLines": [{"Item": item1, "Quantity": 2}, {"Item": item2, "Quantity": 1,
                                                                              "UnitPrice": 10.0}]})
    assert r.status_code == 201, r.text
    inv = r.json()["d"]
    assert inv["OrderedByName"] == sb.get("crm/Accounts", acc)["Name"]
    assert inv["AmountFCExclVat"] == round(2 * price1 + 10.0, 2)
    lines = api.get(f"salesinvoice/SalesInvoices(guid'{inv['InvoiceID']}')/SalesInvoiceLines").json()["d"]["results"]
    assert [(x["LineNumber"], x["Item"], x["InvoiceID"]) for x in lines] == [
        (1, item1, inv["InvoiceID"]), (2, item2, inv["InvoiceID"])]
    # lines are mandatory, and so is a known Item
    r = api.post("salesinvoice/SalesInvoices", json={"OrderedBy": acc})
    assert r.status_code == 400 and "SalesInvoiceLines" in error_value(r)
    r = api.post("salesinvoice/SalesInvoices", json={"OrderedBy": acc, "SalesInvoiceLines": [
        {"Item": "00000000-0000-4000-8000-000000000000"}]})
    assert r.status_code == 400 and "Item" in error_value(r)


def test_put_delete_405_and_validation(sb, api):
    acc = sb.key_of("crm/Accounts", 10)
    r = api.put(f"crm/Accounts(guid'{acc}')", json={"Name": "Renamed B.V."})
    assert r.status_code == 204 and r.content == b""
    assert api.get(f"crm/Accounts(guid'{acc}')", params={"$select": "Name"}).json()["d"]["Name"] == "Renamed B.V."
    assert api.s.patch(api.url(f"crm/Accounts(guid'{acc}')"), json={"Name": "x"}).status_code == 405
    assert api.put("crm/Accounts", json={"Name": "x"}).status_code == 405
    tl = sb.key_of("financial/TransactionLines", 1)
    assert api.put(f"financialtransaction/TransactionLines(guid'{tl}')", json={"Description": "x"}).status_code == 405
    assert api.post("sync/CRM/Accounts", json={"Name": "x"}).status_code == 405
    for body, needle in (({"City": "Delft"}, "Name"), ({"Name": 5}, "Name"), ({"Name": "x", "Nope": 1}, "Nope"),
                         ({"Name": "x", "Blocked": "yes"}, "Blocked"), ({"Name": "x", "Created": "2020-01-01"}, None)):
        r = api.post("crm/Accounts", json=body)
        if needle is None:
            assert r.status_code == 201  # read-only properties are ignored
        else:
            assert r.status_code == 400 and needle in error_value(r), body
    assert api.post("crm/Accounts", data="{", headers={"Content-Type": "application/json"}).status_code == 400
    assert api.put(f"crm/Accounts(guid'{acc}')", json={"Name": ""}).status_code == 400
    assert api.get("crm/Accounts(1)").status_code == 400  # wrong key type
    # delete: 204 with an empty body, then 404
    r = api.delete(f"crm/Accounts(guid'{acc}')")
    assert r.status_code == 204 and r.content == b""
    assert api.get(f"crm/Accounts(guid'{acc}')").status_code == 404
    assert api.delete(f"crm/Accounts(guid'{acc}')").status_code == 404


def test_deleted_stream(sb, api):
    acc = sb.key_of("crm/Accounts", 20)
    inv = sb.key_of("salesinvoice/SalesInvoices", 2)
    sb.delete("crm/Accounts", acc, division=DIV)
    assert api.delete(f"salesinvoice/SalesInvoices(guid'{inv}')").status_code == 204
    rows = api.get("sync/Deleted", params={"$select": "Timestamp,EntityType,EntityKey,DeletedDate,Division",
                                           "$filter": "Timestamp gt 1L"}).json()["d"]["results"]
    assert (2, acc) == (rows[0]["EntityType"], rows[0]["EntityKey"])
    # the invoice's three lines (sync/SalesInvoice/SalesInvoices rows are lines, entity type 13)
    assert [r["EntityType"] for r in rows[1:]] == [13, 13, 13]
    assert all(r["Division"] == DIV and date_ms(r["DeletedDate"]) for r in rows)
    ts = [r["Timestamp"] for r in rows]
    assert ts == sorted(ts)
    later = api.get("sync/Deleted", params={"$select": "EntityKey", "$filter": f"Timestamp gt {ts[0]}L"})
    assert len(later.json()["d"]["results"]) == 3
    assert api.get(f"salesinvoice/SalesInvoices(guid'{inv}')/SalesInvoiceLines").status_code == 404


def test_read_only_and_faults(sb, api):
    sb.faults.add(503, count=1, path_prefix="/crm/Opportunities")
    r = api.get("crm/Opportunities", params={"$top": "1"})
    assert r.status_code == 503 and error_value(r)
    assert api.get("crm/Opportunities", params={"$top": "1"}).status_code == 200
    log = sb.request_log(limit=1)[0]
    assert log["headers"]["Authorization"] == "Bearer ***" and log["route"].startswith("GET /api/v1/{division}/")


# ----------------------------------------------------------------------------- scale & determinism
def test_100k_transaction_lines_lazy_fast_deterministic():
    t0 = time.perf_counter()
    a = ExactOnlineSandbox(seed=11, sizes={"financial/TransactionLines": 100_000}, minutely_limit=None).start()
    b = ExactOnlineSandbox(seed=11, sizes={"financial/TransactionLines": 100_000}).start()
    c = ExactOnlineSandbox(seed=12, sizes={"financial/TransactionLines": 100_000}).start()
    try:
        assert time.perf_counter() - t0 < 2.0  # sizes cost nothing up front
        assert a.count("financial/TransactionLines") == 100_000
        pages = []
        for sb in (a, b, c):
            tok = sb.issue_tokens()["access_token"]
            t = time.perf_counter()
            r = requests.get(f"{sb.api_url}/{DIV}/sync/Financial/TransactionLines",
                             params={"$select": "ID,Timestamp,AmountDC,GLAccountCode,AccountName,Date",
                                     "$filter": "Timestamp gt 1L"},
                             headers={"Authorization": f"Bearer {tok}", "Accept": "application/json"})
            elapsed = time.perf_counter() - t
            assert r.status_code == 200 and len(r.json()["d"]["results"]) == 1000
            assert elapsed < 1.0, elapsed
            pages.append([{k: v for k, v in x.items() if k != "__metadata"} for x in r.json()["d"]["results"]])
        assert pages[0] == pages[1] and pages[0] != pages[2]
        assert sum(x["AmountDC"] for x in pages[0]) == pytest.approx(0.0, abs=1e-6)  # balanced entries
        # a deep Modified filter is a binary search, not a scan
        tok = a.issue_tokens()["access_token"]
        t = time.perf_counter()
        r = requests.get(f"{a.api_url}/{DIV}/financialtransaction/TransactionLines",
                         params={"$filter": "Modified gt datetime'2024-12-01'", "$select": "ID,Modified"},
                         headers={"Authorization": f"Bearer {tok}", "Accept": "application/json"})
        assert r.status_code == 200 and len(r.json()["d"]["results"]) == 60
        assert time.perf_counter() - t < 1.0
        assert a.store.materialized_rows() == 0  # memory flat: nothing materialised by reading
    finally:
        for sb in (a, b, c):
            sb.stop()


def test_cli_ready_line_and_tokens_file(tmp_path):
    tokens = tmp_path / "tokens.json"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "connector_sandbox", "exactonline", "--port", "0",
                             "--size", "crm/Accounts=5", "--tokens-file", str(tokens)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:"), line + proc.stderr.read()
        url = line.split(" ", 1)[1]
        tok = json.loads(tokens.read_text())
        r = requests.get(f"{url}/api/v1/current/Me", headers={"Authorization": f"Bearer {tok['access_token']}",
                                                              "Accept": "application/json"})
        assert r.status_code == 200 and r.json()["d"]["results"][0]["CurrentDivision"] == DIV
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_sync_timestamp_function(sb, api):
    rows, _ = follow(api, api.url("sync/Financial/TransactionLines") + "?$select=ID,Timestamp,Modified")
    pivot = rows[1234]
    literal = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(date_ms(pivot["Modified"]) / 1000))
    r = api.get("read/sync/Sync/SyncTimestamp", params={"modified": f"datetime'{literal}'",
                                                         "endPoint": "'TransactionLines'"})
    assert r.status_code == 200, r.text
    ts = r.json()["d"]["results"][0]["TimeStampAsBigInt"]
    # The docs: the Timestamp of "the first record found ... greater than or equal" to the date.
    after = [x for x in rows if x["Timestamp"] >= ts]
    assert after and after[0]["Timestamp"] == ts
    assert all(date_ms(x["Modified"]) >= date_ms(pivot["Modified"]) // 1000 * 1000 for x in after)
    assert all(date_ms(x["Modified"]) < date_ms(pivot["Modified"]) // 1000 * 1000
               for x in rows if x["Timestamp"] < ts)
    assert api.get("read/sync/Sync/SyncTimestamp").status_code == 400
    # Only the 24 endpoints the docs list: CRM/Accounts and Deleted are not among them.
    for endpoint in ("Accounts", "Deleted"):
        refused = api.get("read/sync/Sync/SyncTimestamp",
                          params={"modified": f"datetime'{literal}'", "endPoint": f"'{endpoint}'"})
        assert refused.status_code == 400 and "does not support SyncTimestamp" in refused.text
