"""The publish engine: every record ends published, rejected with a reason, or the run fails.

A vendor target supplies a :class:`PublishDialect` (how to check, address and read back its
entities); the engine does the rest, the same for every vendor:

1. a record becomes a :class:`PublishItem`: the seed's envelope ``{"path", "query", "payload"}``
   or a plain record (the payload; path values from the mapped fields);
2. the dialect checks it before anything is sent (unknown entity, method not allowed, missing
   path value, payload not matching the entity): a failed check is a reject, not a request;
3. UPSERT looks the object up (by key or ``match`` fields, cached) and becomes PATCH/PUT or POST;
   an update sends only the fields whose values differ from the object's, and nothing at all
   when none differ (a ``skipped: unchanged`` result): see :meth:`Publisher._changed_fields`;
4. requests go out with bounded concurrency under the shared rate limiter and retry policy; a 4xx
   is a reject carrying the vendor's message and, as a tap's error does, the setting to fix (the
   connection's ``error_hint``); a 401 stops the run (it is no fault of the record), as does a
   failure that outlasts the retries;
5. each outcome is a line in the results or rejects file (:class:`~connector_core.publish.journal.
   Journal`); ``dry_run`` logs the requests and sends none.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import typing as t
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import requests
from dateutil.parser import isoparse

from connector_core.catalog import packaged_json
from connector_core.params import MissingPathParameterError, template_params, template_shape
from connector_core.publish.journal import Journal, canonical_json, fingerprint, json_default
from connector_core.publish.mapping import StreamMapping
from connector_core.ratelimit import Limiter
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
        key: t.Any = [record.get(k) for k in key_properties] if key_properties else None
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


@dataclass(frozen=True)
class FoundObject:
    """What an UPSERT's look-up found: the object's id and, when the look-up read them, its values.

    ``values`` are the object's fields as the vendor returned them (None: not read, so an update
    sends every field of the record). ``fields`` names the fields ``values`` covers (the ones the
    look-up asked for); None: all of the object's. A field outside ``fields`` is unknown, and an
    unknown value is never taken as equal.
    """

    remote_id: t.Any
    values: t.Mapping[str, t.Any] | None = None
    fields: frozenset[str] | None = None

    def knows(self, name: str) -> bool:
        return self.values is not None and (self.fields is None or name in self.fields)


@lru_cache(maxsize=16)
def _endpoints_by_shape(package: str) -> dict[str, str]:
    return {template_shape(path): path for path in packaged_json(package, "entities.json")["endpoints"]}


class PublishDialect:
    """What a vendor target tells the engine. Override the methods marked so."""

    #: The package whose generated ``entities.json`` maps the vendor's tap streams to entities
    #: (``{"streams": {stream: entity}}``); None: no stream has a default mapping.
    entities_package: t.ClassVar[str | None] = None
    #: The vendor connection the dialect writes through (the constructor's): its ``vendor_error``
    #: and ``error_hint`` read the vendor's answers. None: generic readings.
    connection: t.Any = None

    def __init__(self, connection: t.Any = None) -> None:
        self.connection = connection

    @classmethod
    def for_target(cls, target: t.Any) -> PublishDialect:
        """The dialect of a :class:`~connector_core.publish.target.PublishTarget`'s run
        (override to read more of the target's settings)."""
        return cls(target.connection)

    @classmethod
    def entities(cls) -> dict[str, t.Any]:
        """The vendor's generated ``entities.json``."""
        if cls.entities_package is None:
            return {"streams": {}}
        return packaged_json(cls.entities_package, "entities.json")

    @classmethod
    def find_endpoint(cls, template: str) -> str | None:
        """The template of ``entities.json``'s ``endpoints`` that has the shape of ``template``
        (placeholder names may differ: ``/companies/{companyId}`` finds ``/companies/{id}``)."""
        if cls.entities_package is None:
            return None
        return _endpoints_by_shape(cls.entities_package).get(template_shape(template))

    # -- addressing (entities.json's ``endpoints``: template -> {"methods": [...], ...}) ----------
    #: How errors name the vendor's API ("the ConnectWise Manage API").
    api_name: t.ClassVar[str] = "the vendor's API"

    def endpoint(self, template: str) -> tuple[str, dict[str, t.Any]]:
        """The known template of the shape of ``template`` and its entry; a Reject if none."""
        known = self.find_endpoint(template)
        if known is None:
            raise Reject(f"unknown entity {template}: not an endpoint of {self.api_name}")
        return known, self.entities()["endpoints"][known]

    def collection_path(self, item: PublishItem) -> tuple[str, dict[str, t.Any]]:
        """The collection of the item's entity (an item template gives its collection) and the
        path values it takes."""
        template = item.mapping.entity.rstrip("/")
        if template.endswith("}"):
            template = template.rsplit("/", 1)[0]
        return template, {k: v for k, v in item.path.items() if k in template_params(template)}

    def item_path(self, item: PublishItem, remote_id: t.Any) -> tuple[str, dict[str, t.Any]]:
        """The item endpoint below the item's collection, with ``remote_id`` as its last value."""
        collection, path = self.collection_path(item)
        template = self.find_endpoint(collection + "/{id}")
        if template is None:
            raise Reject(f"{collection} has no item endpoint ({collection}/{{id}}) to update")
        return template, {**path, template_params(template)[-1]: remote_id}

    @classmethod
    def default_mapping(cls, stream: str) -> t.Mapping[str, t.Any] | None:
        """A stream named like one of the vendor tap's streams UPSERTs its entity by key."""
        entity = cls.entities()["streams"].get(stream)
        return {"entity": entity, "method": "UPSERT"} if entity else None

    #: Methods the vendor has; UPSERT resolves to ``update_method`` or POST.
    update_method = "PATCH"
    #: True when the vendor leaves null fields out of the objects it returns (ConnectWise): a
    #: field the look-up asked for and did not get is null. False: it is unknown.
    absent_is_null = False

    def check(self, item: PublishItem) -> None:
        """Raise :class:`Reject` if the item cannot be sent as it is (override)."""

    def build(self, item: PublishItem, method: str, template: str, path: dict[str, t.Any]) -> Request:
        """The request for ``method`` on ``template`` filled with ``path`` (override)."""
        raise NotImplementedError

    def lookup(self, item: PublishItem, send: t.Callable[[Request], requests.Response]) -> t.Any:
        """For UPSERT: the existing object, or None (override).

        Return a :class:`FoundObject` with the object's values for the fields an update would
        send (read in the same request), so the engine sends only what differs; a bare remote id
        means the values are unknown and an update sends every field.
        """
        raise NotImplementedError

    def update_fields(self, item: PublishItem, template: str,
                      path: dict[str, t.Any]) -> dict[str, t.Any] | None:
        """The fields an update of the found object would send, by the payload's field names,
        with the values as the request carries them; None: this item is not compared (override).

        The engine compares each with the object's value and builds the update from a payload
        without the equal ones. Raise :class:`Reject` for what no update may carry.
        """
        return None

    def comparable(self, item: PublishItem, path: tuple[str, ...], value: t.Any) -> t.Any:
        """``value`` of the field at ``path`` (``("company", "id")``) in a form in which equal
        values are equal: the sent value and the object's go through it before ``==``.

        By default numbers compare by value (``10``, ``10.0`` and ``Decimal("10.00")`` are
        equal; a boolean is no number). Vendors add their formats (date-times, GUID case, ...).
        """
        return _number(value)

    def written_object(self, item: PublishItem, request: Request,
                       response: requests.Response) -> t.Mapping[str, t.Any] | None:
        """The whole object as a write's answer shows it (a POST's or PATCH's body), or None."""
        return None

    def lookup_scope(self, item: PublishItem) -> t.Any:
        """What else separates objects with equal ids besides the path (e.g. Exact's division)."""
        return None

    def object_id(self, item: PublishItem) -> t.Any:
        """The id the record gives its object (an UPSERT without ``match`` looks it up by it)."""
        return item.payload.get("id") if isinstance(item.payload, dict) else None

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

    # -- reading answers ---------------------------------------------------------------------------
    def refusal(self, response: requests.Response, what: str, *, default_hint: str | None = None) -> Reject:
        """The reject of a refused request: ``{what} answered 403: <vendor's text>; <hint>``, the
        hint (:meth:`error_hint`, else ``default_hint``) naming the setting to fix, as the tap's
        error does."""
        vendor = self.vendor_error(response)
        hint = self.error_hint(response) or default_hint
        return Reject(f"{what} answered {response.status_code}" + (f": {vendor}" if vendor else "")
                      + (f"; {hint}" if hint else ""), status=response.status_code, vendor_message=vendor)

    def expect_ok(self, response: requests.Response, what: str) -> None:
        """A look-up's answer is a 200; else its :meth:`refusal` (``what``: ``looking up …``)."""
        if response.status_code != 200:
            raise self.refusal(response, what)

    def vendor_error(self, response: requests.Response) -> str | None:
        """The vendor's error text in an answer: the connection's reading of its error body."""
        if self.connection is None:
            return default_vendor_error(response)
        return self.connection.vendor_error(response)

    def error_hint(self, response: requests.Response) -> str | None:
        """Which setting to fix after a refusal (the connection's hint); None: no hint."""
        return self.connection.error_hint(response) if self.connection is not None else None

    def observe(self, request: Request, response: requests.Response) -> None:
        """Called with every final answer (after retries); e.g. to count the vendor's errors."""


class Publisher:
    """Publishes batches of items through a dialect; see the module docstring."""

    def __init__(self, dialect: PublishDialect, journal: Journal, *, session: requests.Session,
                 retry_policy: RetryPolicy, rate_limiter: Limiter | None, concurrency: int = 4,
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
        self._lookups: OrderedDict[str, t.Any] = OrderedDict()       # look-up key -> remote id
        self._objects: OrderedDict[str, FoundObject] = OrderedDict()  # object key -> its values
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
            raise t.cast(BaseException, errors[0])

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
        found: FoundObject | None = None
        changed: dict[str, t.Any] | None = None
        try:
            self.dialect.check(item)
            method, path_template, path, found = self._resolve(item)
            if method == "POST":
                _check_required(item)
            request = self.dialect.build(item, method, path_template, path)
            if found is not None and method == self.dialect.update_method:
                fields = self.dialect.update_fields(item, path_template, path)
                if fields is not None:
                    changed = self._changed_fields(item, found, fields)
                    if not changed:
                        self._unchanged(item, request, found)
                        return
                    if len(changed) < len(fields):
                        request = self.dialect.build(_without(item, set(fields) - set(changed)),
                                                     method, path_template, path)
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
                created = self.dialect.find_created(item, request, self.send)
            except Reject as reject:
                self._reject(item, reject)
                return
            if created is not None:
                self.logger.warning("Record %s of %s: the interrupted run's POST created it (id %s); "
                                    "not sending it again", item.key, item.stream, created)
                if item.method == "UPSERT":
                    self._remember(item, FoundObject(created))
                self.journal.result(stream=item.stream, key=item.key, method="POST",
                                    url=redact(request.url), status=None, remote_id=created,
                                    fingerprint=item.fingerprint, recovered=True)
                return
        if request.method == "POST":
            self.journal.sending(item.fingerprint, stream=item.stream, key=item.key)
        response = self.send(request)
        if 200 <= response.status_code < 300:
            remote_id = self.dialect.remote_id(item, response)
            self._written(item, request, response, remote_id, found, changed)
            self.journal.result(stream=item.stream, key=item.key, method=request.method,
                                url=redact(response.url or request.url), status=response.status_code,
                                remote_id=remote_id, fingerprint=item.fingerprint)
            return
        self._reject(item, self.dialect.refusal(response, f"{request.method} {_path_of(request.url)}"))

    def _resolve(self, item: PublishItem) -> tuple[str, str, dict[str, t.Any], FoundObject | None]:
        """Method and address; UPSERT becomes an update of the found object or a POST."""
        if item.method != "UPSERT":
            return item.method, item.mapping.entity, item.path, None
        cache_key = self._lookup_key(item)
        with self._lookup_lock:
            cached = self._lookups.get(cache_key, _MISSING)
            if cached is not _MISSING:
                self._lookups.move_to_end(cache_key)
        if cached is _MISSING:
            found = self.dialect.lookup(item, self.send)
            if found is not None and not isinstance(found, FoundObject):
                found = FoundObject(found)  # a dialect that reads no values
            if found is not None:
                self._remember(item, found)
        else:
            found = self._object(item, cached)
        if found is None:
            template, path = self.dialect.collection_path(item)
            return "POST", template, path, None
        template, path = self.dialect.item_path(item, found.remote_id)
        return self.dialect.update_method, template, path, found

    # -- comparing with the object the look-up found -----------------------------------------------
    def _changed_fields(self, item: PublishItem, found: FoundObject,
                        fields: dict[str, t.Any]) -> dict[str, t.Any]:
        """The fields of an update (``fields``: the dialect's :meth:`~PublishDialect.update_fields`)
        whose values differ from the object's; all of them when its values are unknown.

        Only the fields the record sends are compared: a field the object has and the record
        doesn't mention is no difference. Nested objects compare on the keys the record gives
        (a reference ``{"id": 5}`` equals the object's ``{"id": 5, "name": ...}``); lists compare
        element by element and must have the same length. A value the object lacks is unknown
        (not equal), unless the vendor leaves nulls out (``absent_is_null``).
        """
        return {name: value for name, value in fields.items()
                if not (found.knows(name)
                        and self._same(item, (name,), value,
                                       (found.values or {}).get(name, _MISSING)))}

    def _same(self, item: PublishItem, path: tuple[str, ...], sent: t.Any, current: t.Any) -> bool:
        if current is _MISSING:
            if not self.dialect.absent_is_null:
                return False
            current = None
        if isinstance(sent, dict):
            if not isinstance(current, dict) or (not sent and current):
                return False
            return all(self._same(item, (*path, k), v, current.get(k, _MISSING))
                       for k, v in sent.items())
        if isinstance(sent, list):
            if not isinstance(current, list) or len(current) != len(sent):
                return False
            return all(self._same(item, path, s, c) for s, c in zip(sent, current))
        if isinstance(current, (dict, list)):
            return False
        comparable = self.dialect.comparable
        return _equal(comparable(item, path, sent), comparable(item, path, current))

    def _unchanged(self, item: PublishItem, request: Request, found: FoundObject) -> None:
        """Nothing to send: the object already has every value the record gives."""
        if self.dry_run:
            self.logger.info("dry run: would send nothing to %s: unchanged", redact(request.url))
        self.journal.unchanged(stream=item.stream, key=item.key, url=redact(request.url),
                               remote_id=found.remote_id, fingerprint=item.fingerprint,
                               **({"dry_run": True} if self.dry_run else {}))

    def _written(self, item: PublishItem, request: Request, response: requests.Response,
                 remote_id: t.Any, found: FoundObject | None, changed: dict[str, t.Any] | None) -> None:
        """Keep what the run knows about the object a write changed, for the next record of it."""
        if item.method != "UPSERT":
            # An explicit write changed an object an UPSERT of this run may have read: forget
            # its values (they would be stale), keep the look-up.
            if remote_id is not None:
                with self._lookup_lock:
                    self._objects.pop(self._object_key(item, remote_id), None)
            return
        object_id = remote_id if request.method == "POST" else (found.remote_id if found else remote_id)
        if object_id is None:
            return
        whole = self.dialect.written_object(item, request, response)
        names = frozenset(item.payload) if isinstance(item.payload, dict) else frozenset()
        if whole is not None:
            known = FoundObject(object_id, {k: whole[k] for k in names if k in whole}, names)
        elif found is not None and found.values is not None and changed is not None:
            # The answer has no body (Exact's PUT): the object now has what was sent.
            known = FoundObject(object_id, {**found.values, **changed},
                                None if found.fields is None else found.fields | set(changed))
        else:
            known = FoundObject(object_id)
        self._remember(item, known)

    # -- the look-up cache ---------------------------------------------------------------------------
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

    def _object_key(self, item: PublishItem, remote_id: t.Any) -> str:
        """One object, whichever stream or match found it: its collection, scope and id."""
        try:
            template, path = self.dialect.collection_path(item)
        except Reject:
            template, path = item.mapping.entity, item.path
        return canonical_json([template, path, self.dialect.lookup_scope(item), remote_id])

    def _object(self, item: PublishItem, remote_id: t.Any) -> FoundObject:
        """The found object of a cached look-up, with its values if the run still knows them."""
        key = self._object_key(item, remote_id)
        with self._lookup_lock:
            known = self._objects.get(key)
            if known is not None:
                self._objects.move_to_end(key)
        return known if known is not None else FoundObject(remote_id)

    def _remember(self, item: PublishItem, found: FoundObject) -> None:
        object_key = self._object_key(item, found.remote_id)
        with self._lookup_lock:
            self._lookups[self._lookup_key(item)] = found.remote_id
            self._lookups.move_to_end(self._lookup_key(item))
            if found.values is not None:
                self._objects[object_key] = found
                self._objects.move_to_end(object_key)
            else:
                self._objects.pop(object_key, None)
            for cache in (self._lookups, self._objects):
                while len(cache) > self._lookup_cache_size:
                    cache.popitem(last=False)

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
            refusal = self.dialect.refusal(response, f"{request.method} {_path_of(request.url)}",
                                           default_hint="check the credentials")
            raise PublishError(redact(refusal.reason))
        return response


_MISSING = object()


def _number(value: t.Any) -> t.Any:
    """A number as a Decimal (a float by its shortest repr: ``0.1`` is ``Decimal("0.1")``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return value
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:  # pragma: no cover - inf/nan reprs are valid Decimals
        return value


def parse_datetime(value: t.Any) -> datetime | None:
    """An ISO 8601 date or date-time string as a datetime (aware if it has an offset or ``Z``);
    None if ``value`` is not one. For dialects comparing date-times written differently."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return isoparse(value)
    except (ValueError, OverflowError):
        return None


def _equal(a: t.Any, b: t.Any) -> bool:
    """``==``, except that a boolean equals only a boolean (``True == 1`` in Python)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _without(item: PublishItem, names: set[str]) -> PublishItem:
    """``item`` with the payload fields ``names`` left out (the update's unchanged fields; the
    other fields, such as the key or a division, stay: the dialect may address the object with
    them)."""
    return dataclasses.replace(item, payload={k: v for k, v in item.payload.items() if k not in names})


def _check_required(item: PublishItem) -> None:
    """A record that would create an object has the fields its mapping says creating needs."""
    payload = item.payload if isinstance(item.payload, dict) else {}
    missing = [f for f in item.mapping.required if payload.get(f) in (None, "", [], {})]
    if missing:
        raise Reject(f"{', '.join(missing)} missing: creating a {item.mapping.entity} needs "
                     f"{', '.join(item.mapping.required)} (mappings.{item.stream}.required)")


def _path_of(url: str) -> str:
    return requests.utils.urlparse(url).path


