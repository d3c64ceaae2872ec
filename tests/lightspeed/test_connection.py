"""lightspeed-client without a server: the address settings, the token modes, Lightspeed's error
body, the limiter fed by its headers, and a 429's Retry-After as an HTTP date."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests

from connector_core.connection import ConnectionConfigError
from connector_core.retry import parse_retry_after
from lightspeed_client import LightspeedConnection, api_root_of, error_message


def response(status: int, body: object = None, headers: dict | None = None,
             url: str = "https://x/api/2.0/p") -> requests.Response:
    out = requests.Response()
    out.status_code = status
    out._content = b"" if body is None else json.dumps(body).encode()
    out.headers.update({"Content-Type": "application/json", **(headers or {})})
    out.url = url
    return out


def test_the_domain_prefix_gives_the_stores_api_root():
    assert api_root_of({"domain_prefix": "Shop"}) == "https://shop.retail.lightspeed.app/api/2.0"


def test_base_url_replaces_it_and_keeps_its_version_path():
    connection = LightspeedConnection({"domain_prefix": "shop", "base_url": "https://proxy.example/ls/api/2026-07/",
                                       "token": "t"})
    assert connection.base_url == "https://proxy.example/ls/api/2026-07"
    assert connection.origin == "https://proxy.example/ls"
    # 0.9 and 2.1 paths and the OAuth token endpoint hang off the origin, not the version root.
    assert connection.api_url("/customers") == "https://proxy.example/ls/api/2026-07/customers"
    assert connection.api_url("/api/2.1/products/7") == "https://proxy.example/ls/api/2.1/products/7"
    assert connection.token_url == "https://proxy.example/ls/api/1.0/token"
    assert connection.url_setting.name == "base_url"


@pytest.mark.parametrize(("config", "named"), [
    ({"token": "t"}, "domain_prefix is required"),
    ({"domain_prefix": "https://shop.retail.lightspeed.app", "token": "t"}, "domain_prefix must be the store's prefix"),
    ({"base_url": "shop.retail.lightspeed.app/api/2.0", "token": "t"}, "base_url must be the full API root"),
    ({"base_url": "https://shop.retail.lightspeed.app", "token": "t"}, "base_url must be the full API root"),
    ({"domain_prefix": "shop"}, "token is required"),
    ({"domain_prefix": "shop", "client_id": "c", "client_secret": "s"}, "missing: token_store"),
])
def test_a_bad_address_or_missing_credentials_name_the_setting(config, named):
    with pytest.raises(ConnectionConfigError, match=named):
        LightspeedConnection(config)


def test_a_personal_token_is_sent_as_a_bearer_token_and_never_in_the_url():
    connection = LightspeedConnection({"domain_prefix": "shop", "token": "personal-secret-1"})
    prepared = requests.Request("GET", "https://shop.retail.lightspeed.app/api/2.0/products").prepare()
    connection.auth(prepared)
    assert prepared.headers["Authorization"] == "Bearer personal-secret-1"
    assert "personal-secret-1" not in prepared.url


def test_oauth_mode_uses_the_shared_token_store(tmp_path):
    connection = LightspeedConnection({"domain_prefix": "shop", "client_id": "c", "client_secret": "s",
                                       "token_store": str(tmp_path / "tokens.json"), "refresh_token": "seed-1"})
    assert connection.token_store.exists()  # seeded once from refresh_token
    assert connection.reauthorize_command == "tap-lightspeed authorize --config CONFIG.json"


@pytest.mark.parametrize(("body", "text"), [
    ({"error": "Too Many Requests", "message": "Rate limiting enforced"}, "Too Many Requests: Rate limiting enforced"),
    ({"error": {"email": ["is invalid"]}}, "email: is invalid"),
    ({"errors": {"price_including_tax": "give one"}}, "price_including_tax: give one"),
])
def test_lightspeeds_error_body_is_read(body, text):
    assert error_message(response(422, body)) == text


def test_a_refused_token_names_the_token_setting():
    connection = LightspeedConnection({"domain_prefix": "shop", "token": "t"})
    assert "`token` setting" in connection.error_hint(response(401, {"error": "Unauthorized"}))


def test_the_limiter_follows_the_servers_remaining_budget():
    connection = LightspeedConnection({"domain_prefix": "shop", "token": "t", "rate_limit_reserve": 2})
    limiter = connection.rate_limiter()
    assert limiter is connection.rate_limiter()  # one budget for every stream and thread
    limiter.observe_response(response(200, {}, {"X-RateLimit-Limit": "350", "X-RateLimit-Remaining": "2"}))
    assert limiter.server_limit == 350
    delay, reason = limiter._delay_needed(limiter._clock())
    assert 299 < delay <= 300 and "2 request(s) left" in reason  # waits a window, before the 429


def test_a_429s_retry_after_is_an_http_date_honoured_to_the_second():
    now = datetime(2026, 12, 6, 15, 4, 5, tzinfo=timezone.utc)
    header = format_datetime(now + timedelta(seconds=42), usegmt=True)  # "Sun, 06 Dec 2026 15:04:47 GMT"
    assert parse_retry_after(header, now=now) == pytest.approx(42)
