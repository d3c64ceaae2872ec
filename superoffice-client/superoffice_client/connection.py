"""The SuperOffice CRM Online connection: environment, OAuth, tenant host, rate limit and errors.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §1.

* Hosts (§1.1): the environment's host (``sod``, ``qaonline`` for the stage environment,
  ``online``) signs in (``/login/common/oauth/authorize`` and ``/tokens``) and tells where the
  tenant lives (``GET /api/state/{tenant}``: ``State``, ``Api``, ``ValidUntil``). The API is on the
  tenant's own host (``https://online2.superoffice.com/Cust12345/api``), which is never
  configured: it is resolved, kept until ``ValidUntil``, and resolved again when the API answers
  **421** "Wrong subdomain" (the tenant moved), after which the request is sent again.
* OAuth (§1.2): the authorization-code flow with PKCE grants access once (``authorize``);
  access tokens (``expires_in``, 3600 s) come from the refresh grant; an answer without a new
  refresh token keeps the stored one (SuperOffice does not rotate). The token store is shared
  with the target and every process of the same user and app.
* Rate limit (§1.5): "no more than 10 API calls per second" for custom apps; SuperOffice sends no
  budget headers, so the limiter keeps to ``requests_per_second`` proactively, shared by every
  stream and publishing thread.
* Errors (§1.5): ``{"Error": true, "ErrorType": …, "ErrorMessage": …, "ErrorSource": …}``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import typing as t
from collections.abc import Mapping
from functools import cached_property
from urllib.parse import quote, urlparse

import requests
from dateutil.parser import isoparse
from singer_sdk import typing as th

from connector_core import (
    RateLimiter,
    UrlSetting,
    redact,
)
from connector_core.connection import ConnectionConfigError, read_error_body, request_settings
from connector_core.oauth.connection import OAuthConnection, token_store_url_setting

#: The environments' sign-in hosts (§1.1): the stage environment signs in at ``qaonline``.
ENVIRONMENTS = {
    "sod": "https://sod.superoffice.com",
    "stage": "https://qaonline.superoffice.com",
    "online": "https://online.superoffice.com",
}
#: Tenant states in which the API answers (§1.1); any other one is an error naming it.
AVAILABLE_STATES = ("Running", "OnlineMaintenance")
#: The window of ``requests_per_second`` (see :meth:`SuperOfficeConnection.rate_limiter`).
RATE_WINDOW_SECONDS = 1.05
#: How long a state answer without ``ValidUntil`` is kept.
DEFAULT_STATE_LIFETIME = 300.0

# Settings shared by tap-superoffice and target-superoffice.
CONNECTION_SETTINGS = th.PropertiesList(
    th.Property("environment", th.StringType, default="online", allowed_values=list(ENVIRONMENTS),
                description="SuperOffice environment: `sod` (development), `stage` (signs in at "
                            "qaonline) or `online` (production)."),
    th.Property("base_url", th.StringType,
                description="Origin of the environment's sign-in host (a proxy, an on-site "
                            "installation, a sandbox); replaces `environment`. The tenant's API "
                            "host is always looked up, never configured."),
    th.Property("tenant_id", th.StringType, required=True,
                description="The customer's tenant (context identifier), e.g. `Cust12345`."),
    th.Property("client_id", th.StringType, required=True, secret=True,
                description="The app's Application ID (OAuth client_id)."),
    th.Property("client_secret", th.StringType, required=True, secret=True,
                description="The app's Application token (OAuth client_secret)."),
    th.Property("token_store", th.StringType, required=True,
                description="Path of the JSON file that keeps the tokens (mode 0600, with a "
                            "`.lock` file next to it); share it between the tap and the target. "
                            "With `token_store_url`, the name of the store's row in that database."),
    token_store_url_setting(),
    th.Property("refresh_token", th.StringType, secret=True,
                description="Refresh token used once to create `token_store` when the file does "
                            "not exist yet; the store holds the tokens from then on."),
    th.Property("redirect_uri", th.StringType, default="http://127.0.0.1:8765/callback",
                description="Redirect URI registered for the app (used by `authorize`)."),
    th.Property("requests_per_second", th.IntegerType(minimum=1, maximum=10), default=10,
                description="Requests a second kept to by every stream and thread together "
                            "(SuperOffice allows apps at most 10)."),
    *request_settings(),
)

AUTH_HINT = ("SuperOffice refused the access token: grant access again with `{command}` (the "
             "consent may have been revoked), or check that the signed-in user may read this entity")


class SuperOfficeConfigError(ConnectionConfigError):
    """A setting is missing or wrong; the message names the setting."""


class TenantUnavailable(RuntimeError):
    """The tenant's state is not one in which its API answers (maintenance, suspended, ...)."""


def error_message(response: requests.Response) -> str | None:
    """SuperOffice's error text: ``ErrorType: ErrorMessage``, else the plain body."""
    return read_error_body(response, _error_text)


def _error_text(body: t.Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("ErrorMessage"), str):
        return None
    kind = body.get("ErrorType")
    return (f"{kind}: " if isinstance(kind, str) and kind else "") + body["ErrorMessage"]


def origin_of(config: Mapping[str, t.Any]) -> str:
    """The sign-in host's origin: ``base_url`` if set, else the environment's."""
    if config.get("base_url"):
        url = str(config["base_url"]).strip().rstrip("/")
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SuperOfficeConfigError(
                f"base_url must be an http(s) URL such as https://online.superoffice.com; got {url!r}")
        return url
    environment = str(config.get("environment") or "online")
    if environment not in ENVIRONMENTS:
        raise SuperOfficeConfigError(
            f"environment must be one of {', '.join(ENVIRONMENTS)}; got {environment!r}")
    return ENVIRONMENTS[environment]


@dataclasses.dataclass(frozen=True)
class TenantState:
    """The answer of ``GET {environment}/api/state/{tenant}``."""

    state: str
    api: str  # https://online2.superoffice.com/Cust12345/api
    valid_until: float  # epoch seconds

    @classmethod
    def from_answer(cls, body: t.Any, *, tenant: str, now: float) -> TenantState:
        if not isinstance(body, dict) or not isinstance(body.get("State"), str):
            raise TenantUnavailable(f"the tenant state of {tenant} is unreadable: {str(body)[:200]!r}")
        valid_until = now + DEFAULT_STATE_LIFETIME
        if body.get("ValidUntil"):
            try:
                valid_until = isoparse(str(body["ValidUntil"])).timestamp()
            except ValueError:
                pass
        return cls(state=body["State"], api=str(body.get("Api") or "").rstrip("/"), valid_until=valid_until)


class SuperOfficeConnection(OAuthConnection):
    """Everything a plugin needs to talk to one SuperOffice tenant, built from its config."""

    default_headers: t.ClassVar[t.Mapping[str, str]] = {"Accept": "application/json"}
    #: The consent of ``authorize`` sends a PKCE challenge; tokens live ``expires_in`` (3600 s).
    consent_pkce = True
    default_plugin = "tap-superoffice"

    def __init__(self, config: Mapping[str, t.Any], logger: logging.Logger | None = None,
                 user_agent: str = "connector-suite", *, plugin_name: str | None = None,
                 clock: t.Callable[[], float] = time.time) -> None:
        super().__init__(config, logger, user_agent, plugin_name=plugin_name)
        self.origin = origin_of(config)
        self.tenant = str(config.get("tenant_id") or "").strip()
        if not self.tenant:
            raise SuperOfficeConfigError("tenant_id is required, e.g. Cust12345")
        self.clock = clock
        self._state: TenantState | None = None
        self._state_lock = threading.Lock()
        self.tenant_moves = 0
        """How often the API answered 421 and the tenant's host was looked up again."""

    # -- the environment's URLs ----------------------------------------------------------------
    @cached_property
    def url_setting(self) -> UrlSetting:
        return self.base_url_or("environment", ENVIRONMENTS, address=self.origin,
                                base_url_hint="the environment's origin, e.g. https://online.superoffice.com")

    @property
    def auth_url(self) -> str:
        return f"{self.origin}/login/common/oauth/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.origin}/login/common/oauth/tokens"

    @property
    def state_url(self) -> str:
        return f"{self.origin}/api/state/{quote(self.tenant, safe='')}"

    def consent_params(self) -> dict[str, str]:
        """What the consent URL carries besides the OAuth basics: the only scope, and the tenant,
        so that the sign-in skips the tenant picker (§1.2)."""
        return {"scope": "openid", "acr_values": f"tenant:{self.tenant}"}

    # -- the tenant's API host -------------------------------------------------------------------
    @cached_property
    def session(self) -> requests.Session:
        session = super().session
        session.hooks["response"].append(self._on_wrong_host)
        return session

    def tenant_state(self, *, refresh: bool = False) -> TenantState:
        """The tenant's state, looked up when unknown, past ``ValidUntil`` or ``refresh``; a state
        in which the API does not answer raises :class:`TenantUnavailable` naming it."""
        with self._state_lock:
            state = self._state
            if refresh or state is None or self.clock() >= state.valid_until:
                state = self._look_up_state()
                self._state = state
        if state.state in ("Unknown", "Deleted"):
            raise TenantUnavailable(
                f"SuperOffice knows tenant_id {self.tenant!r} as {state.state} at {self.origin}: check the "
                "tenant_id setting (Cust12345) and the environment")
        if state.state not in AVAILABLE_STATES:
            raise TenantUnavailable(
                f"SuperOffice tenant {self.tenant} is {state.state}, not Running: its API is not "
                f"available now (maintenance windows: see docs.superoffice.com); try again later")
        return state

    def _look_up_state(self) -> TenantState:
        url = self.state_url

        def attempt() -> requests.Response:
            limiter = self.rate_limiter()
            limiter.acquire()
            # The state endpoint is public: no bearer token (and no 421 hook) on it.
            response = requests.get(url, headers={"Accept": "application/json", "User-Agent": self.user_agent},
                                    timeout=self.timeout)
            return self.retry_policy.raise_for_retriable(response)

        response = self.retry_policy.decorate(attempt, logger=self.logger)()
        if response.status_code == 404:
            raise SuperOfficeConfigError(
                f"tenant_id {self.tenant!r} is not a tenant of {self.origin} (GET {redact(url)} answered "
                "404): check the tenant id (Cust12345) and the environment")
        if response.status_code != 200:
            raise TenantUnavailable(f"GET {redact(url)} answered {response.status_code}: "
                                    f"{error_message(response) or 'no message'}")
        try:
            body = response.json()
        except ValueError:
            body = response.text
        state = TenantState.from_answer(body, tenant=self.tenant, now=self.clock())
        self.logger.info("SuperOffice tenant %s is %s at %s", self.tenant, state.state, state.api or "?")
        return state

    @property
    def api_root(self) -> str:
        """The tenant's ``…/api`` (from its state)."""
        state = self.tenant_state()
        if not state.api:
            raise TenantUnavailable(f"the tenant state of {self.tenant} names no Api")
        return state.api

    @property
    def base_url(self) -> str:
        """The REST base: ``{Api}/v1``."""
        return self.api_root + "/v1"

    def _on_wrong_host(self, response: requests.Response, **kwargs: t.Any) -> requests.Response:
        """A 421 (the tenant moved to another host): look the host up again and resend once."""
        request = response.request
        if response.status_code != 421 or getattr(request, "_superoffice_moved", False):
            return response
        body = request.body
        if body is not None and not isinstance(body, (bytes, str)):
            return response  # a stream cannot be sent twice
        old = self._state.api if self._state is not None else None
        new = self.tenant_state(refresh=True).api
        url = request.url or ""
        if not old or not new or not url.startswith(old + "/"):
            return response
        self.tenant_moves += 1
        self.logger.warning("SuperOffice answered 421 (wrong host): tenant %s moved from %s to %s; "
                            "sending the request again there", self.tenant, old, new)
        response.content  # noqa: B018 - drain so the connection can be reused
        response.close()
        retry = request.copy()
        retry.url = new + url[len(old):]
        retry._superoffice_moved = True  # type: ignore[attr-defined]
        retry.hooks = {"response": []}
        retry = self.auth(retry)  # the bearer token and its 401 refresh, on the copy too
        limiter = self.rate_limiter()
        limiter.acquire()  # the resend is one more API call under the 10-a-second rule
        second = self.session.send(retry, **kwargs)
        limiter.observe_response(second)
        second.history.append(response)
        return second

    # -- limits and errors -----------------------------------------------------------------------
    def rate_limiter(self, scope: t.Any = None) -> RateLimiter:
        """One budget per tenant and app: every stream, thread and state look-up shares it."""
        per_second = int(self.config.get("requests_per_second") or 10)
        # The server counts arrivals: a request counts from when its response came back
        # (RateLimiter's counts_arrivals), so late arrivals cannot bunch two windows together;
        # the window is a little longer than the second for the two clocks' granularity.
        return self.once("rate_limiter", lambda: RateLimiter(
            per_second, RATE_WINDOW_SECONDS, name="superoffice", logger=self.logger,
            counts_arrivals=True))

    def error_hint(self, response: requests.Response) -> str | None:
        if response.status_code in (401, 403):
            return AUTH_HINT.format(command=self.reauthorize_command)
        return None

    def vendor_error(self, response: requests.Response) -> str | None:
        return error_message(response)
