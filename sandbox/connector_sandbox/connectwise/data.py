"""ConnectWise data of any size: collections, sizes, ids, timestamps, listings and writes.

Built on the shared :class:`~connector_sandbox.store.LazyStore`: nothing is materialised up front; a
base record is a pure function of (seed, collection, id), generated when asked for
(:mod:`.records`). Top-level collections hold ids ``1..size``; a nested collection
(``/service/tickets/{parentId}/notes``) holds ``k`` children per parent with globally unique ids
``(parent-1)*k + 1 .. parent*k``, so the parent of any child id is computable.

Base timestamps are deterministic, in the past (``dateEntered`` spread over 2019-01-01 ..
2025-01-01), and ``_info.lastUpdated`` is strictly increasing with the id. That lets ``id`` and
``lastUpdated``/``dateEntered`` range conditions be answered without scanning.

Writes live in the overlay of each collection (changed records, created records, deleted ids);
changed and created records get the sandbox clock's now as ``_info.lastUpdated``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec

from ..seeding import row_rand
from ..store import BoundedCache, IdList, LazyStore, Listing, first_index, spread_step
from .catalog import Catalog, Collection, norm_template
from .conditions import CompiledConditions, FieldPath
from .records import DATA_END, DATA_START, LAG, RecordGenerator, _Gen, iso

_encode = msgspec.json.Encoder().encode

# Default sizes: top-level = number of records; nested = children per parent.
CORE_SIZES = {
    "/company/companies": 50, "/company/contacts": 200, "/company/configurations": 100,
    "/company/companies/{}/sites": 2, "/service/boards": 5, "/service/boards/{}/statuses": 6,
    "/service/boards/{}/types": 3, "/service/boards/{}/subtypes": 3, "/service/boards/{}/teams": 2,
    "/service/tickets": 500, "/service/tickets/{}/notes": 3, "/time/entries": 1000,
    "/project/projects": 20, "/project/projects/{}/phases": 3, "/project/tickets": 200,
    "/finance/agreements": 30, "/system/members": 25, "/sales/opportunities": 50,
    "/sales/activities": 100, "/schedule/entries": 200, "/finance/invoices": 100,
    "/service/priorities": 5, "/time/workroles": 6, "/time/worktypes": 6, "/system/locations": 4,
    "/system/departments": 4, "/finance/currencies": 5, "/company/countries": 7,
    "/company/companies/statuses": 4, "/company/companies/types": 5,
    "/company/configurations/types": 6, "/company/configurations/statuses": 3,
    "/finance/agreements/types": 4, "/sales/opportunities/statuses": 4, "/sales/activities/types": 4,
    "/sales/activities/statuses": 2, "/schedule/types": 4, "/schedule/statuses": 3,
    "/project/statuses": 4, "/service/sources": 5, "/service/locations": 3, "/system/securityroles": 4,
}


class DataStore(RecordGenerator, LazyStore):
    """All ConnectWise data of one sandbox: sizes, lazy generation, the overlay of writes, caches."""

    def __init__(self, catalog: Catalog, seed: int = 42, sizes: dict[str, int] | None = None,
                 default_size: int = 3, default_child_size: int = 2, clock: Any = None,
                 api_member: str = "APIMember", cache_records: int = 10_000) -> None:
        super().__init__(seed)
        self.catalog = catalog
        self.default_size = int(default_size)
        self.default_child_size = int(default_child_size)
        self.clock = clock
        self.api_member = api_member
        self._sizes: dict[str, int] = dict(CORE_SIZES)
        for k, v in (sizes or {}).items():
            self._sizes[self._size_key(k)] = int(v)
        self.base_href = "http://127.0.0.1/v2025_1/apis/3.0"
        self._gens: dict[str, _Gen] = {}
        self._mb: dict[str, int] = {}
        self._steps: dict[str, int] = {}
        self._refcache: dict[tuple[str, int], dict[str, dict]] = {}
        self._bytes = BoundedCache(cache_records)  # encoded records: warm pages are fast
        self._queries = BoundedCache(32)  # materialised or sorted listings, until the next write
        self._member_coll = self.coll("/system/members")

    # ------------------------------------------------------------------ collections & sizes
    def _size_key(self, path: str) -> str:
        key = norm_template(path)
        if key not in self.catalog.collections:
            raise KeyError(f"unknown collection path {path!r} (use a list endpoint, e.g. /service/tickets)")
        return key

    def coll(self, path: str) -> Collection:
        return self.catalog.collections[norm_template(path)]

    def size(self, coll: Collection) -> int:
        s = self._sizes.get(coll.norm)
        if s is not None:
            return s
        if coll.norm.endswith("/info") and not coll.nested:
            base = self.catalog.collections.get(coll.norm[:-5])
            if base is not None:
                return self.size(base)
        return self.default_child_size if coll.nested else self.default_size

    def set_size(self, path: str, n: int) -> None:
        with self.lock:
            self._sizes[self._size_key(path)] = int(n)
            self.invalidate()

    def set_base_href(self, href: str) -> None:
        with self.lock:
            self.base_href = href.rstrip("/")
            self.invalidate()

    def invalidate(self) -> None:
        super().invalidate()
        self._gens.clear()
        self._mb.clear()
        self._steps.clear()
        self._refcache.clear()
        self._bytes.clear()
        self._queries.clear()

    def max_base_id(self, coll: Collection) -> int:
        v = self._mb.get(coll.norm)
        if v is None:
            v = self._mb[coll.norm] = self._max_base_id(coll)
        return v

    def _max_base_id(self, coll: Collection) -> int:
        if not coll.nested:
            return self.size(coll)
        if coll.parent is None or coll.scope_is_string:
            return self.size(coll) * (1 if coll.scope_is_string else 1000)
        return self.max_base_id(coll.parent) * self.size(coll)

    def scope_range(self, coll: Collection, scope: int | None) -> tuple[int, int]:
        """Base id range of a listing (whole collection when scope is None)."""
        if not coll.nested or scope is None:
            return 1, self.max_base_id(coll)
        k = self.size(coll)
        if coll.scope_is_string:
            return 1, k
        if coll.parent is not None and scope > self.max_base_id(coll.parent):
            return 1, 0
        return (scope - 1) * k + 1, scope * k

    def parent_of(self, coll: Collection, rid: int) -> int | None:
        if not coll.nested:
            return None
        ov = self.overlay(coll.norm)
        if ov is not None and rid in ov.parent:
            return ov.parent[rid]
        if coll.scope_is_string:
            return 1
        k = self.size(coll)
        return (rid - 1) // k + 1 if k else None

    def exists(self, coll: Collection, rid: int, scope: int | None = None) -> bool:
        ov = self.overlay(coll.norm)
        if ov is not None:
            if rid in ov.deleted:
                return False
            if rid in ov.created:
                return scope is None or not coll.nested or ov.parent.get(rid) == scope
        if rid < 1 or rid > self.max_base_id(coll):
            return False
        if coll.nested:
            p = self.parent_of(coll, rid)
            if scope is not None and not coll.scope_is_string and p != scope:
                return False
            if coll.parent is not None and not coll.scope_is_string and p is not None:
                return self.exists(coll.parent, p)
        return True

    def scope_exists(self, coll: Collection, scope: int | None) -> bool:
        if not coll.nested or coll.parent is None or coll.scope_is_string or scope is None:
            return True
        return self.exists(coll.parent, scope)

    # ------------------------------------------------------------------ timestamps
    def _step(self, coll: Collection) -> int:
        v = self._steps.get(coll.norm)
        if v is None:
            v = self._steps[coll.norm] = spread_step(self.max_base_id(coll), DATA_END - DATA_START, 1, 86400 * 7)
        return v

    def entered_ts(self, coll: Collection, rid: int) -> int:
        return DATA_START + rid * self._step(coll)

    def updated_ts(self, coll: Collection, rid: int, r: int | None = None) -> int:
        step = self._step(coll)
        if r is None:
            r = self.rand(coll, rid)
        return DATA_START + rid * step + LAG + (r >> 20) % step

    def rand(self, coll: Collection, rid: int) -> int:
        return row_rand(self.salt(coll.norm), rid)

    def first_id_where(self, coll: Collection, key: str, op: str, value: str) -> tuple[int, int]:
        """Translate ``key op value`` (key lastUpdated/dateEntered) to an id range of base records."""
        m = self.max_base_id(coll)
        fn = (lambda i: iso(self.updated_ts(coll, i))) if key == "lastUpdated" else \
            (lambda i: iso(self.entered_ts(coll, i)))

        def first(pred: Callable[[int], bool]) -> int:
            return first_index(1, m, pred)

        if op == ">":
            return first(lambda i: fn(i) > value), m
        if op == ">=":
            return first(lambda i: fn(i) >= value), m
        if op == "<":
            return 1, first(lambda i: fn(i) >= value) - 1
        return 1, first(lambda i: fn(i) > value) - 1  # "<="


    # ------------------------------------------------------------------ records
    def get(self, coll: Collection, rid: int) -> dict[str, Any] | None:
        """The current record (read-only view; never mutate the returned dict)."""
        return self.current(coll.norm, rid, lambda i: self.base_record(coll, i) if self.exists(coll, i) else None)

    def record_bytes(self, coll: Collection, rid: int) -> bytes | None:
        key = (coll.norm, rid)
        b = self._bytes.get(key)
        if b is not None:
            return b
        rec = self.get(coll, rid)
        if rec is None:
            return None
        b = _encode(rec)
        self._bytes.put(key, b)
        return b

    # ------------------------------------------------------------------ listing
    def listing(self, coll: Collection, scope: int | None, cond: CompiledConditions | None,
                order: list[tuple[FieldPath, bool]] | None = None) -> Listing | IdList:
        """The matching ids (a :class:`Listing`, or an :class:`IdList` when ordered) with count/slice/after."""
        lo, hi = self.scope_range(coll, scope)
        pred = cond.predicate if cond is not None else None
        exact = cond is None or cond.exact
        if cond is not None:
            lo = max(lo, cond.bounds.id_lo)
            if cond.bounds.id_hi is not None:
                hi = min(hi, cond.bounds.id_hi)
            for key, op, value in cond.bounds.time:
                a, b = self.first_id_where(coll, key, op, value)
                lo, hi = max(lo, a), min(hi, b)
        in_scope = coll.nested and scope is not None and not coll.scope_is_string

        def accept(rid: int, rec: dict[str, Any]) -> bool:
            if in_scope and self.parent_of(coll, rid) != scope:
                return False
            return pred is None or pred(rec)

        def base_filter(rid: int) -> bool:
            return pred(self.base_record(coll, rid))
        seq = self.table_listing(coll.norm, lo, hi, accept, None if exact else base_filter)
        if order:
            return self._ordered(coll, scope, cond, order, seq)
        return seq

    def materialize(self, coll: Collection, scope: int | None, cond: CompiledConditions | None,
                    seq: Listing) -> IdList:
        key = ("m", coll.norm, scope, cond.text if cond else None, self.generation)
        hit = self._queries.get(key)
        if hit is not None:
            return hit
        out = IdList(list(seq.iter_from()))
        self._queries.put(key, out)
        return out

    def _ordered(self, coll: Collection, scope: int | None, cond: CompiledConditions | None,
                 order: list[tuple[FieldPath, bool]], seq: Listing) -> IdList:
        key = ("o", coll.norm, scope, cond.text if cond else None,
               tuple((p.text.lower(), d) for p, d in order), self.generation)
        hit = self._queries.get(key)
        if hit is not None:
            return hit
        ids = list(seq.iter_from())
        if not (len(order) == 1 and order[0][0].keys == ["id"]):
            recs = {rid: self.get(coll, rid) or {} for rid in ids}
            for path, desc in reversed(order):
                def k(rid: int, _p=path) -> tuple:
                    v = _p.get(recs[rid])
                    return (0, "") if v is None else (1, v.lower() if isinstance(v, str) else v)
                ids.sort(key=k, reverse=desc)
        elif order[0][1]:
            ids.reverse()
        out = IdList(ids)
        self._queries.put(key, out)
        return out

    # ------------------------------------------------------------------ writes
    def now_iso(self) -> str:
        return iso(self.clock.timestamp() if self.clock is not None else time.time())

    def _wrote(self, coll: Collection, rid: int) -> None:
        self.wrote()
        self._bytes.pop((coll.norm, rid))
        self._queries.clear()
        self._refcache.pop((coll.norm, rid), None)

    def new_id(self, coll: Collection) -> int:
        return self.overlay_for(coll.norm).allocate(self.max_base_id(coll) + 1)

    def put_record(self, coll: Collection, rid: int, record: dict[str, Any], scope: int | None = None) -> None:
        """Store a full record (created or changed) in the overlay."""
        with self.lock:
            base = rid <= self.max_base_id(coll) and self.exists(coll, rid)
            self.overlay_for(coll.norm).put(rid, record, base=base, parent=scope if coll.nested else None)
            self._wrote(coll, rid)

    def delete_record(self, coll: Collection, rid: int) -> bool:
        with self.lock:
            if not self.exists(coll, rid):
                return False
            self.overlay_for(coll.norm).remove(rid, base=rid <= self.max_base_id(coll))
            self._wrote(coll, rid)
            return True

    def touch_record(self, coll: Collection, rid: int, change: Callable[[dict], None] | None = None) -> dict | None:
        with self.lock:
            rec = self.get(coll, rid)
            if rec is None:
                return None
            rec = copy_record(rec)
            if change is not None:
                change(rec)
            if "_info" in coll.model.by_name:
                info = dict(rec.get("_info") or {})
                info["lastUpdated"] = self.now_iso()
                info["updatedBy"] = self.api_member
                rec["_info"] = info
            self.put_record(coll, rid, rec)
            return rec

    def total_count(self, coll: Collection, scope: int | None = None) -> int:
        return self.listing(coll, scope, None).count()

    def materialized_rows(self) -> int:
        """Records held in memory (encoded-record cache + overlay): stays bounded."""
        return len(self._bytes) + super().materialized_rows()


def copy_record(rec: dict[str, Any]) -> dict[str, Any]:
    return msgspec.json.decode(_encode(rec))
