"""Contract tests for the SuperOffice CRM Online emulator, as a client sees it over HTTP (``requests``).

Contract: shared/vendors/superoffice-lightspeed-saleslayer.md §1 and the SuperOfficeDocs pages it cites.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
import urllib.parse

import pytest
import requests

from connector_sandbox.cli import build_parser
from connector_sandbox.superoffice import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT, SuperOfficeSandbox
from connector_sandbox.superoffice.cli import SuperOfficeEmulator

REDIRECT = "http://localhost:8765/callback"
NOW = dt.datetime(2026, 3, 2, 12, 0, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def so():
    server = SuperOfficeSandbox(seed=11, sizes={"Contact": 300, "Person": 600, "Sale": 200},
                                requests_per_second=None).start()
    yield server
    server.stop()


@pytest.fixture()
def api(so):
    so.reset_data()
    so.reset_stats()
    so.faults.clear()
    so.move_tenant("online2")
    so.set_state("Running")
    so.clock.set(NOW, frozen=True)
    so.set_size("Contact", 300)
    s = requests.Session()
    s.headers.update({"Authorization": f"Bearer {so.issue_tokens()['access_token']}", "Accept": "application/json"})
    return s


def rows(api, so, path, **params):
    r = api.get(f"{so.rest_url}/{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()["value"]


def error_of(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["Error"] is True and set(body) == {"Error", "ErrorType", "ErrorMessage", "ErrorSource"}
    return body


def claims(id_token):
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# ---------------------------------------------------------------------------------------- auth
def authorize(so, **extra):
    params = {"client_id": DEFAULT_CLIENT_ID, "scope": "openid", "redirect_uri": REDIRECT, "response_type": "code",
              "state": "st8 &=", "acr_values": f"tenant:{DEFAULT_TENANT}", **extra}
    r = requests.get(so.authorize_url, params=params, allow_redirects=False)
    assert r.status_code == 302, r.text
    return urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)


def test_discovery_and_state(so, api):
    doc = requests.get(f"{so.environment_url}/login/.well-known/openid-configuration").json()
    assert doc["token_endpoint"] == so.token_url and doc["authorization_endpoint"] == so.authorize_url
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_post", "client_secret_basic"}
    state = requests.get(so.state_url).json()
    assert state["ContextIdentifier"] == DEFAULT_TENANT and state["State"] == "Running" and state["IsRunning"] is True
    assert state["Api"] == so.api_url and state["Endpoint"] == so.tenant_url and state["ValidUntil"].endswith("Z")
    assert requests.get(f"{so.environment_url}/api/state/Cust99999").json()["State"] == "Unknown"
    version = api.get(so.api_url).json()
    assert version["v1"] == so.rest_url + "/"


def test_authorization_code_flow_with_pkce_and_refresh_without_rotation(so, api):
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    q = authorize(so, code_challenge=challenge, code_challenge_method="S256")
    assert q["state"] == ["st8 &="]
    form = {"grant_type": "authorization_code", "code": q["code"][0], "redirect_uri": REDIRECT,
            "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
    bad = requests.post(so.token_url, data={**form, "code_verifier": "wrong"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    q = authorize(so, code_challenge=challenge, code_challenge_method="S256")
    basic = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    r = requests.post(so.token_url, auth=basic, data={"grant_type": "authorization_code", "code": q["code"][0],
                                                      "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["access_token"].startswith(f"8A:{DEFAULT_TENANT}.")
    assert claims(tokens["id_token"])["http://schemes.superoffice.net/identity/webapi_url"] == so.api_url + "/"
    again = requests.post(so.token_url, auth=basic, data={"grant_type": "authorization_code", "code": q["code"][0],
                                                          "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert again.json()["error"] == "invalid_grant"  # codes are single use
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": DEFAULT_CLIENT_ID,
               "client_secret": DEFAULT_CLIENT_SECRET}
    first = requests.post(so.token_url, data=refresh).json()
    assert "refresh_token" not in first and first["access_token"] != tokens["access_token"] and "id_token" in first
    second = requests.post(so.token_url, data=refresh).json()  # the same refresh token keeps working
    ok = requests.get(f"{so.rest_url}/Contact/1", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert ok.status_code == 200
    assert requests.post(so.token_url, json=refresh).status_code == 400  # form-encoded only
    wrong = requests.post(so.token_url, data={**refresh, "client_secret": "nope"})
    assert wrong.json()["error"] == "invalid_client"


def test_authorize_refuses_bad_scope_tenant_and_expired_codes(so, api):
    assert authorize(so, scope="profile")["error"] == ["invalid_scope"]
    assert authorize(so, acr_values="tenant:Cust99999")["error"] == ["access_denied"]
    q = authorize(so, code_challenge="abc", code_challenge_method="plain")
    so.clock.advance(601)  # codes live 10 minutes
    r = requests.post(so.token_url, data={"grant_type": "authorization_code", "code": q["code"][0],
                                          "redirect_uri": REDIRECT, "client_id": DEFAULT_CLIENT_ID,
                                          "client_secret": DEFAULT_CLIENT_SECRET, "code_verifier": "abc"})
    assert r.json()["error"] == "invalid_grant"


def test_401_missing_unknown_expired_and_revoked(so, api):
    url = f"{so.rest_url}/Contact"
    assert "Bearer" in error_of(requests.get(url), 401)["ErrorMessage"]
    assert requests.get(url).headers["WWW-Authenticate"].startswith("Bearer")
    error_of(requests.get(url, headers={"Authorization": "Bearer 8A:nope"}), 401)
    tokens = so.issue_tokens()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    so.clock.advance(3601)  # expires_in
    assert "expired" in error_of(requests.get(url, headers=headers), 401)["ErrorMessage"]
    fresh = requests.post(so.token_url, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                              "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET})
    headers = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    assert requests.get(url, headers=headers).status_code == 200
    so.expire_access_tokens()
    error_of(requests.get(url, headers=headers), 401)
    so.revoke_consent()
    r = requests.post(so.token_url, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                          "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    error_of(requests.get(url, headers={"SO-AppToken": "wrong", **api.headers}), 401)


def test_421_wrong_subdomain_and_tenant_moves(so, api):
    body = error_of(api.get(f"{so.environment_url}/{DEFAULT_TENANT}/api/v1/Contact"), 421)
    assert "Wrong subdomain" in body["ErrorMessage"]
    old = so.rest_url
    so.move_tenant("app")
    assert "Wrong subdomain" in error_of(api.get(f"{old}/Contact"), 421)["ErrorMessage"]
    assert requests.get(so.state_url).json()["Api"] == so.api_url and "/app/" in so.api_url
    assert api.get(f"{so.rest_url}/Contact").status_code == 200


def test_tenant_offline(so, api):
    so.set_state("OfflineMaintenance")
    state = requests.get(so.state_url).json()
    assert state["State"] == "OfflineMaintenance" and state["IsRunning"] is False
    error_of(api.get(f"{so.rest_url}/Contact"), 503)
    so.set_state("OnlineMaintenance")
    assert api.get(f"{so.rest_url}/Contact").status_code == 200


# ---------------------------------------------------------------------------------------- lists
def test_select_default_and_errors(so, api):
    default = rows(api, so, "Contact", **{"$top": 2})
    assert default[0]["PrimaryKey"] == "1" and default[0]["EntityName"] == "contact"
    assert not any("date" in k.lower() for k in default[0]) and "contactId" in default[0]
    picked = rows(api, so, "Contact", **{"$select": "ContactId, NAME,updatedDate,contactDeleted,category", "$top": 3})
    assert set(picked[0]) == {"PrimaryKey", "EntityName", "contactId", "name", "updatedDate", "contactDeleted",
                              "category"}
    assert isinstance(picked[0]["contactId"], int) and picked[0]["contactDeleted"] is False
    assert dt.datetime.strptime(picked[0]["updatedDate"], "%Y-%m-%dT%H:%M:%S")
    unknown = error_of(api.get(f"{so.rest_url}/Contact", params={"$select": "name,nosuch"}), 400)
    assert "nosuch" in unknown["ErrorMessage"]
    error_of(api.get(f"{so.rest_url}/Contact", params={"$filter": "nosuch eq 1"}), 400)
    error_of(api.get(f"{so.rest_url}/Contact", params={"$filter": "contactId eq"}), 400)
    error_of(api.get(f"{so.rest_url}/Contact", params={"$filter": "updatedDate gt '2024-01-01'"}), 400)
    error_of(api.get(f"{so.rest_url}/Contact", params={"$orderBy": "deletedDate"}), 400)  # not OrderBy-capable
    error_of(api.get(f"{so.rest_url}/Contact", params={"$top": "-1"}), 400)
    error_of(api.get(f"{so.rest_url}/Contact", params={"$frobnicate": "1"}), 400)
    archive = rows(api, so, "Archive/SimpleContact", **{"$select": "contactId", "$top": 1})
    assert archive[0]["contactId"] == 1
    safe = rows(api, so, "Contact", **{"$select": "email/emailAddress", "$jsonSafe": "true", "$top": 1})
    assert "email_emailAddress" in safe[0]
    full = api.get(f"{so.rest_url}/Contact", params={"$select": "name", "$mode": "Full", "$top": 1}).json()["value"][0]
    assert full["PrimaryKey"] == 1 and "RawValue" in full["Column"]["name"]


def test_filters_with_quotes_and_order(so, api):
    everyone = rows(api, so, "Contact", **{"$select": "contactId,name,department", "$top": 1000})
    quoted = next(r for r in everyone if "'" in r["name"])
    literal = quoted["name"].replace("'", "''")
    hits = rows(api, so, "Contact", **{"$select": "contactId,name", "$filter": f"name is '{literal}'"})
    assert quoted["contactId"] in [h["contactId"] for h in hits] and all(h["name"] == quoted["name"] for h in hits)
    word = quoted["name"].split()[0]
    hits = rows(api, so, "Contact", **{"$select": "name", "$filter": f"name contains '{word.lower()}'", "$top": 1000})
    assert hits and all(word.casefold() in h["name"].casefold() for h in hits)
    both = rows(api, so, "Contact", **{"$select": "contactId", "$filter": "contactId between (10, 20) and "
                                       "(department is 'Sales' or department is 'R&D')", "$top": 1000})
    expected = [r["contactId"] for r in everyone if 10 <= r["contactId"] <= 20 and r["department"] in ("Sales", "R&D")]
    assert [r["contactId"] for r in both] == expected
    ordered = rows(api, so, "Contact", **{"$select": "contactId,name", "$orderBy": "name desc", "$top": 1000})
    names = [r["name"].casefold() for r in ordered]
    assert names == sorted(names, reverse=True) and len(ordered) == 300
    desc = rows(api, so, "Contact", **{"$select": "contactId", "$orderBy": "contactId desc", "$top": 3})
    assert [r["contactId"] for r in desc] == [300, 299, 298]


def test_date_columns_compare_by_date_only(so, api):
    everyone = rows(api, so, "Contact", **{"$select": "contactId,updatedDate", "$top": 1000})
    by_day: dict[str, list] = {}
    for r in everyone:
        by_day.setdefault(r["updatedDate"][:10], []).append(r)
    day, same = next((d, rs) for d, rs in by_day.items() if len(rs) >= 2)
    on_day = rows(api, so, "Contact", **{"$select": "contactId", "$filter": f"updatedDate date '{day}'"})
    assert {r["contactId"] for r in on_day} == {r["contactId"] for r in same}
    after = rows(api, so, "Contact", **{"$select": "contactId,updatedDate", "$filter": f"updatedDate after '{day}'",
                                        "$top": 1000})
    assert after and all(r["updatedDate"][:10] > day for r in after)  # 'after' skips the rest of that day
    late = max(r["updatedDate"] for r in same)
    at = rows(api, so, "Contact", **{"$select": "contactId", "$filter": f"updatedDate afterTime '{late}'",
                                     "$top": 1000})
    assert {r["contactId"] for r in same} <= {r["contactId"] for r in at}  # the time part is ignored on a date column
    between = rows(api, so, "Contact", **{"$select": "contactId,updatedDate",
                                          "$filter": f"updatedDate dateBetween ('{day}', '{day}')"})
    assert len(between) == len(same)
    ordered = rows(api, so, "Contact", **{"$select": "updatedDate", "$orderBy": "updatedDate desc", "$top": 5})
    stamps = [r["updatedDate"] for r in ordered]
    assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize("n", [0, 1, 999, 1000, 1001])
def test_keyset_paging_reads_every_row_once(so, api, n):
    so.set_size("Contact", n)
    seen, last = [], 0
    while True:
        page = rows(api, so, "Contact", **{"$select": "contactId", "$filter": f"contactId gt {last}",
                                           "$orderBy": "contactId", "$top": 1000})
        seen += [r["contactId"] for r in page]
        if len(page) < 1000:
            break
        last = page[-1]["contactId"]
    assert seen == list(range(1, n + 1))


def test_the_lists_under_one_entity_are_its_provider_restricted_to_its_id(so, api):
    # Contact/{id}/Persons is the Person provider restricted to contactId (the Swagger's "Calls the
    # Archive service using the "Person" archive provider"); person i belongs to contact 1 + (i-1) % 300.
    persons = rows(api, so, "Contact/5/Persons", **{"$select": "personId,contactId", "$top": 1000})
    assert [r["personId"] for r in persons] == [5, 305]
    assert {r["contactId"] for r in persons} == {5} and persons[0]["EntityName"] == "person"
    narrowed = rows(api, so, "Contact/5/persons",
                    **{"$select": "personId", "$filter": "personId gt 100 or personId lt 0"})
    assert [r["personId"] for r in narrowed] == [305]  # the caller's filter is joined with `and`
    paged = api.get(f"{so.rest_url}/Contact/5/Persons", params={"$select": "personId", "$top": 1}).json()
    assert len(paged["value"]) == 1 and paged["odata.nextLink"] is None  # a $top: no next link
    assert rows(api, so, "Contact/99999/Persons", **{"$select": "personId"}) == []
    error_of(api.get(f"{so.rest_url}/Contact/5/Persons", params={"$select": "nosuch"}), 400)
    error_of(api.post(f"{so.rest_url}/Contact/5/Persons", json={}), 405)
    error_of(api.get(f"{so.rest_url}/Contact/5/Sales"), 404)  # its provider is not emulated


def test_skip_paging_costs_grow_and_top_is_capped(so, api):
    so.set_size("Contact", 4000)
    so.reset_stats()
    for skip in range(0, 4000, 500):
        rows(api, so, "Contact", **{"$select": "contactId", "$top": 500, "$skip": skip})
    skip_cost = so.stats()["superoffice"]["rows_scanned"]
    so.reset_stats()
    last = 0
    for _ in range(8):
        page = rows(api, so, "Contact", **{"$select": "contactId", "$filter": f"contactId gt {last}",
                                           "$orderBy": "contactId", "$top": 500})
        last = page[-1]["contactId"]
    keyset_cost = so.stats()["superoffice"]["rows_scanned"]
    assert skip_cost > 3 * keyset_cost
    capped = api.get(f"{so.rest_url}/Contact", params={"$select": "contactId", "$top": 5000}).json()
    assert len(capped["value"]) == 1000 and capped["odata.nextLink"] is None  # silently capped, no next link
    paged = api.get(f"{so.rest_url}/Contact", params={"$select": "contactId"}).json()
    assert len(paged["value"]) == 50 and paged["odata.nextLink"]
    nxt = api.get(paged["odata.nextLink"]).json()
    assert nxt["value"][0]["contactId"] == 51


def test_million_contacts_stay_lazy(so, api):
    so.set_size("Contact", 1_000_000)
    started = time.perf_counter()
    page = rows(api, so, "Contact", **{"$select": "contactId,name,updatedDate", "$filter": "contactId gt 998500",
                                       "$orderBy": "contactId", "$top": 1000})
    recent = rows(api, so, "Contact", **{"$select": "contactId", "$filter": "updatedDate after '2023-12-30'",
                                         "$top": 10})
    assert page[0]["contactId"] == 998501 and len(page) == 1000 and recent
    assert time.perf_counter() - started < 3 and so.materialized_records() == 0


# ---------------------------------------------------------------------------------------- writes
def test_soft_delete_keeps_the_row_listed_until_hard_delete(so, api):
    assert api.delete(f"{so.rest_url}/Contact/5").status_code == 204
    assert error_of(api.get(f"{so.rest_url}/Contact/5"), 404)["ErrorType"] == "SoNotFoundException"
    error_of(api.delete(f"{so.rest_url}/Contact/5"), 404)
    row = rows(api, so, "Contact", **{"$select": "contactId,contactDeleted,deletedDate", "$filter": "contactId eq 5"})
    assert row == [{"PrimaryKey": "5", "EntityName": "contact", "contactId": 5, "contactDeleted": True,
                    "deletedDate": NOW.strftime("%Y-%m-%dT%H:%M:%S")}]
    gone = rows(api, so, "Contact", **{"$select": "contactId",
                                       "$filter": "deletedDate afterTime '2026-03-01T00:00:00'"})
    assert [r["contactId"] for r in gone] == [5]
    so.clock.advance(15 * 86400)  # hard-deleted after 14 days
    api.headers["Authorization"] = f"Bearer {so.issue_tokens()['access_token']}"
    assert rows(api, so, "Contact", **{"$select": "contactId", "$filter": "contactId eq 5"}) == []
    assert api.delete(f"{so.rest_url}/Sale/3").status_code == 204  # no soft delete on sales
    assert rows(api, so, "Sale", **{"$select": "saleId", "$filter": "saleId eq 3"}) == []


def test_patch_put_post_show_in_the_list(so, api):
    url = f"{so.rest_url}/Contact/7"
    r = api.patch(url, data=json.dumps([{"op": "replace", "path": "Department", "value": "Ødegård's «dept»"}]),
                  headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code == 200, r.text
    entity = r.json()
    assert entity["Department"] == "Ødegård's «dept»" and entity["UpdatedDate"] == NOW.strftime("%Y-%m-%dT%H:%M:%S")
    row = rows(api, so, "Contact", **{"$select": "department,updatedDate", "$filter": "contactId eq 7"})[0]
    assert row["department"] == entity["Department"] and row["updatedDate"] == entity["UpdatedDate"]
    so.clock.advance(60)
    r = api.patch(url, data=json.dumps({"Category": {"Id": 2}, "Phones": {"Value": "+47 1234"}}),
                  headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200, r.text
    assert r.json()["Category"]["Id"] == 2 and r.json()["Phones"][-1]["Value"] == "+47 1234"
    category = api.get(f"{so.rest_url}/List/Category/Items").json()[1]["Name"]
    assert rows(api, so, "Contact", **{"$select": "category", "$filter": "contactId eq 7"})[0]["category"] == category
    full = api.get(url).json()
    full["Name"] = "Putt & Co"
    assert api.put(url, json=full).json()["Name"] == "Putt & Co"  # a GET answer can be PUT back
    created = api.post(f"{so.rest_url}/Person", json={"Firstname": "Zoë", "Lastname": "O'Neil",
                                                      "Contact": {"ContactId": 7}})
    assert created.status_code == 200, created.text
    pid = created.json()["PersonId"]
    assert pid > 600 and created.json()["Contact"]["Name"] == "Putt & Co"
    listed = rows(api, so, "Person", **{"$select": "personId,lastName,contactId", "$filter": f"personId eq {pid}"})
    assert listed[0]["lastName"] == "O'Neil" and listed[0]["contactId"] == 7
    since = rows(api, so, "Person", **{"$select": "personId", "$filter": "personUpdatedDate afterTime '2026-03-02'"})
    assert [r["personId"] for r in since] == [pid]


def test_write_validation(so, api):
    url = f"{so.rest_url}/Contact/8"
    assert "Nmae" in error_of(api.put(url, json={"Nmae": "x"}), 400)["ErrorMessage"]
    assert "Name" in error_of(api.post(f"{so.rest_url}/Contact", json={"Name": 5}), 400)["ErrorMessage"]
    assert "Status" in error_of(api.post(f"{so.rest_url}/Sale", json={"Status": "Won"}), 400)["ErrorMessage"]
    assert "Contact" in error_of(api.post(f"{so.rest_url}/Sale", json={"Contact": {"ContactId": 99999}}),
                                 400)["ErrorMessage"]
    bad_patch = api.patch(url, json=[{"op": "replace", "path": "/Category/Id", "value": "x"}],
                          headers={"Content-Type": "application/json-patch+json"})
    assert "Category" in error_of(bad_patch, 400)["ErrorMessage"]
    error_of(api.patch(url, data="Name=x", headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    assert error_of(api.get(f"{so.rest_url}/Contact/99999"), 404)["ErrorMessage"] == "Contact id 99999 not found"
    assert api.post(f"{so.rest_url}/contact", json={"name": "lower case props"}).status_code == 200


def test_every_core_entity_round_trips(so, api):
    for entity in ("Contact", "Person", "Sale", "Project", "Appointment", "Document", "Ticket", "Product"):
        one = api.get(f"{so.rest_url}/{entity}/2")
        assert one.status_code == 200, (entity, one.text)
        assert api.put(f"{so.rest_url}/{entity}/2", json=one.json()).status_code == 200, entity
        assert rows(api, so, entity, **{"$top": 2})[1]["PrimaryKey"] == "2"


def test_lookup_lists(so, api):
    items = api.get(f"{so.rest_url}/List/Category/Items").json()
    assert 20 <= len(items) <= 40 and {"Id", "Name", "Deleted", "Rank"} <= set(items[0])
    everything = api.get(f"{so.rest_url}/List/Category/Items", params={"includeDeleted": "true"}).json()
    assert len(everything) > len(items)
    error_of(api.get(f"{so.rest_url}/List/NoSuchList/Items"), 404)


# ---------------------------------------------------------------------------------------- kit
def test_throttle_more_than_10_a_second(so, api):
    so.set_throttle(10)
    try:
        statuses = [api.get(f"{so.rest_url}/Contact/1") for _ in range(14)]
        refused = [r for r in statuses if r.status_code == 429]
        assert refused and "Retry-After" not in refused[0].headers
        error_of(refused[0], 429)
        time.sleep(1.05)
        assert api.get(f"{so.rest_url}/Contact/1").status_code == 200
    finally:
        so.set_throttle(None)


def test_faults_log_and_control_plane(so, api):
    so.faults.add(503, count=1, path_prefix="/api/v1/Contact")
    error_of(api.get(f"{so.rest_url}/Contact/1"), 503)
    so.faults.drop(1)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{so.rest_url}/Contact/1", headers=api.headers)
    log = so.request_log(5)
    assert log[-1]["headers"]["Authorization"] == "Bearer ***"
    base = f"{so.url}/__sandbox/superoffice"
    assert requests.get(f"{base}/count", params={"path": "Contact"}).json() == {"count": 300}
    assert requests.post(f"{base}/touch", json={"path": "Contact", "ids": [9]}).json()["touched"] == [9]
    assert so.get("Contact", 9)["Name"].endswith(" *")
    made = requests.post(f"{base}/create", json={"path": "Contact", "record": {"Name": "Via control"}}).json()
    assert made["ContactId"] == 301 and so.count("Contact") == 301
    assert requests.post(f"{base}/delete", json={"path": "Contact", "id": 301}).json() == {"ok": True}
    moved = requests.post(f"{base}/move-tenant", json={"cluster": "online9"}).json()
    assert moved["api"].endswith("/online9/Cust12345/api")
    assert requests.post(f"{base}/tokens").json()["access_token"].startswith("8A:")


def test_cli_builds_the_emulator():
    args = build_parser({"superoffice": SuperOfficeEmulator()}).parse_args(
        ["superoffice", "--port", "0", "--size", "Contact=10", "--requests-per-second", "none", "--cluster", "app"])
    server = args.plugin.build(args)
    assert isinstance(server, SuperOfficeSandbox) and server.store.size("SimpleContact") == 10
    assert server.throttle.limit("second") is None and server.cluster == "app"
