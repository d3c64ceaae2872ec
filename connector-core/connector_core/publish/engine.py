"""The publish engine: every record ends published, rejected with a reason, or the run fails.

A vendor target supplies a :class:`PublishDialect` (how to check, address and read back its
entities); the engine does the rest, the same for every vendor:

1. a record becomes a :class:`PublishItem`: the seed's envelope ``{"path", "query", "payload"}``
   or a plain record (the payload; path values from the mapped fields);
2. the dialect checks it before anything is sent (unknown entity, method not allowed, missing
   path value, payload not matching the entity): a failed check is a reject, not a request;
3. UPSERT looks the object up (by key or ``match`` fields, cached) and becomes PATCH/PUT or POST;
4. requests go out with bounded concurrency under the shared rate limiter and retry policy; a 4xx
   is a reject carrying the vendor's message, a failure that outlasts the retries stops the run;
5. each outcome is a line in the results or rejects file (:class:`~connector_core.publish.journal.
   Journal`); ``dry_run`` logs the requests and sends none.
"""

from __future__ import annotations

import json
import logging
import threading
import typing as t
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from connector_core.params import MissingPathParameterError, template_params
from connector_core.publish.journal import Journal, canonical_json, fingerprint, json_default
from connector_core.publish.mapping import StreamMapping
from connector_core.ratelimit import RateLimiter
from connector_core.redaction import redact
from connector_core.retry import RetriableHTTPError, RetryPolicy, default_vendor_error

ENVELOPE_KEYS = frozenset({"path", "query", "payload"})


class PublishError(RuntimeError):
    """A record could be neither published nor rejected (e.g. the service kept failing)."""


class Reject(Exception):
    """This record cannot be published; ``reason`` says why (and ``status`` the HTTP status)."""

    def __init__(self, reason: str, *, status: int | None = None, vendor_message: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.vendor_message = vendor_message


@dataclass
class PublishItem:
    """One record, resolved into what to send."""

    stream: str
    record: dict
    mapping: StreamMapping
    key: t.Any
    path: dict[str, t.Any]
    query: dict[str, t.Any]
    payload: t.Any
    method: str
    fingerprint: str = ""

    @classmethod
    def from_record(cls, stream: str, record: dict, mapping: StreamMapping,
                    key_properties: t.Sequence[str] = ()) -> PublishItem:
        """The seed's envelope, or a plain record whose fields fill the path."""
        if record and set(record) <= ENVELOPE_KEYS and "payload" in record or (
            record and set(record) <= {"path", "query"} and "path" in record
        ):
            path = dict(record.get("path") or {})
            query = {**mapping.query, **(record.get("query") or {})}
            payload = record.get("payload")
        else:
            path = {
                param: record[mapping.field_for(param)]
                for param in template_params(mapping.entity)
                if record.get(mapping.field_for(param)) is not None
            }
            query = dict(mapping.query)
            # A field the mapping's ``path`` names explicitly (``{"parentId": "ticket_id"}``)
            # is the record's address, not part of the object: it fills the path only.
            address = {f for p, f in mapping.path_fields.items() if f != p}
            payload = {k: v for k, v in record.items() if k not in address} if address else record
        key = [record.get(k) for k in key_properties] if key_properties else None
        if key is None and isinstance(payload, dict):
            key = payload.get("id") if payload.get("id") is not None else None
        if key is None and path:
            key = path
        return cls(stream=stream, record=record, mapping=mapping, key=key, path=path,
                   query=query, payload=payload, method=mapping.method,
                   fingerprint=fingerprint(stream, record))


@dataclass
class Request:
    """An HTTP request the dialect built; ``url`` is absolute."""

    method: str
    url: str
    params: dict[str, t.Any] = field(default_factory=dict)
    json: t.Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: The limiter of this request's budget when the vendor's budgets are per account or per
    #: company (Exact Online: per division); None: the publisher's limiter.
    rate_limiter: t.Any = None


class PublishDialect:
    """What a vendor target tells the engine. Override the methods marked so."""

    #: Methods the vendor has; UPSERT resolves to ``update_method`` or POST.
    update_method = "PATCH"

    def check(self, item: PublishItem) -> None:
        """Raise :class:`Reject` if the item cannot be sent as it is (override)."""

    def build(self, item: PublishItem, method: str, template: str, path: dict[str, t.Any]) -> Request:
        """The request for ``method`` on ``template`` filled with ``path`` (override)."""
        raise NotImplementedError

    def lookup(self, item: PublishItem, send: t.Callable[[Request], requests.Response]) -> t.Any:
        """For UPSERT: the remote id of the existing object, or None (override)."""
        raise NotImplementedError

    def lookup_scope(self, item: PublishItem) -> t.Any:
        """What else separates objects with equal ids besides the path (e.g. Exact's division)."""
        return None

    def object_id(self, item: PublishItem) -> t.Any:
        """The id the record gives its object (an UPSERT without ``match`` looks it up by it)."""
        return item.payload.get("id") if isinstance(item.payload, dict) else None

    def item_path(self, item: PublishItem, remote_id: t.Any) -> tuple[str, dict[str, t.Any]]:
        """Entity template and path values addressing one existing object (override)."""
        raise NotImplementedError

    def collection_path(self, item: PublishItem) -> tuple[str, dict[str, t.Any]]:
        """Entity template and path values of the collection to POST a new object to."""
        raise NotImplementedError

    def find_created(self, item: PublishItem, request: Request,
                     send: t.Callable[[Request], requests.Response]) -> t.Any:
        """After a crash: the id of the object an unanswered POST of ``request`` created, or None.

        Override to look the object up; by default the record is rejected (it may exist).
        """
        raise Reject(f"an interrupted run sent this {request.method} {_path_of(request.url)} and "
                     "recorded no answer: it may have created the object, so it is not sent again "
                     "(check, and send the record again if the object is missing)")

    def remote_id(self, item: PublishItem, response: requests.Response) -> t.Any:
        """The id of the object a response created or changed."""
        return None

    def vendor_error(self, response: requests.Response) -> str | None:
        return default_vendor_error(response)

    def observe(self, request: Request, response: requests.Response) -> None:
        """Called with every final answer (after retries); e.g. to count the vendor's errors."""


class Publisher:
    """Publishes batches of items through a dialect; see the module docstring."""

    def __init__(self, dialect: PublishDialect, journal: Journal, *, session: requests.Session,
                 retry_policy: RetryPolicy, rate_limiter: RateLimiter | None, concurrency: int = 4,
                 dry_run: bool = False, logger: logging.Logger | None = None,
                 lookup_cache_size: int = 100_000, timeout: float = 300) -> None:
        self.dialect = dialect
        self.journal = journal
        self.session = session
        self.retry_policy = retry_policy
        self.rate_limiter = rate_limiter
        self.concurrency = max(1, concurrency)
        self.dry_run = dry_run
        self.timeout = timeout
        self.logger = logger or logging.getLogger("connector_core.publish")
        self._lookups: OrderedDict[str, t.Any] = OrderedDict()
        self._lookup_lock = threading.Lock()
        self._lookup_cache_size = lookup_cache_size
        self.requests_sent = 0
        self._count_lock = threading.Lock()

    # -- batches -----------------------------------------------------------------------------------
    def publish(self, items: t.Sequence[PublishItem]) -> None:
        """Publish ``items``; records with the same key keep their order. Raises PublishError."""
        groups: OrderedDict[str, list[PublishItem]] = OrderedDict()
        for item in items:
            groups.setdefault(self._group_key(item), []).append(item)
        if self.concurrency == 1 or len(groups) == 1:
            for group in groups.values():
                self._publish_group(group)
            return
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="publish") as pool:
            futures = [pool.submit(self._publish_group, group) for group in groups.values()]
            errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]

    def _publish_group(self, group: list[PublishItem]) -> None:
        for item in group:
            self.publish_one(item)

    # -- one record --------------------------------------------------------------------------------
    def publish_one(self, item: PublishItem) -> None:
        earlier = self.journal.already_published(item.fingerprint)
        if earlier is not None:
            self.logger.info("Record %s of %s was published before the interruption (%s, remote id "
                             "%s); not sending it again", item.key, item.stream, earlier.get("method"),
                             earlier.get("remote_id"))
            return
        try:
            self.dialect.check(item)
            method, path_template, path = self._resolve(item)
            if method == "POST":
                _check_required(item)
            request = self.dialect.build(item, method, path_template, path)
        except Reject as reject:
            self._reject(item, reject)
            return
        except MissingPathParameterError as exc:
            self._reject(item, Reject(str(exc)))
            return
        if self.dry_run:
            self.logger.info("dry run: would send %s %s params=%s body=%s", request.method,
                             redact(request.url), request.params, redact(canonical_json(request.json)))
            self.journal.result(stream=item.stream, key=item.key, method=request.method,
                                url=redact(request.url), status=None, remote_id=None,
                                fingerprint=item.fingerprint, dry_run=True)
            return
        if request.method == "POST" and self.journal.take_in_doubt(item.fingerprint):
            try:
                found = self.dialect.find_created(item, request, self.send)
            except Reject as reject:
                self._reject(item, reject)
                return
            if found is not None:
                self.logger.warning("Record %s of %s: the interrupted run's POST created it (id %s); "
                                    "not sending it again", item.key, item.stream, found)
                if item.method == "UPSERT":
                    self._remember(item, found)
                self.journal.result(stream=item.stream, key=item.key, method="POST",
                                    url=redact(request.url), status=None, remote_id=found,
                                    fingerprint=item.fingerprint, recovered=True)
                return
        if request.method == "POST":
            self.journal.sending(item.fingerprint, stream=item.stream, key=item.key)
        response = self.send(request)
        if 200 <= response.status_code < 300:
            remote_id = self.dialect.remote_id(item, response)
            if item.method == "UPSERT" and request.method == "POST" and remote_id is not None:
                self._remember(item, remote_id)
            self.journal.result(stream=item.stream, key=item.key, method=request.method,
                                url=redact(response.url or request.url), status=response.status_code,
                                remote_id=remote_id, fingerprint=item.fingerprint)
            return
        vendor = self.dialect.vendor_error(response)
        self._reject(item, Reject(
            f"{request.method} {_path_of(request.url)} answered {response.status_code}"
            + (f": {vendor}" if vendor else ""), status=response.status_code, vendor_message=vendor))

    def _resolve(self, item: PublishItem) -> tuple[str, str, dict[str, t.Any]]:
        """Method and address; UPSERT becomes an update of the found object or a POST."""
        if item.method != "UPSERT":
            return item.method, item.mapping.entity, item.path
        cache_key = self._lookup_key(item)
        with self._lookup_lock:
            cached = self._lookups.get(cache_key, _MISSING)
        remote_id = cached if cached is not _MISSING else self.dialect.lookup(item, self.send)
        if cached is _MISSING and remote_id is not None:
            self._remember(item, remote_id)
        if remote_id is None:
            template, path = self.dialect.collection_path(item)
            return "POST", template, path
        template, path = self.dialect.item_path(item, remote_id)
        return self.dialect.update_method, template, path

    def _group_key(self, item: PublishItem) -> str:
        """Items that may touch the same object share a group and go in order, one at a time."""
        if item.method == "UPSERT":
            return self._lookup_key(item)
        if item.key is not None:
            return canonical_json([item.stream, item.key])
        return item.fingerprint

    def _lookup_key(self, item: PublishItem) -> str:
        """What an UPSERT looks the object up by: its match values, else its id."""
        payload = item.payload if isinstance(item.payload, dict) else {}
        by = ([payload.get(m) for m in item.mapping.match] if item.mapping.match
              else self.dialect.object_id(item))
        if by is None or by == [None] * len(item.mapping.match):
            by = item.fingerprint  # nothing to look up by: a create, unique to this record
        return canonical_json([item.mapping.entity, item.path, self.dialect.lookup_scope(item),
                               item.mapping.match, by])

    def _remember(self, item: PublishItem, remote_id: t.Any) -> None:
        with self._lookup_lock:
            self._lookups[self._lookup_key(item)] = remote_id
            while len(self._lookups) > self._lookup_cache_size:
                self._lookups.popitem(last=False)

    def _reject(self, item: PublishItem, reject: Reject) -> None:
        self.logger.warning("Rejected a record of %s (key %s): %s", item.stream, item.key,
                            redact(reject.reason))
        self.journal.reject(stream=item.stream, key=item.key, reason=reject.reason,
                            status=reject.status, vendor_message=reject.vendor_message,
                            record=item.record)

    # -- HTTP --------------------------------------------------------------------------------------
    def send(self, request: Request) -> requests.Response:
        """Send with the rate limiter and retry policy. 2xx/4xx are returned; 429/5xx retried."""

        limiter = request.rate_limiter or self.rate_limiter
        headers = dict(request.headers)
        body = None
        if request.json is not None:
            # Encoded here, not by requests: Singer readers give numbers as Decimal.
            body = json.dumps(request.json, separators=(",", ":"), default=json_default).encode()
            headers.setdefault("Content-Type", "application/json")

        def attempt() -> requests.Response:
            if limiter is not None:
                limiter.acquire()
            response = self.session.request(request.method, request.url, params=request.params,
                                            data=body, headers=headers, timeout=self.timeout)
            with self._count_lock:
                self.requests_sent += 1
            if limiter is not None:
                limiter.observe_response(response)
            if self.retry_policy.is_retriable_status(response.status_code):
                raise RetriableHTTPError(response)
            return response

        try:
            response = self.retry_policy.decorate(
                attempt, logger=self.logger,
                describe=lambda *_: f"{request.method} {_path_of(request.url)}",
                vendor_error=self.dialect.vendor_error)()
        except Exception as exc:
            raise PublishError(redact(str(exc))) from exc
        self.dialect.observe(request, response)
        if response.status_code == 401:
            # Refused credentials are no fault of the record: rejecting every record (and passing
            # STATE on) would lose the run; stop it instead.
            vendor = self.dialect.vendor_error(response)
            raise PublishError(redact(f"{request.method} {_path_of(request.url)} answered 401"
                                      + (f": {vendor}" if vendor else "")
                                      + "; check the credentials"))
        return response


_MISSING = object()


def _check_required(item: PublishItem) -> None:
    """A record that would create an object has the fields its mapping says creating needs."""
    payload = item.payload if isinstance(item.payload, dict) else {}
    missing = [f for f in item.mapping.required if payload.get(f) in (None, "", [], {})]
    if missing:
        raise Reject(f"{', '.join(missing)} missing: creating a {item.mapping.entity} needs "
                     f"{', '.join(item.mapping.required)} (mappings.{item.stream}.required)")


def _path_of(url: str) -> str:
    return requests.utils.urlparse(url).path


