"""The Sales Layer connection: signed calls to the classic connector API (1.17/1.18) and its errors.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §3.1.

* One endpoint, ``https://api.saleslayer.com`` (``api_url``: a proxy, the sandbox). A connector is
  addressed by its code (``connector_id``) and secured with a private key (``private_key``); an
  export connector answers reads, an import connector takes writes.
* Every call is signed afresh, retries included: ``code``, ``time`` (UNIX now), ``unique`` (a fresh
  random number) and ``key256`` = SHA-256 hex of ``code + private_key + time + unique``. The private
  key itself is never sent nor logged. A read's signature goes in the query string (GET); a write's
  in its form body (POST), with the data. ``next_page`` URLs are followed exactly as given.
* Errors come as an ``error`` code in the JSON body, often with HTTP 200. 10 (blocked), 11
  (unavailable) and 14 (updating data) are temporary: retried with backoff, a new signature each
  time, as 429/5xx and dropped connections are. 3 (a ``unique`` already used) is retried with a new
  one. 12/13 (the ``time`` refused) mean the clocks differ: the call is repeated once on the server's
  clock (every answer carries its ``time``), and fails explaining the skew if it is refused again. 2,
  4 and 9 fail at once naming ``connector_id`` or ``private_key``; 5 (a bad ``last_update``) is a
  warning, since the answer then holds the whole catalogue.
* Numbers are decoded exactly (``Decimal``, never a float).
"""

from __future__ import annotations

import decimal
import hashlib
import logging
import secrets
import time
import typing as t
from collections.abc import Mapping
from functools import cached_property
from urllib.parse import urlparse

import msgspec
import requests
from singer_sdk import typing as th
from singer_sdk.exceptions import RetriableAPIError

from connector_core import REDACTOR, UrlSetting
from connector_core.connection import BaseConnection, ConnectionConfigError, request_settings
from connector_core.retry import describe_request

DEFAULT_API_URL = "https://api.saleslayer.com"
API_VERSIONS = ("1.17", "1.18")
DEFAULT_API_VERSION = "1.18"

# §3.1 "Errors" [SL-SDK][SL-PDF]: the codes and their meaning.
ERRORS: dict[int, str] = {
    1: "Validation error", 2: "Invalid connector code", 3: "Wrong unique key", 4: "Invalid codification key",
    5: "Incorrect last_update (the answer holds all data)", 6: "API version nonexistent", 7: "Wrong output mode",
    8: "Invalid compression type", 9: "Invalid private key", 10: "Service temporarily blocked",
    11: "Service temporarily unavailable", 12: "Incorrect or invalid timestamp", 13: "Expired timestamp",
    14: "Updating data, try later",
}
TEMPORARY = frozenset({10, 11, 14})
REUSED_UNIQUE = 3
CLOCK_ERRORS = frozenset({12, 13})
BAD_LAST_UPDATE = 5

# What to fix, per code (the setting named).
HINTS: dict[int, str] = {
    2: "check the `connector_id` setting (the connector's code, such as CN000H0000C000)",
    4: "check the `private_key` setting (a private key of this connector, from its Parameters tab)",
    9: "check the `private_key` setting (a private key of this connector, from its Parameters tab)",
    6: "check the `api_version` setting (1.17 or 1.18)",
    7: "this connector is of the other kind: a tap reads through an export connector (Custom Connector / "
       "APPS Connector), a target writes through an Import connector; check `connector_id`",
}

SIGNATURE_PARAMS = frozenset({"code", "time", "unique", "key256", "key"})

# Settings shared by tap-saleslayer and target-saleslayer.
CONNECTION_SETTINGS = th.PropertiesList(
    th.Property("connector_id", th.StringType, required=True,
                description="The connector's code (`CN000H0000C000`), from its page in Sales Layer: an export "
                            "connector (Custom Connector / APPS Connector) for the tap, an Import connector "
                            "for the target."),
    th.Property("private_key", th.StringType, required=True, secret=True,
                description="A private key (token) of that connector, from its Parameters tab. Never sent: "
                            "every call is signed with it."),
    th.Property("api_url", th.StringType, default=DEFAULT_API_URL,
                description="The API endpoint: `https://api.saleslayer.com`, a proxy, or the sandbox."),
    th.Property("api_version", th.StringType, default=DEFAULT_API_VERSION, allowed_values=list(API_VERSIONS),
                description="The connector API version: 1.18 (pages with `next_page`; import deletions by "
                            "`delete_data`) or 1.17."),
    *request_settings(max_retries="Tries per call on temporary Sales Layer errors (10, 11, 14), 429, 5xx, "
                                  "timeouts and dropped connections.",
                      request_timeout="Seconds to wait for one answer."),
)


class SalesLayerError(Exception):
    """Sales Layer answered an ``error`` code that no retry mends; the message names what to fix."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class SalesLayerRetriableError(RetriableAPIError):
    """A temporary Sales Layer error (10, 11, 14, or a reused ``unique``): try again, signed afresh."""


def sign(code: str, private_key: str, stamp: int, unique: int) -> str:
    """``key256``: SHA-256 hex of ``code + private_key + time + unique`` (§3.1 [SL-CALL])."""
    return hashlib.sha256(f"{code}{private_key}{stamp}{unique}".encode()).hexdigest()


def error_text(code: int, body: Mapping[str, t.Any]) -> str:
    """``error 9 (Invalid private key)``, plus the server's own message when it sends one."""
    text = f"error {code} ({ERRORS.get(code, 'unknown error code')})"
    message = body.get("error_message") or body.get("message")
    if isinstance(message, str) and message.strip() and message.strip() not in text:
        text += f": {message.strip()[:300]}"
    return text


_decoder = msgspec.json.Decoder(float_hook=decimal.Decimal)


def decode(content: bytes) -> t.Any:
    """A Sales Layer answer, numbers exact (``Decimal`` for every number with a fraction)."""
    return _decoder.decode(content)


class SalesLayerConnection(BaseConnection):
    """One Sales Layer connector (export or import), as tap-saleslayer and target-saleslayer talk to it."""

    default_headers: t.ClassVar[t.Mapping[str, str]] = {"Accept": "application/json"}

    def __init__(self, config: Mapping[str, t.Any], logger: logging.Logger | None = None,
                 user_agent: str = "connector-suite", *, plugin_name: str | None = None) -> None:
        super().__init__(config, logger, user_agent, plugin_name=plugin_name)
        self.connector_id = str(config.get("connector_id") or "").strip()
        if not self.connector_id:
            raise ConnectionConfigError("connector_id is required: the connector's code, such as CN000H0000C000")
        if any(c.isspace() or c in "&=?#/" for c in self.connector_id):
            raise ConnectionConfigError(f"connector_id must be a connector code such as CN000H0000C000; "
                                        f"got {self.connector_id!r}")
        self._private_key = str(config.get("private_key") or "")
        if not self._private_key.strip():
            raise ConnectionConfigError("private_key is required: a private key of the connector (its Parameters tab)")
        REDACTOR.add(self._private_key)
        self.api_url = str(config.get("api_url") or DEFAULT_API_URL).strip()
        parsed = urlparse(self.api_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query:
            raise ConnectionConfigError(f"api_url must be the API endpoint such as {DEFAULT_API_URL}; "
                                        f"got {self.api_url!r}")
        self.api_version = str(config.get("api_version") or DEFAULT_API_VERSION)
        if self.api_version not in API_VERSIONS:
            raise ConnectionConfigError(f"api_version must be one of {', '.join(API_VERSIONS)}; "
                                        f"got {self.api_version!r}")
        #: Seconds to add to the local clock to get the server's (set from an answer's ``time``
        #: after a 12/13; 0 until then).
        self.clock_offset = 0

    @property
    def auth(self) -> None:  # type: ignore[override]
        # Calls are signed in their parameters (``signature``), not by a header.
        return None

    @cached_property
    def url_setting(self) -> UrlSetting:
        return UrlSetting("api_url", address=self.api_url, hint="the Sales Layer API endpoint")

    # -- signing -----------------------------------------------------------------------------------
    def signature(self) -> dict[str, str]:
        """A fresh signature: ``code``, ``time`` (on the server's clock when known), ``unique``, ``key256``."""
        stamp = int(time.time()) + self.clock_offset
        unique = secrets.randbelow(10**12) + 1
        return {"code": self.connector_id, "time": str(stamp), "unique": str(unique),
                "key256": sign(self.connector_id, self._private_key, stamp, unique)}

    # -- calls -------------------------------------------------------------------------------------
    def read(self, params: Mapping[str, t.Any]) -> dict[str, t.Any]:
        """A signed GET of the endpoint with ``params`` in the query string; the decoded answer."""
        return self._call("GET", self.api_url, params=dict(params), signed=True)

    def follow(self, url: str) -> dict[str, t.Any]:
        """GET a ``next_page`` or ``status_tracking`` URL exactly as Sales Layer gave it."""
        return self._call("GET", url, signed=False)

    def write(self, form: Mapping[str, str] | t.Sequence[tuple[str, str]]) -> dict[str, t.Any]:
        """A signed, form-encoded POST (``form``: the encoded fields, e.g. ``input_data[products][0][REF]``),
        ``ver`` in the URL as the official SDK sends it (the version is a shaping parameter: "GET only")."""
        return self._call("POST", self.api_url, params={"ver": self.api_version},
                          form=list(form.items() if isinstance(form, Mapping) else form), signed=True)

    def _call(self, method: str, url: str, *, params: dict[str, t.Any] | None = None,
              form: list[tuple[str, str]] | None = None, signed: bool) -> dict[str, t.Any]:
        clock = {"retried": False}

        def attempt() -> dict[str, t.Any]:
            query = dict(params or {})
            body = list(form or [])
            if signed:
                if method == "GET":
                    query.update(self.signature())
                else:
                    body = list(self.signature().items()) + body
            response = self.session.request(method, url, params=query or None, data=body or None,
                                            timeout=self.timeout)
            self.retry_policy.raise_for_retriable(response)
            if response.status_code >= 400:
                raise SalesLayerError(f"Sales Layer answered {response.status_code} for "
                                      f"{describe_request(method, url)}: {response.text[:300]}")
            try:
                answer = decode(response.content)
            except (msgspec.DecodeError, ValueError):
                raise SalesLayerError(f"Sales Layer's answer to {describe_request(method, url)} is not JSON: "
                                      f"{response.text[:200]!r}") from None
            if not isinstance(answer, dict):
                raise SalesLayerError(f"Sales Layer's answer to {describe_request(method, url)} is not a JSON "
                                      f"object: {response.text[:200]!r}")
            return self._check(answer, response, clock, signed=signed)

        return t.cast(dict[str, t.Any], self.retry_policy.decorate(
            attempt, logger=self.logger, describe=lambda a, k: describe_request(method, url))())

    def _check(self, answer: dict[str, t.Any], response: requests.Response, clock: dict[str, bool], *,
               signed: bool) -> dict[str, t.Any]:
        try:
            code = int(answer.get("error") or 0)
        except (TypeError, ValueError):
            raise SalesLayerError(f"Sales Layer answered an error it did not number: {answer.get('error')!r}") from None
        if code == 0:
            return answer
        text = error_text(code, answer)
        if code in TEMPORARY or (code == REUSED_UNIQUE and signed):
            raise SalesLayerRetriableError(f"Sales Layer {text}", response)
        if code in CLOCK_ERRORS and signed:
            server = answer.get("time")
            if not clock["retried"] and isinstance(server, int):
                clock["retried"] = True
                self.clock_offset = server - int(time.time())
                self.logger.warning("Sales Layer refused the call's time (%s): this machine's clock is %+d s off "
                                    "the server's; signing on the server's clock", text, -self.clock_offset)
                raise SalesLayerRetriableError(f"Sales Layer {text}", response)
            raise SalesLayerError(f"Sales Layer {text}: the call's `time` differs too much from the server's "
                                  "clock; synchronise this machine's clock (NTP)", code)
        if code == BAD_LAST_UPDATE:
            self.logger.warning("Sales Layer %s: the answer holds the whole catalogue, not the changes since "
                                "the bookmark", text)
            return answer
        hint = HINTS.get(code)
        raise SalesLayerError(f"Sales Layer {text}" + (f"; {hint}" if hint else ""), code)
