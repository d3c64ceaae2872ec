"""The Exact Online connection: settings, OAuth, regional host, divisions, limits and errors.

Contract: ``shared/vendors/connectwise-exactonline.md`` §2. Auth, token and API live on one
regional host (§2.1): ``{host}/api/oauth2/auth``, ``{host}/api/oauth2/token``, ``{host}/api/v1``.
Access tokens live 600 s and may not be refreshed before 570 s; every refresh rotates the refresh
token (§2.2), so the newest one is kept in a :class:`~connector_core.TokenStore` file shared by
every process, seeded once from the ``refresh_token`` setting. Budgets are per app per division
(§2.6): a minutely and a daily one, both announced in ``X-RateLimit-*`` headers whose resets are
epoch milliseconds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any

import requests
from dateutil.parser import isoparse
from singer_sdk import typing as th

from connector_core import (
    BudgetExhausted,
    RateLimiter,
    UrlSetting,
    redact,
)
from connector_core.connection import ConnectionConfigError, read_error_body, request_settings
from connector_core.oauth.connection import OAuthConnection, token_store_url_setting

REGIONS = {
    "nl": "https://start.exactonline.nl",
    "be": "https://start.exactonline.be",
    "de": "https://start.exactonline.de",
    "co.uk": "https://start.exactonline.co.uk",
    "uk": "https://start.exactonline.co.uk",
    "com": "https://start.exactonline.com",
    "us": "https://start.exactonline.com",
    "es": "https://start.exactonline.es",
    "fr": "https://start.exactonline.fr",
}

# Settings shared by tap-exactonline and target-exactonline.
CONNECTION_SETTINGS = th.PropertiesList(
    th.Property("client_id", th.StringType, required=True, secret=True,
                description="Client ID of the Exact Online app (App Center)."),
    th.Property("client_secret", th.StringType, required=True, secret=True,
                description="Client secret of the Exact Online app."),
    th.Property("token_store", th.StringType, required=True,
                description="Path of the JSON file that keeps the rotating tokens (mode 0600, "
                            "with a `.lock` file next to it); share it between every process "
                            "that uses the same Exact user and app. With `token_store_url`, "
                            "the name of the store's row in that database instead."),
    token_store_url_setting(),
    th.Property("refresh_token", th.StringType, secret=True,
                description="Refresh token used once to create `token_store` when the file does "
                            "not exist yet; the store holds the newest token from then on."),
    th.Property("redirect_uri", th.StringType, default="http://127.0.0.1:8765/callback",
                description="Redirect URI registered for the app (used by `authorize`)."),
    th.Property("region", th.StringType, default="nl",
                allowed_values=["nl", "be", "de", "co.uk", "com", "es", "fr", "uk", "us"],
                description="Exact Online country host: start.exactonline.{region}."),
    th.Property("base_url", th.StringType,
                description="Origin URL (`https://start.exactonline.nl`, a proxy or a sandbox); "
                            "overrides `region`."),
    th.Property("server_timezone", th.StringType, default="Europe/Amsterdam",
                description="Wall clock of Exact's `/Date(ms)/` values and `datetime'…'` "
                            "filters (Exact writes CET/CEST as if UTC); `UTC` to take them as UTC."),
    th.Property("requests_per_minute", th.IntegerType(minimum=1), default=60,
                description="Minutely budget per division kept to besides Exact's headers."),
    th.Property("daily_budget_reserve", th.IntegerType(minimum=0), default=0,
                description="Requests of each division's daily budget to leave unused (for "
                            "other apps or a later target run)."),
    th.Property("daily_budget_max_wait", th.IntegerType(minimum=0), default=300,
                description="Seconds a run may wait for a spent daily budget to renew; when it "
                            "renews later, the tap stops cleanly with its state saved and the "
                            "target stops without passing STATE on."),
    *request_settings(),
)


AUTH_HINT = (
    "Exact Online refused the access token or the division: check that the app's user can open "
    "this division (Reason header NoDivisionAccess/DivisionBlocked) or grant access again"
)


class ExactConfigError(ConnectionConfigError):
    """A setting is missing or wrong; the message names the setting."""


def error_hint(response: requests.Response) -> str | None:
    reason = response.headers.get("Reason")
    if response.status_code in (401, 403):
        return AUTH_HINT + (f" (Reason: {reason})" if reason else "")
    return None


def error_message(response: requests.Response) -> str | None:
    """Exact's error text: ``{"error": {"message": {"value": …}}}`` (§2.7), else the plain body."""
    return read_error_body(response, _error_text)


def _error_text(body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if isinstance(message, dict):
        message = message.get("value")
    return message.strip() if isinstance(message, str) and message.strip() else None


def origin_of(config: Mapping[str, Any]) -> str:
    if config.get("base_url"):
        url = str(config["base_url"]).strip().rstrip("/")
        for suffix in ("/api/v1", "/api"):
            url = url.removesuffix(suffix)
        if "://" not in url:
            url = f"https://{url}"
        return url
    region = str(config.get("region") or "nl").lower()
    if region not in REGIONS:
        raise ExactConfigError(f"region must be one of {', '.join(REGIONS)}; got {region!r}")
    return REGIONS[region]


def _millis_reader(remaining: str, reset: str, limit: str):
    """Reads ``(remaining, reset epoch seconds, limit)``; Exact's resets are epoch MILLISECONDS."""

    def number(response: requests.Response, header: str) -> float | None:
        raw = response.headers.get(header)
        try:
            return float(raw.strip()) if raw is not None else None
        except ValueError:
            return None

    def read(response: requests.Response):
        left = number(response, remaining)
        if left is None:
            return None
        reset_ms = number(response, reset)
        cap = number(response, limit)
        return (int(left), None if reset_ms is None else reset_ms / 1000.0,
                None if cap is None else int(cap))

    return read


read_minutely = _millis_reader("X-RateLimit-Minutely-Remaining", "X-RateLimit-Minutely-Reset",
                               "X-RateLimit-Minutely-Limit")
read_daily = _millis_reader("X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Limit")


class DivisionLimiter:
    """The minutely and the daily budget of one division, as one limiter.

    A 429 carries only the headers of the budget that was hit (§2.6); each budget reads its own.
    """

    def __init__(self, division: int | str, per_minute: int, logger: logging.Logger, *,
                 daily_reserve: int = 0, daily_max_wait: float | None = None) -> None:
        self.division = division
        # Exact's minute is taken to be the clock's (UNCERTAIN: the reading the emulator shares;
        # the announced reset governs whenever headers come), so the budget kept besides the
        # headers renews at the boundary, not 60 s after a burst began.
        self.minutely = RateLimiter(per_minute, 60.0, name=f"exact {division} minutely",
                                    logger=logger, header_reader=read_minutely, aligned=True)
        # A spent daily budget renews hours later: acquire() raises BudgetExhausted instead of
        # sleeping past daily_max_wait.
        self.daily = RateLimiter(None, 86400.0, name=f"exact division {division} daily",
                                 logger=logger, header_reader=read_daily, reserve=daily_reserve,
                                 max_wait=daily_max_wait)

    def acquire(self) -> float:
        return self.daily.acquire() + self.minutely.acquire()

    def observe_response(self, response: requests.Response) -> None:
        self.minutely.observe_response(response)
        self.daily.observe_response(response)

    def budget_left(self) -> str | None:
        """``minutely:N,daily:M`` for the budgets whose room is known (progress lines)."""
        parts = [f"{name}:{left}" for name, left in (("minutely", self.minutely.budget_left()),
                                                     ("daily", self.daily.budget_left()))
                 if left is not None]
        return ",".join(parts) or None


class RunLedger:
    """What a run learned about its divisions' daily budgets: the divisions whose budget is spent
    (and when it renews) and the streams not read, or not to the end, because of it."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.spent: dict[int | None, float | None] = {}
        self.unread: list[tuple[str, int | None, bool]] = []

    def budget_spent(self, division: int | None) -> bool:
        return division in self.spent

    def spend_budget(self, division: int | None, exc: BudgetExhausted) -> None:
        if division in self.spent:
            return
        self.spent[division] = exc.reset_at_epoch
        self.logger.error(
            "Exact Online's daily budget of division %s is spent: %s. The tap stops reading this "
            "division now and saves its state; run it again after %s to go on from there.",
            division, exc, _utc(exc.reset_at_epoch))

    def not_read(self, stream: str, division: int | None, *, started: bool) -> None:
        self.unread.append((stream, division, started))

    def summary(self) -> str | None:
        """The end-of-run warning when the budget stopped the run early, else None."""
        if not self.unread:
            return None
        unfinished = ", ".join(f"{s} ({d}{', partly read' if started else ''})"
                               for s, d, started in self.unread)
        resets = "; ".join(f"{d}: {_utc(r)}" for d, r in self.spent.items())
        return (f"This run stopped early because the daily budget ran out (division: reset time "
                f"{resets}). Not read, or not to the end: {unfinished}. Incremental streams "
                "continue from their saved state on the next run; full-table streams are read again.")


def _utc(epoch: float | None) -> str:
    if epoch is None:
        return "an unknown time"
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


class ExactOnlineConnection(OAuthConnection):
    """Everything a plugin needs to talk to Exact Online, built from its config."""

    # §2.2: TooEarlyToRefreshTokens before 9 min 30 s of a 10-minute token, i.e. only in its last
    # 30 s; the floor follows the lifetime each token answer states.
    default_token_lifetime = 600.0
    refresh_window = 30.0
    default_plugin = "tap-exactonline"

    default_headers = {"Accept": "application/json"}  # default is Atom XML (§2.4)

    def __init__(self, config: Mapping[str, Any], logger: logging.Logger | None = None,
                 user_agent: str = "connector-suite", *, plugin_name: str | None = None) -> None:
        super().__init__(config, logger, user_agent, plugin_name=plugin_name)
        self.server_tz = server_timezone(config.get("server_timezone"))
        self.origin = origin_of(config)
        self.ledger = RunLedger(self.logger)

    # -- URLs --------------------------------------------------------------------------------------
    @cached_property
    def url_setting(self) -> UrlSetting:
        """The setting the host comes from (API and token endpoint alike): named when it refuses."""
        return self.base_url_or("region", REGIONS, address=self.origin,
                                base_url_hint="the origin URL, e.g. https://start.exactonline.nl")

    @property
    def api_url(self) -> str:
        return f"{self.origin}/api/v1"

    @property
    def token_url(self) -> str:
        return f"{self.origin}/api/oauth2/token"

    @property
    def auth_url(self) -> str:
        return f"{self.origin}/api/oauth2/auth"

    def rate_limiter(self, scope: int | str | None = None) -> DivisionLimiter:
        """The budgets of the division ``scope`` (``None``: the division-less endpoints such as
        current/Me)."""
        key = str(scope)
        return self.once(f"limiter {key}", lambda: DivisionLimiter(
            key, int(self.config.get("requests_per_minute", 60)), self.logger,
            daily_reserve=int(self.config.get("daily_budget_reserve") or 0),
            daily_max_wait=float(self.config.get("daily_budget_max_wait", 300))))

    def error_hint(self, response: requests.Response) -> str | None:
        return error_hint(response)

    def vendor_error(self, response: requests.Response) -> str | None:
        return error_message(response)

    # -- plain GETs (divisions, sync timestamps) -----------------------------------------------------
    def get(self, path: str, params: Mapping[str, str] | None = None,
            division: int | str | None = None) -> requests.Response:
        """GET ``{api_url}{path}`` with the division's limiter (minutely and daily budget) and the
        retry policy; the response of the last try, whatever its status."""
        limiter = self.rate_limiter(division)
        url = self.api_url + path

        def attempt() -> requests.Response:
            limiter.acquire()
            response = self.session.get(url, params=params, timeout=self.timeout)
            limiter.observe_response(response)
            return self.retry_policy.raise_for_retriable(response)

        return self.retry_policy.decorate(attempt, logger=self.logger)()

    def get_json(self, path: str, params: Mapping[str, str] | None = None,
                 division: int | str | None = None) -> Any:
        """:meth:`get`, then the JSON body; RuntimeError (Exact's message) unless 200."""
        response = self.get(path, params, division)
        if response.status_code != 200:
            raise _failed(response, path)
        return response.json()

    def sync_timestamp(self, division: int | str | None, endpoint: str, modified: str) -> int:
        """:meth:`ask_sync_timestamp`, asked once per division, endpoint and date in a run (a
        catalog and a custom stream may share an endpoint); a refusal is remembered too."""
        key = f"sync timestamp {division} {endpoint.lower()} {modified}"

        def ask() -> int | SyncTimestampUnavailable:
            try:
                return self.ask_sync_timestamp(division, endpoint, modified)
            except SyncTimestampUnavailable as exc:
                return exc

        found = self.once(key, ask)
        if isinstance(found, SyncTimestampUnavailable):
            raise found
        return found

    def ask_sync_timestamp(self, division: int | str | None, endpoint: str, modified: str) -> int:
        """The Timestamp ``read/sync/Sync/SyncTimestamp`` answers for ``endpoint`` (its
        ``endPoint`` name, ``TransactionLines``) and ``modified`` (Exact's wall clock,
        ``2024-01-31T10:00:00``): the Timestamp of the first row modified at or after that moment
        (§2.5; Exact docs "Sync/SyncTimestamp": "the first record found ... greater than or equal").

        One request of the division's budgets. :class:`SyncTimestampUnavailable` when Exact
        refuses the endpoint (400) or answers no Timestamp; RuntimeError on any other failure.
        """
        path = f"/{division}/read/sync/Sync/SyncTimestamp"
        response = self.get(path, {"modified": f"datetime'{modified}'",
                                   "endPoint": f"'{endpoint}'"}, division)
        if response.status_code == 400:
            raise SyncTimestampUnavailable(
                f"Exact Online answered 400 for SyncTimestamp of {endpoint}: "
                f"{error_message(response) or response.reason}")
        if response.status_code != 200:
            raise _failed(response, path)
        rows = results_of(response.json())
        value = rows[0].get("TimeStampAsBigInt") if rows else None
        try:
            return int(value)  # type: ignore[arg-type]  # Edm.Int64: a JSON number, or a string in OData v2's verbose JSON
        except (TypeError, ValueError):
            raise SyncTimestampUnavailable(
                f"Exact Online's SyncTimestamp answer for {endpoint} has no TimeStampAsBigInt "
                f"({redact(response.text[:200])})") from None

    def current_division(self) -> int:
        body = self.get_json("/current/Me", {"$select": "CurrentDivision"})
        return int(results_of(body)[0]["CurrentDivision"])

    def accessible_divisions(self) -> list[int]:
        """Every division ``system/Divisions`` lists (not limited to one licence, §2.3)."""
        current = self.current_division()
        rows: list[dict] = []
        body = self.get_json(f"/{current}/system/Divisions", {"$select": "Code"}, current)
        while True:
            rows.extend(results_of(body))
            next_url = (body.get("d") or {}).get("__next") if isinstance(body, dict) else None
            if not next_url:
                break
            body = self.get_json(next_url[len(self.api_url):], None, current)
        return sorted(int(r["Code"]) for r in rows)


class SyncTimestampUnavailable(Exception):
    """Exact gives no SyncTimestamp for an endpoint (it serves only the listed ones)."""


def _failed(response: requests.Response, path: str) -> RuntimeError:
    hint = error_hint(response) or ""
    return RuntimeError(redact(
        f"{response.status_code} for GET /api/v1{path}: {response.text[:300]} {hint}"))


# The sync endpoints ``read/sync/Sync/SyncTimestamp`` serves, by path: Exact docs page
# "Sync/SyncTimestamp" (HlpRestAPIResourcesDetails.aspx?name=ReadSyncSyncSyncTimestamp), "You can
# provide the endPoint value based on the following supported endPoints". The ``endPoint`` value
# is the last segment of the path.
SYNC_TIMESTAMP_ENDPOINTS = frozenset(path.lower() for path in (
    "sync/CRM/QuotationHeaders", "sync/CRM/QuotationLines", "sync/Financial/TransactionLines",
    "sync/Inventory/ItemStorageLocations", "sync/Manufacturing/ShopOrders",
    "sync/Manufacturing/ShopOrderMaterialPlans", "sync/Manufacturing/ShopOrderRoutingStepPlans",
    "sync/Manufacturing/ShopOrderPurchasePlanning", "sync/Manufacturing/ShopOrderSubOrders",
    "sync/Manufacturing/MaterialIssues", "sync/Manufacturing/BillOfMaterialVersions",
    "sync/Manufacturing/BillOfMaterialMaterials", "sync/PurchaseOrder/PurchaseOrders",
    "sync/Project/Projects", "sync/Project/ProjectPlanning", "sync/Project/ProjectWBS",
    "sync/Project/TimeCostTransactions", "sync/SalesInvoice/SalesInvoices",
    "sync/SalesOrder/GoodsDeliveries", "sync/SalesOrder/GoodsDeliveryLines",
    "sync/SalesOrder/SalesOrderHeaders", "sync/SalesOrder/SalesOrderLines",
    "sync/Subscription/Subscriptions", "sync/Subscription/SubscriptionLines",
))


def sync_timestamp_endpoint(path: str) -> str | None:
    """The ``endPoint`` value of SyncTimestamp for the endpoint ``path``
    (``/sync/Financial/TransactionLines`` -> ``TransactionLines``), None if it serves no such path."""
    path = path.strip("/")
    return path.rsplit("/", 1)[-1] if path.lower() in SYNC_TIMESTAMP_ENDPOINTS else None


def server_timezone(name: str | None) -> Any:
    """The zone of Exact's wall clock (``server_timezone``); None for UTC."""
    name = name or "Europe/Amsterdam"
    if name.upper() == "UTC":
        return None
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception as exc:  # noqa: BLE001 - unknown zone or no tz database
        raise ExactConfigError(f"server_timezone {name!r} is not a known time zone ({exc})") from None


def results_of(body: Any) -> list[dict]:
    d = body.get("d") if isinstance(body, dict) else None
    if isinstance(d, dict):
        return d.get("results", [d]) if "results" in d else [d]
    if isinstance(d, list):
        return d
    return []


def parse_exact_date(value: str, tz: Any) -> str | None:
    """``/Date(1672531200000)/`` -> ISO 8601 UTC.

    Exact writes the server's wall clock (Europe/Amsterdam) as if it were UTC (contract §2.4,
    [AB]; the sandbox's default ``wall_clock="CET"``): the milliseconds are read as a naive wall
    clock time in ``tz`` and converted to UTC. ``tz`` None: read as UTC.
    """
    inner = value[6:-2]
    try:
        # "/Date(1672531200000+0100)/" carries an explicit offset: the ms are then true UTC.
        sign = max(inner.rfind("+"), inner.rfind("-"))
        if sign > 0:
            return (_EPOCH + timedelta(milliseconds=int(inner[:sign]))).isoformat()
        wall = (_EPOCH + timedelta(milliseconds=int(inner))).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return value  # not a date after all: keep it as Exact sent it
    if tz is None:
        return wall.replace(tzinfo=timezone.utc).isoformat()
    try:
        return wall.replace(tzinfo=tz).astimezone(timezone.utc).isoformat()
    except OverflowError:  # year 1 / 9999 sentinels cannot move across midnight of the calendar
        return wall.replace(tzinfo=timezone.utc).isoformat()


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_server_datetime(value: str, tz: Any) -> str:
    """An ISO 8601 date-time as Exact's wall clock (``tz``; None: UTC), without offset.

    The inverse of :func:`parse_exact_date`: ``2024-01-31T09:00:00+00:00`` is sent to an
    Amsterdam server as ``2024-01-31T10:00:00``. A value without offset is taken as already
    being the server's wall clock and sent as it is. ValueError if ``value`` is no date-time.
    """
    parsed = isoparse(value)
    if parsed.tzinfo is None:
        return value
    local = parsed.astimezone(tz) if tz is not None else parsed.astimezone(timezone.utc)
    text = local.replace(tzinfo=None).isoformat(timespec="milliseconds")
    return text[:-4] if text.endswith(".000") else text


GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def odata_literal(value: Any, code: str) -> str:
    """``value`` as an OData v2 literal of Edm code ``code`` (``g`` Guid, ``s`` String, ``i``/``l``
    integers, ``n`` Double, ``b`` Boolean, ``d`` DateTime in the server's wall clock already).

    ValueError when the value cannot be that type (a GUID that is not one, ...).
    """
    if code == "g":
        if not isinstance(value, str) or not GUID_RE.match(value):
            raise ValueError(f"{value!r} is not a GUID")
        return f"guid'{value}'"
    if code in ("i", "l"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not an integer")
        return f"{value}L" if code == "l" else str(value)
    if code == "n":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{value!r} is not a number")
        return repr(float(value))
    if code == "b":
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not a boolean")
        return "true" if value else "false"
    if code == "d":
        return f"datetime'{value}'"
    return "'" + str(value).replace("'", "''") + "'"
