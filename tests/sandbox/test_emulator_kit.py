"""The shared emulator kit on its own: store, quota, OAuth rules, control plane, registry and CLI.

The two vendor emulators are tested in their own files; here the machinery is tested with the rules
of the vendors to come (SuperOffice refreshes without rotation, Lightspeed rotates and revokes the old
refresh token, X-Series quota with an HTTP-date Retry-After) and through a made-up vendor built on it
(``acme_emulator.py``).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
import requests

from connector_sandbox.cli import build_parser
from connector_sandbox.clock import Clock
from connector_sandbox.oauth import AuthorizationServer, OAuthError, TokenRules
from connector_sandbox.quota import ErrorAllowance, MonotonicClock, Quota, Window
from connector_sandbox.registry import emulators
from connector_sandbox.store import IdList, LazyStore, Listing, Overlay, first_index, spread_step
from tests.sandbox.acme_emulator import AcmeEmulator, AcmeSandbox

FORM = "application/x-www-form-urlencoded"


# ----------------------------------------------------------------------------- store
def test_listing_merges_base_range_and_overlay_without_materialising():
    ov = Overlay()
    ov.put(3, {"v": "changed"}, base=True)
    ov.remove(5, base=True)
    ov.put(ov.allocate(11), {"v": "created"}, base=False)
    listing = Listing(1, 10, ov.excluded_between(1, 10), ov.written_ids())
    assert list(listing.iter_from()) == [1, 2, 3, 4, 6, 7, 8, 9, 10, 11]
    assert listing.count() == 10 and listing.exact
    assert listing.slice(2, 3) == [3, 4, 6] and listing.slice(8, 5) == [10, 11] and listing.slice(10, 5) == []
    assert listing.after(6, 2) == [7, 8]
    # a filter on base rows is asked per id; overlay rows are filtered by the caller
    odd = Listing(1, 10, ov.excluded_between(1, 10), ov.written_ids(lambda i, row: row["v"] == "created"),
                  base_filter=lambda i: i % 2 == 1)
    assert list(odd.iter_from()) == [1, 7, 9, 11] and odd.count() == 4 and odd.slice(1, 2) == [7, 9]
    assert IdList([2, 4, 6]).after(2, 5) == [4, 6]


def test_overlay_keeps_write_order_and_forgets_deleted_rows():
    ov = Overlay()
    for i, version in ((4, 101), (2, 102), (4, 103)):
        ov.put(i, {"i": i}, base=True)
        ov.record_version(i, version)
    created = ov.allocate(1000)
    ov.put(created, {"i": created}, base=False)
    ov.record_version(created, 104)
    assert list(ov.written_after(None)) == [2, 4, 1000]  # each row once, at its last write
    assert list(ov.written_after(102)) == [4, 1000]
    ov.remove(1000, base=False)
    assert list(ov.written_after(None)) == [2, 4] and ov.created_total == 1 and ov.allocate(1000) == 1001
    assert ov.excluded == [2, 4] and ov.size == 2


def test_store_helpers_are_pure_and_bounded():
    a, b = LazyStore(7), LazyStore(7)
    assert a.salt("t") == b.salt("t") != LazyStore(8).salt("t")
    assert [a.next_row_version("d1"), a.next_row_version("d1"), a.next_row_version("d2")] == [1, 2, 1]
    assert first_index(1, 100, lambda i: i * i >= 50) == 8 and first_index(1, 5, lambda i: False) == 6
    assert spread_step(10, 1000, 1, 50) == 50 and spread_step(10**9, 1000, 1, 50) == 1
    a.overlay_for("t").put(1, {}, base=True)
    a.wrote()
    assert a.materialized_rows() == 1 and a.mutations == 1
    a.reset()
    assert a.materialized_rows() == 0 and a.next_row_version("d1") == 1


# ----------------------------------------------------------------------------- quota
def test_aligned_windows_count_per_key_and_name_the_refusing_window():
    clock = Clock(dt.datetime(2026, 1, 1, 12, 0, 30, tzinfo=dt.timezone.utc), frozen=True)
    quota = Quota(clock, [Window("daily", 3, 86400, limit_header="X-D-Limit", remaining_header="X-D-Remaining",
                                 reset_header="X-D-Reset", reset_scale=1000),
                          Window("minutely", 2, 60, remaining_header="X-M-Remaining", reset_header="X-M-Reset")],
                  retry_after=None)
    first = quota.check("a")
    assert first.allowed and first.headers == {
        "X-D-Limit": "3", "X-D-Remaining": "2", "X-D-Reset": str(int(clock.timestamp() // 86400 + 1) * 86400_000),
        "X-M-Remaining": "1", "X-M-Reset": str(int(clock.timestamp() // 60 + 1) * 60)}
    assert quota.check("a").allowed and quota.check("b").allowed  # another key, its own budget
    refused = quota.check("a")
    assert not refused.allowed and refused.refused_by.name == "minutely"
    assert refused.headers == {"X-M-Remaining": "0", "X-M-Reset": first.headers["X-M-Reset"]}  # only the hit one
    assert refused.retry_after_seconds == 30 and quota.retry_after_header(refused, clock.timestamp()) is None
    clock.advance(30)  # the next whole minute
    assert quota.check("a").allowed
    assert quota.check("a").refused_by.name == "daily" and quota.rejected == {"minutely": 1, "daily": 1}
    quota.configure(headers_on_refusal="none")
    assert quota.check("a").headers == {}
    quota.configure("daily", None)
    assert quota.check("a").allowed and quota.used("a") == {"daily": 4, "minutely": 2}
    with pytest.raises(ValueError):
        quota.configure(headers_on_refusal="some")


def test_sliding_window_and_retry_after_formats():
    clock = Clock(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), frozen=True)
    quota = Quota(clock, [Window("5min", 2, 300, aligned=False, limit_header="X-RateLimit-Limit",
                                 remaining_header="X-RateLimit-Remaining")], retry_after="http-date")
    assert quota.check().headers == {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1"}
    clock.advance(100)
    assert quota.check().allowed
    refused = quota.check()
    assert refused.refused_by.name == "5min" and refused.retry_after_seconds == 200  # the first hit ages out
    when = email.utils.parsedate_to_datetime(quota.retry_after_header(refused, clock.timestamp()))
    assert when == clock.now() + dt.timedelta(seconds=200)
    clock.advance(200)
    assert quota.check().allowed
    quota.configure(retry_after="seconds")
    refused = quota.check()
    assert quota.retry_after_header(refused, clock.timestamp()) == "100"
    empty = quota.refusal(refused, clock.timestamp())
    assert empty.status_code == 429 and empty.get_data() == b"" and empty.headers["Retry-After"] == "100"
    assert empty.headers["X-RateLimit-Remaining"] == "0"
    quota.refusal_body = lambda d: {"error": f"{d.refused_by.name} spent"}
    assert quota.refusal(refused, clock.timestamp()).get_json() == {"error": "5min spent"}
    with pytest.raises(ValueError):
        quota.configure(retry_after="minutes")
    off = Quota(MonotonicClock(), [Window("requests", None, 60, aligned=False)])
    assert all(off.check().allowed for _ in range(1000)) and off.used() == {"requests": 0}


def test_error_allowance_blocks_and_doubles():
    clock = Clock(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), frozen=True)
    errors = ErrorAllowance(clock, limit=2, window=3600, block=3600)
    errors.record("k")
    assert errors.blocked_until("k") is None
    errors.record("k")
    assert errors.blocked_until("k") == clock.timestamp() + 3600 and errors.blocked_until("other") is None
    clock.advance(3600)
    assert errors.blocked_until("k") is None
    errors.record("k")
    errors.record("k")
    assert errors.blocked_until("k") == clock.timestamp() + 7200 and errors.blocks == 2


# ----------------------------------------------------------------------------- OAuth rules
def _server(rules: TokenRules, clock: Clock) -> AuthorizationServer:
    return AuthorizationServer(clock, rules, seed=1, client_id="app", client_secret="s", redirect_uri=None,
                               user_id="u")


def _code(server: AuthorizationServer) -> str:
    status, headers, _ = server.authorize({"client_id": "app", "redirect_uri": "http://x/cb",
                                           "response_type": "code", "state": "z"})
    assert status == 302
    return urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)["code"][0]


def _grant(server: AuthorizationServer, **form: str) -> tuple[int, dict, dict]:
    return server.token({"client_id": "app", "client_secret": "s", **form}, FORM)


def test_refresh_without_rotation_superoffice_style():
    clock = Clock(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), frozen=True)
    server = _server(TokenRules(access_ttl=3600, rotate_refresh_token=False), clock)
    status, _, first = _grant(server, grant_type="authorization_code", code=_code(server), redirect_uri="http://x/cb")
    assert status == 200 and first["token_type"] == "Bearer" and first["expires_in"] == 3600
    for _ in range(2):  # the same refresh token keeps working; answers carry no refresh token
        status, _, again = _grant(server, grant_type="refresh_token", refresh_token=first["refresh_token"])
        assert status == 200 and "refresh_token" not in again and again["access_token"] != first["access_token"]
    assert server.check_access(again["access_token"])[1] == "" and server.check_access(first["access_token"])[1] == ""
    clock.advance(3600)
    assert server.check_access(again["access_token"])[1] == "expired"


def test_rotation_revokes_the_old_refresh_token_lightspeed_style():
    clock = Clock(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), frozen=True)
    server = _server(TokenRules(code_ttl=60, refresh_ttl=30 * 86400), clock)
    code = _code(server)
    clock.advance(61)
    assert _grant(server, grant_type="authorization_code", code=code, redirect_uri="http://x/cb")[0] == 400
    first = server.issue_tokens()
    status, _, second = _grant(server, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert status == 200 and second["refresh_token"] != first["refresh_token"]
    status, _, body = _grant(server, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert status == 400 and body["error"] == "invalid_grant"
    assert server.check_access(second["access_token"])[1] == ""  # reuse does not revoke the chain here
    clock.advance(30 * 86400 + 1)
    status, _, body = _grant(server, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert status == 400 and body["error_description"] == "The refresh token has expired."


def test_early_refresh_refusal_chain_revocation_and_vendor_error_bodies():
    clock = Clock(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), frozen=True)
    rules = TokenRules(access_ttl=600, min_refresh_age=570, revoke_chain_on_reuse=True, expires_in_as_string=True,
                       errors={"too_early": OAuthError(400, "access_denied", "not yet", {"Reason": "TooEarly"})})
    server = _server(rules, clock)
    tokens = server.issue_tokens()
    assert tokens["expires_in"] == "600"
    status, headers, body = _grant(server, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    refused = {"error": "access_denied", "error_description": "not yet"}
    assert (status, headers, body) == (400, {"Reason": "TooEarly"}, refused)
    clock.advance(570)
    newer = _grant(server, grant_type="refresh_token", refresh_token=tokens["refresh_token"])[2]
    assert _grant(server, grant_type="refresh_token", refresh_token=tokens["refresh_token"])[0] == 400
    assert server.check_access(newer["access_token"]) == (None, "invalid")  # the whole chain is revoked
    assert server.token({"grant_type": "refresh_token"}, "application/json")[2]["error"] == "invalid_request"
    assert _grant(server, grant_type="password")[2]["error"] == "unsupported_grant_type"


def test_revocation_and_a_new_consent():
    clock = Clock(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), frozen=True)
    server = _server(TokenRules(), clock)
    first = server.issue_tokens()
    second = server.issue_tokens()  # a new consent revokes the user's previous chain
    assert server.check_access(first["access_token"]) == (None, "invalid")
    assert server.revoke({"client_id": "app", "client_secret": "s", "token": second["access_token"]}, FORM)[0] == 200
    assert server.check_access(second["access_token"]) == (None, "invalid")
    assert server.revoke({"client_id": "app", "client_secret": "s", "token": second["refresh_token"]}, FORM)[0] == 200
    assert _grant(server, grant_type="refresh_token", refresh_token=second["refresh_token"])[0] == 400
    assert server.revoke({"client_id": "app", "client_secret": "bad", "token": "x"}, FORM)[0] == 400


# ----------------------------------------------------------------------------- a third vendor on the kit
@pytest.fixture()
def acme():
    server = AcmeSandbox(items=130, per_5_minutes=4).start()
    yield server
    server.stop()


def test_a_new_vendor_gets_oauth_paging_quota_and_control_plane(acme):
    r = requests.get(f"{acme.url}/oauth/authorize", params={"client_id": "acme-app", "redirect_uri": "http://x/cb",
                                                          "response_type": "code"}, allow_redirects=False)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)["code"][0]
    tokens = requests.post(f"{acme.url}/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                            "redirect_uri": "http://x/cb", "client_id": "acme-app",
                                                            "client_secret": "acme-secret"}).json()
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {tokens['access_token']}"
    assert requests.get(f"{acme.url}/api/items").status_code == 401
    first = s.get(f"{acme.url}/api/items", params={"per_page": 100})
    assert first.status_code == 200 and first.headers["X-RateLimit-Remaining"] == "3"
    assert [x["id"] for x in first.json()["data"]] == list(range(1, 101)) and first.json()["next_page"] == 2
    last = s.get(f"{acme.url}/api/items", params={"per_page": 100, "page": 2}).json()
    assert len(last["data"]) == 30 and last["next_page"] is None
    assert s.get(f"{acme.url}/api/items", params={"per_page": 101}).status_code == 400
    s.get(f"{acme.url}/api/items")
    refused = s.get(f"{acme.url}/api/items")
    assert refused.status_code == 429 and refused.json()["message"] == "Rate limiting enforced"
    assert email.utils.parsedate_to_datetime(refused.headers["Retry-After"]) > acme.clock.now()
    # the control plane, over HTTP and in Python, with nothing written for it by the vendor
    control = f"{acme.url}/__sandbox/acme"
    assert requests.get(f"{control}/count", params={"path": "/api/items"}).json() == {"count": 130}
    created = requests.post(f"{control}/create", json={"path": "/api/items", "record": {"name": "New"}})
    assert created.status_code == 201 and created.json()["id"] == 131
    assert requests.post(f"{control}/create", json={"path": "/api/items", "record": {}}).status_code == 400
    touched = requests.post(f"{control}/touch", json={"path": "/api/items", "ids": [2]}).json()["touched"]
    assert touched[0]["name"].endswith(" *")
    assert requests.post(f"{control}/delete", json={"path": "/api/items", "id": 3}).json() == {"ok": True}
    assert acme.count("/api/items") == 130 and acme.get("/api/items", 3) is None
    assert requests.post(f"{control}/tokens").json()["token_type"] == "Bearer"
    acme.set_size("/api/items", 1000)
    assert acme.count("/api/items") == 1000 and acme.materialized_records() == 2
    with pytest.raises(ValueError, match="no tenants"):
        acme.count("/api/items", 5)
    with pytest.raises(TypeError):
        acme.count("/api/items", division=5)
    assert requests.post(f"{control}/count", data="{").status_code == 400  # not JSON
    assert requests.get(f"{control}/nope").status_code == 404
    requests.post(f"{acme.url}/__sandbox/reset", json={"data": True})
    assert acme.count("/api/items") == 1000 and acme.get("/api/items", 3) is not None


def test_registry_lists_the_installed_emulators_and_the_cli_builds_any_plugin():
    found = emulators()
    # One emulator per built vendor of the registry (vendors.json), whatever vendors it lists.
    vendors = json.loads((Path(__file__).resolve().parents[2] / "vendors.json").read_text())["vendors"]
    assert sorted(found) == sorted(v["emulator"] for v in vendors if v.get("emulator"))
    assert all(p.name == n for n, p in found.items())
    parser = build_parser({"acme": AcmeEmulator()})
    args = parser.parse_args(["acme", "--port", "0", "--size", "/api/items=7", "--tokens-file", "t.json"])
    server = args.plugin.build(args)
    assert isinstance(server, AcmeSandbox) and server.store.size == 7
    with pytest.raises(SystemExit):
        parser.parse_args(["acme", "--size", "seven"])
    out = subprocess.run([sys.executable, "-m", "connector_sandbox", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "connectwise" in out and "exactonline" in out
    vendor_help = subprocess.run([sys.executable, "-m", "connector_sandbox", "exactonline", "--help"],
                                 capture_output=True, text=True, check=True).stdout
    assert "--tokens-file" in vendor_help and "--minutely-limit" in vendor_help
