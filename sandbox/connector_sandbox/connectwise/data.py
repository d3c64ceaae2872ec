"""Lazy, deterministic, related ConnectWise data of any size, plus a mutation overlay.

Nothing is materialised up front: a base record is a pure function of (seed, collection, id) and is
generated when asked for. Top-level collections hold ids ``1..size``; a nested collection
(``/service/tickets/{parentId}/notes``) holds ``k`` children per parent with globally unique ids
``(parent-1)*k + 1 .. parent*k``, so the parent of any child id is computable.

Base timestamps are deterministic, in the past (``dateEntered`` spread over 2019-01-01 ..
2025-01-01), and ``_info.lastUpdated`` is strictly increasing with the id. That lets ``id`` and
``lastUpdated``/``dateEntered`` range conditions be answered without scanning.

Writes live in an overlay per collection (changed records, created records, deleted ids); changed
and created records get the sandbox clock's now as ``_info.lastUpdated``.
"""

from __future__ import annotations

import bisect
import collections
import heapq
import itertools
import random
import threading
import time
from typing import Any, Callable, Iterator

import msgspec

from ..seeding import MASK, mix, stable_hash
from . import pools
from .catalog import Catalog, Collection, Field, Model, norm_template
from .conditions import CompiledConditions, FieldPath

DATA_START = 1546300800  # 2019-01-01T00:00:00Z
DATA_END = 1735689600  # 2025-01-01T00:00:00Z
LAG = 2 * 86400  # lastUpdated trails dateEntered by ~2 days (+ jitter below one step)
VARIANTS = 32

_encode = msgspec.json.Encoder().encode


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


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

# Reference model -> collection it points to (beyond the automatic XReference -> X mapping).
REF_TARGETS = {
    "CompanyReference": "/company/companies", "ContactReference": "/company/contacts",
    "MemberReference": "/system/members", "BoardReference": "/service/boards",
    "TicketReference": "/service/tickets", "ProjectReference": "/project/projects",
    "AgreementReference": "/finance/agreements", "OpportunityReference": "/sales/opportunities",
    "ActivityReference": "/sales/activities", "InvoiceReference": "/finance/invoices",
    "ConfigurationReference": "/company/configurations", "PriorityReference": "/service/priorities",
    "WorkRoleReference": "/time/workroles", "WorkTypeReference": "/time/worktypes",
    "CurrencyReference": "/finance/currencies", "CountryReference": "/company/countries",
    "SystemLocationReference": "/system/locations", "SystemDepartmentReference": "/system/departments",
    "OwnerLevelReference": "/system/locations", "BillingUnitReference": "/system/departments",
    "ServiceSourceReference": "/service/sources", "ServiceLocationReference": "/service/locations",
    "SecurityRoleReference": "/system/securityroles", "ProjectBoardReference": "/service/boards",
}
# Reference model -> (nested collection, field of the same record that names the parent).
NESTED_REFS = {
    "ServiceStatusReference": ("/service/boards/{}/statuses", "board"),
    "ServiceTypeReference": ("/service/boards/{}/types", "board"),
    "ServiceSubTypeReference": ("/service/boards/{}/subtypes", "board"),
    "ServiceTeamReference": ("/service/boards/{}/teams", "board"),
    "SiteReference": ("/company/companies/{}/sites", "company"),
    "ProjectPhaseReference": ("/project/projects/{}/phases", "project"),
}
HREF_KEYS = {"ServiceStatusReference": "status_href", "ProjectBoardReference": "board_href",
             "SystemLocationReference": "location_href", "SystemDepartmentReference": "department_href",
             "OwnerLevelReference": "location_href", "BillingUnitReference": "department_href"}
# Collections whose records belong to a company round-robin (company = ((id-1) % companies) + 1),
# so other records can pick a contact/agreement of *their* company.
OWNED_BY_COMPANY = {"/company/contacts", "/company/configurations", "/finance/agreements",
                    "/project/projects", "/sales/opportunities"}
# Optional reference fields that core records always carry.
ALWAYS = {
    "/service/tickets": {"board", "status", "company", "contact", "owner", "priority", "type", "source"},
    "/project/tickets": {"board", "status", "company", "project", "phase", "owner", "priority"},
    "/time/entries": {"company", "member", "ticket", "workType", "workRole"},
    "/company/contacts": {"company"},
    "/company/configurations": {"company", "contact", "status"},
    "/service/boards/{}/statuses": {"board"},
    "/company/companies": {"status", "country"},
    "/sales/opportunities": {"company", "contact", "status"},
    "/sales/activities": {"company", "contact", "status", "type"},
    "/schedule/entries": {"member", "status", "type"},
    "/finance/invoices": {"company", "status"},
    "/finance/agreements": {"company", "contact", "type"},
    "/project/projects": {"company", "board", "manager", "status"},
}
IDENT_FIELDS = ("name", "identifier", "summary", "firstName", "lastName")


class OverlayState:
    def __init__(self) -> None:
        self.changed: dict[int, dict[str, Any]] = {}
        self.created: dict[int, dict[str, Any]] = {}
        self.parent: dict[int, int] = {}  # created id -> scope (parent) id
        self.deleted: set[int] = set()
        self.mutated: list[int] = []  # sorted base ids that are changed or deleted
        self.next_id: int | None = None


class IdSeq:
    """Sorted record ids of one listing (base range minus mutations, merged with overlay matches)."""

    def __init__(self, lo: int, hi: int, excluded: list[int], overlay: list[int],
                 base_filter: Callable[[int], bool] | None = None) -> None:
        self.lo, self.hi = lo, hi
        self.excluded = excluded
        self.overlay = overlay
        self.base_filter = base_filter  # None => every base id in range matches (exact)

    def _base_iter(self, start: int) -> Iterator[int]:
        lo = max(self.lo, start)
        ex = self.excluded
        j = bisect.bisect_left(ex, lo)
        nxt = ex[j] if j < len(ex) else None
        filt = self.base_filter
        for i in range(lo, self.hi + 1):
            if i == nxt:
                j += 1
                nxt = ex[j] if j < len(ex) else None
                continue
            if filt is None or filt(i):
                yield i

    def iter_from(self, start: int) -> Iterator[int]:
        ov = self.overlay[bisect.bisect_left(self.overlay, start):]
        if not ov:
            return self._base_iter(start)
        return heapq.merge(self._base_iter(start), ov)

    def after(self, last_id: int, limit: int) -> list[int]:
        return list(itertools.islice(self.iter_from(last_id + 1), limit))

    # exact-only helpers (base_filter is None)
    def _count_le(self, v: int) -> int:
        base = max(0, min(v, self.hi) - self.lo + 1) - bisect.bisect_right(self.excluded, v)
        return max(0, base) + bisect.bisect_right(self.overlay, v)

    def count(self) -> int:
        assert self.base_filter is None
        base = max(0, self.hi - self.lo + 1) - len(self.excluded)
        return base + len(self.overlay)

    def slice(self, offset: int, limit: int) -> list[int]:
        assert self.base_filter is None
        if offset >= self.count():
            return []
        lo_v = min(self.lo, self.overlay[0] if self.overlay else self.lo)
        hi_v = max(self.hi, self.overlay[-1] if self.overlay else self.hi)
        a, b = lo_v, hi_v
        while a < b:  # smallest v with count_le(v) > offset
            m = (a + b) // 2
            if self._count_le(m) > offset:
                b = m
            else:
                a = m + 1
        return list(itertools.islice(self.iter_from(a), limit))


class ListSeq:
    def __init__(self, ids: list[int], by_id: bool = True) -> None:
        self.ids = ids
        self.by_id = by_id

    def count(self) -> int:
        return len(self.ids)

    def slice(self, offset: int, limit: int) -> list[int]:
        return self.ids[offset:offset + limit]

    def after(self, last_id: int, limit: int) -> list[int]:
        i = bisect.bisect_right(self.ids, last_id)
        return self.ids[i:i + limit]


class _Gen:
    """Per-collection generation plan: record variants + per-record override rules."""

    def __init__(self, salt: int, variants: list[dict[str, Any]], rules: list[tuple[str, Callable]]) -> None:
        self.salt = salt
        self.variants = variants
        self.rules = rules


class DataStore:
    """All ConnectWise data of one sandbox: sizes, lazy generation, overlay, caches."""

    def __init__(self, catalog: Catalog, seed: int = 42, sizes: dict[str, int] | None = None,
                 default_size: int = 3, default_child_size: int = 2, clock: Any = None,
                 api_member: str = "APIMember", cache_records: int = 10_000) -> None:
        self.catalog = catalog
        self.seed = int(seed)
        self.default_size = int(default_size)
        self.default_child_size = int(default_child_size)
        self.clock = clock
        self.api_member = api_member
        self.lock = threading.RLock()
        self._sizes: dict[str, int] = dict(CORE_SIZES)
        for k, v in (sizes or {}).items():
            self._sizes[self._size_key(k)] = int(v)
        self.overlay: dict[str, OverlayState] = collections.defaultdict(OverlayState)
        self.version = 0
        self.base_href = "http://127.0.0.1/v2025_1/apis/3.0"
        self._gens: dict[str, _Gen] = {}
        self._mb: dict[str, int] = {}
        self._steps: dict[str, int] = {}
        self._salts: dict[str, int] = {}
        self._refcache: dict[tuple[str, int], dict[str, dict]] = {}
        self._bytes: collections.OrderedDict[tuple[str, int], bytes] = collections.OrderedDict()
        self._cache_records = int(cache_records)
        self._queries: collections.OrderedDict[tuple, Any] = collections.OrderedDict()
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
            self._invalidate_all()

    def set_base_href(self, href: str) -> None:
        with self.lock:
            self.base_href = href.rstrip("/")
            self._invalidate_all()

    def _invalidate_all(self) -> None:
        self.version += 1
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
        ov = self.overlay.get(coll.norm)
        if ov is not None and rid in ov.parent:
            return ov.parent[rid]
        if coll.scope_is_string:
            return 1
        k = self.size(coll)
        return (rid - 1) // k + 1 if k else None

    def exists(self, coll: Collection, rid: int, scope: int | None = None) -> bool:
        ov = self.overlay.get(coll.norm)
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
            m = max(1, self.max_base_id(coll))
            v = self._steps[coll.norm] = max(1, min(86400 * 7, (DATA_END - DATA_START) // m))
        return v

    def entered_ts(self, coll: Collection, rid: int) -> int:
        return DATA_START + rid * self._step(coll)

    def updated_ts(self, coll: Collection, rid: int, r: int | None = None) -> int:
        step = self._step(coll)
        if r is None:
            r = self.rand(coll, rid)
        return DATA_START + rid * step + LAG + (r >> 20) % step

    def rand(self, coll: Collection, rid: int) -> int:
        return mix(self._salt(coll) ^ ((rid * 0x9E3779B97F4A7C15) & MASK))

    def _salt(self, coll: Collection) -> int:
        v = self._salts.get(coll.norm)
        if v is None:
            v = self._salts[coll.norm] = stable_hash(self.seed, coll.norm)
        return v

    def first_id_where(self, coll: Collection, key: str, op: str, value: str) -> tuple[int, int]:
        """Translate ``key op value`` (key lastUpdated/dateEntered) to an id range of base records."""
        m = self.max_base_id(coll)
        fn = (lambda i: iso(self.updated_ts(coll, i))) if key == "lastUpdated" else \
            (lambda i: iso(self.entered_ts(coll, i)))

        def first(pred: Callable[[int], bool]) -> int:
            a, b = 1, m + 1
            while a < b:
                mid = (a + b) // 2
                if pred(mid):
                    b = mid
                else:
                    a = mid + 1
            return a

        if op == ">":
            return first(lambda i: fn(i) > value), m
        if op == ">=":
            return first(lambda i: fn(i) >= value), m
        if op == "<":
            return 1, first(lambda i: fn(i) >= value) - 1
        return 1, first(lambda i: fn(i) > value) - 1  # "<="

    # ------------------------------------------------------------------ identity & references
    def ident(self, coll: Collection, rid: int) -> dict[str, Any]:
        """Identity fields (name/identifier/summary/...) of a record, cheap and deterministic."""
        key = coll.norm
        r = self.rand(coll, rid)
        ov = self.overlay.get(key)
        if ov is not None and (rid in ov.changed or rid in ov.created):
            rec = ov.changed.get(rid) or ov.created.get(rid) or {}
            return {k: rec[k] for k in IDENT_FIELDS if k in rec}
        if key == "/company/companies":
            a, n, s = pools.ADJ[r % 20], pools.NOUN[(r >> 8) % 20], pools.SUFFIX[(r >> 16) % 8]
            return {"name": f"{a} {n} {s}", "identifier": f"{a}{n}{rid}"[:30]}
        if key in ("/system/members", "/company/contacts"):
            first, last = pools.FIRST[r % 32], pools.LAST[(r >> 8) % 32]
            out = {"firstName": first, "lastName": last, "name": f"{first} {last}"}
            if key == "/system/members":
                base = (first[0] + last.replace(" ", "").replace("'", "")).replace("ü", "u")
                out["identifier"] = base[: 15 - len(str(rid))] + str(rid)
            return out
        if key in ("/service/tickets", "/project/tickets"):
            return {"summary": pools.TICKET_SUMMARIES[r % len(pools.TICKET_SUMMARIES)]}
        if key == "/service/boards":
            return {"name": _numbered(pools.BOARD_NAMES, rid)}
        if key == "/service/boards/{}/statuses":
            k = self.size(coll) or 1
            return {"name": _numbered(pools.STATUS_NAMES, (rid - 1) % k + 1)}
        if key == "/project/projects":
            return {"name": pools.PROJECT_NAMES[r % len(pools.PROJECT_NAMES)]}
        if key == "/finance/agreements":
            return {"name": pools.AGREEMENT_NAMES[r % len(pools.AGREEMENT_NAMES)]}
        if key == "/sales/opportunities":
            return {"name": pools.OPPORTUNITY_NAMES[r % len(pools.OPPORTUNITY_NAMES)]}
        if key == "/sales/activities":
            return {"name": pools.ACTIVITY_NAMES[r % len(pools.ACTIVITY_NAMES)]}
        if key == "/company/configurations":
            return {"name": f"{pools.CONFIG_PREFIXES[r % 8]}-{rid:05d}"}
        if key in pools.NAME_POOLS:
            name = _numbered(pools.NAME_POOLS[key], rid)
            return {"name": name, "identifier": "".join(ch for ch in name if ch.isalnum())[:10] + str(rid)}
        model = coll.model
        out = {}
        if "name" in model.by_name:
            out["name"] = f"{model.display} {rid}"
        if "identifier" in model.by_name:
            out["identifier"] = f"{model.name[:10]}{rid}"
        if "summary" in model.by_name:
            out["summary"] = f"{model.display} {rid}"
        return out

    def member_identifier(self, r: int) -> str:
        m = self._member_coll
        n = self.size(m)
        if n <= 0:
            return self.api_member
        return self.ident(m, 1 + r % n).get("identifier", self.api_member)

    def href(self, coll: Collection, rid: int, scope: int | None = None) -> str:
        path = coll.template
        if coll.nested:
            if scope is None:
                scope = self.parent_of(coll, rid)
            parts = path.split("/")
            idx = max(i for i, s in enumerate(parts) if s.startswith("{"))
            parts[idx] = str(scope)
            path = "/".join(parts)
        return f"{self.base_href}{path}/{rid}"

    def ref(self, ref_model: Model, coll: Collection, rid: int, scope: int | None = None) -> dict[str, Any]:
        slot = self._refcache.get((coll.norm, rid))
        if slot is not None:
            cached = slot.get(ref_model.name)
            if cached is not None:
                return cached
        out: dict[str, Any] = {"id": rid}
        ident = self.ident(coll, rid)
        for k in ("identifier", "name", "summary"):
            if k in ref_model.by_name and k in ident:
                v = ident[k]
                f = ref_model.by_name[k]
                out[k] = v[: f.max_len] if f.max_len else v
        if "_info" in ref_model.by_name:
            hk = HREF_KEYS.get(ref_model.name) or (ref_model.name[:1].lower() + ref_model.name[1:-9] + "_href")
            out["_info"] = {hk: self.href(coll, rid, scope)}
        if slot is None:
            if len(self._refcache) > 20_000:
                self._refcache.clear()
            slot = self._refcache[(coll.norm, rid)] = {}
        slot[ref_model.name] = out
        return out

    def ref_target(self, ref_name: str | None) -> tuple[Collection | None, str | None]:
        if not ref_name:
            return None, None
        if ref_name in NESTED_REFS:
            path, parent_field = NESTED_REFS[ref_name]
            return self.catalog.collections.get(norm_template(path)), parent_field
        if ref_name in REF_TARGETS:
            return self.catalog.collections.get(norm_template(REF_TARGETS[ref_name])), None
        if ref_name.endswith("Reference"):
            c = self.catalog.top_level_by_model.get(ref_name[:-9])
            if c is not None:
                return c, None
        return None, None

    # ------------------------------------------------------------------ generation plan
    def _gen(self, coll: Collection) -> _Gen:
        g = self._gens.get(coll.norm)
        if g is None:
            with self.lock:
                g = self._gens.get(coll.norm)
                if g is None:
                    g = self._build_gen(coll)
                    self._gens[coll.norm] = g
        return g

    def _build_gen(self, coll: Collection) -> _Gen:
        salt = stable_hash(self.seed, coll.norm)
        model = coll.model
        rng = random.Random(stable_hash(self.seed, "variants", coll.norm))
        variants = []
        for _ in range(VARIANTS):
            v: dict[str, Any] = {}
            if "id" in model.by_name:
                v["id"] = 0  # set per record; keeps "id" the first key
            for f in model.fields:
                if f.post_only or f.kind in ("info", "file") or f.name == "id":
                    continue
                if not f.required and rng.random() < 0.15:
                    continue
                val = self._gen_value(f, rng, 0, coll)
                if val is not None:
                    v[f.name] = val
            variants.append(v)
        rules = self._build_rules(coll)
        return _Gen(salt, variants, rules)

    def _gen_value(self, f: Field, rng: random.Random, depth: int, coll: Collection | None) -> Any:
        kind = f.kind
        if f.enum:
            return rng.choice(f.enum)
        if kind == "string":
            return _gen_string(f, rng)
        if kind == "integer":
            n = f.lname
            if n.endswith("id"):
                return rng.randint(1, 5) if rng.random() < 0.5 else None
            if "year" in n:
                return rng.randint(2010, 2024)
            if "sort" in n or "sequence" in n or "order" in n:
                return rng.randint(1, 20)
            return rng.randint(0, 100)
        if kind == "number":
            return round(rng.uniform(0, 500), 2)
        if kind == "boolean":
            return rng.random() < 0.3
        if kind == "datetime":
            return iso(DATA_START + rng.randrange(DATA_END - DATA_START))
        if kind == "object":
            if depth >= 2 or not f.ref:
                return None
            sub = self.catalog.models.get(f.ref)
            if sub is None:
                return None
            target, _ = self.ref_target(f.ref)
            if target is not None or f.ref.endswith("Reference"):
                # placeholder reference; resolvable ones are replaced per record by a rule
                rid = rng.randint(1, 3)
                out: dict[str, Any] = {"id": rid} if "id" in sub.by_name else {}
                if "name" in sub.by_name:
                    out["name"] = f"{sub.display.replace(' Reference', '')} {rid}"
                if "identifier" in sub.by_name:
                    out["identifier"] = f"{sub.name[:8]}{rid}"
                return out or None
            return {sf.name: val for sf in sub.fields
                    if sf.kind not in ("info", "file") and not sf.post_only
                    and (val := self._gen_value(sf, rng, depth + 1, None)) is not None} or None
        if kind == "array":
            if f.ref == "CustomFieldValue":
                return _custom_fields(rng)
            if f.ref == "ContactCommunicationItem":
                return None  # built per record
            if f.ref in ("integer", "string", "number", "boolean", "any", "datetime"):
                return []
            sub = self.catalog.models.get(f.ref or "")
            if sub is None or depth >= 1:
                return []
            if f.ref and f.ref.endswith("Reference"):
                target, _ = self.ref_target(f.ref)
                if target is not None:
                    return None  # built per record
            return []
        return None

    def _build_rules(self, coll: Collection) -> list[tuple[str, Callable]]:
        model = coll.model
        key = coll.norm
        rules: list[tuple[str, Callable]] = []
        always = ALWAYS.get(key, set())
        late: list[tuple[str, Callable]] = []
        ident_keys = [k for k in IDENT_FIELDS if k in model.by_name]
        if ident_keys:
            def r_ident(rid: int, r: int, rec: dict, _c=coll, _keys=ident_keys, _m=model) -> None:
                ident = self.ident(_c, rid)
                for k in _keys:
                    if k in ident:
                        v = ident[k]
                        ml = _m.by_name[k].max_len
                        rec[k] = v[:ml] if ml else v
            rules.append(("*ident", r_ident))
        parent_model = coll.parent.model if coll.parent is not None else None
        for f in model.fields:
            fsalt = stable_hash("field", f.name)
            name = f.name
            if name == "id" and f.kind == "integer":
                rules.append((name, lambda rid, r, rec: rec.__setitem__("id", rid)))
                continue
            if name == "id":
                # A model whose id is not an integer (e.g. UserEmail: a string) gets its id in
                # that type, so records match the documented model.
                rules.append((name, lambda rid, r, rec: rec.__setitem__("id", str(rid))))
                continue
            if f.kind == "info":
                def r_info(rid: int, r: int, rec: dict, _c=coll) -> None:
                    rec["_info"] = {
                        "lastUpdated": iso(self.updated_ts(_c, rid, r)),
                        "updatedBy": self.member_identifier(mix(r ^ 0x5555)),
                        "dateEntered": iso(self.entered_ts(_c, rid)),
                        "enteredBy": self.member_identifier(mix(r ^ 0xAAAA)),
                    }
                late.append((name, r_info))
                continue
            # link to the parent record in nested collections
            if coll.parent is not None and parent_model is not None:
                if f.kind == "integer" and f.lname in (parent_model.name.lower() + "id", "parentid"):
                    rules.append((name, lambda rid, r, rec, _c=coll, _n=name: rec.__setitem__(_n, self.parent_of(_c, rid))))
                    continue
                target, _ = self.ref_target(f.ref) if f.kind == "object" else (None, None)
                if target is not None and target is coll.parent:
                    sub = self.catalog.models.get(f.ref or "")
                    if sub is not None:
                        def r_parent(rid: int, r: int, rec: dict, _c=coll, _n=name, _s=sub) -> None:
                            p = self.parent_of(_c, rid)
                            rec[_n] = self.ref(_s, _c.parent, p)
                        rules.append((name, r_parent))
                        continue
            if f.kind == "object" and f.ref:
                target, parent_field = self.ref_target(f.ref)
                sub = self.catalog.models.get(f.ref)
                if target is None or sub is None:
                    continue
                optional = not (f.required or name in always)
                if parent_field is None:
                    owned = target.norm in OWNED_BY_COMPANY and "company" in model.by_name and key != target.norm
                    if key in OWNED_BY_COMPANY and name == "company":
                        def r_owner(rid: int, r: int, rec: dict, _t=target, _s=sub, _n=name) -> None:
                            n = self.size(_t)
                            if n > 0:
                                rec[_n] = self.ref(_s, _t, (rid - 1) % n + 1)
                        rules.append((name, r_owner))
                        continue

                    self_ref = target is coll

                    def r_ref(rid: int, r: int, rec: dict, _t=target, _s=sub, _n=name, _fs=fsalt,
                              _opt=optional, _owned=owned, _self=self_ref) -> None:
                        x = mix(r ^ _fs)
                        # optional references are absent 1 in 8 times; self-references
                        # (parentCompany, mergedParentTicket) are present only 1 in 16 times
                        if _opt and ((x & 15) != 0 if _self else (x & 7) == 0):
                            rec.pop(_n, None)
                            return
                        if _owned:
                            comp = rec.get("company")
                            if isinstance(comp, dict) and comp.get("id"):
                                tid = self.owned_pick(_t, comp["id"], x >> 8)
                                if tid is None:
                                    rec.pop(_n, None)
                                else:
                                    rec[_n] = self.ref(_s, _t, tid)
                                return
                        n = self.max_base_id(_t)
                        if n <= 0:
                            rec.pop(_n, None)
                            return
                        rec[_n] = self.ref(_s, _t, 1 + (x >> 8) % n)
                    rules.append((name, r_ref))
                else:
                    def r_child(rid: int, r: int, rec: dict, _t=target, _s=sub, _n=name, _pf=parent_field,
                                _fs=fsalt, _opt=optional, _c=coll) -> None:
                        x = mix(r ^ _fs)
                        if _opt and (x & 7) == 0:
                            rec.pop(_n, None)
                            return
                        par = rec.get(_pf)
                        pid = par.get("id") if isinstance(par, dict) else None
                        if pid is None and _t.parent is _c:
                            pid = rid
                        if pid is None:
                            n_par = self.max_base_id(_t.parent) if _t.parent is not None else 0
                            if n_par <= 0:
                                rec.pop(_n, None)
                                return
                            pid = 1 + (x >> 40) % n_par
                        k = self.size(_t)
                        if k <= 0 or (_t.parent is not None and pid > self.max_base_id(_t.parent)):
                            rec.pop(_n, None)
                            return
                        rec[_n] = self.ref(_s, _t, (pid - 1) * k + 1 + (x >> 8) % k, pid)
                    late.append((name, r_child))
                continue
            if f.kind == "datetime" and not f.post_only:
                optional = not f.required

                def r_dt(rid: int, r: int, rec: dict, _c=coll, _n=name, _fs=fsalt, _opt=optional) -> None:
                    x = mix(r ^ _fs)
                    if _opt and (x & 7) == 0:
                        rec.pop(_n, None)
                        return
                    rec[_n] = iso(self.entered_ts(_c, rid) + (x >> 16) % (60 * 86400))
                rules.append((name, r_dt))
                continue
            if f.kind == "array" and f.ref and f.ref.endswith("Reference"):
                target, parent_field = self.ref_target(f.ref)
                sub = self.catalog.models.get(f.ref)
                if target is not None and sub is not None and parent_field is None:
                    def r_arr(rid: int, r: int, rec: dict, _t=target, _s=sub, _n=name, _fs=fsalt) -> None:
                        n = self.max_base_id(_t)
                        rec[_n] = [self.ref(_s, _t, 1 + mix(r ^ _fs) % n)] if n > 0 else []
                    rules.append((name, r_arr))
        rules.extend(late)
        rules.extend(_core_rules(self, coll))
        return rules

    def owned_pick(self, target: Collection, company_id: int, x: int) -> int | None:
        companies = self.size(self.coll("/company/companies"))
        n = self.max_base_id(target)
        if companies <= 0 or company_id > companies or company_id > n:
            return None
        count = (n - company_id) // companies + 1
        return company_id + (x % count) * companies

    # ------------------------------------------------------------------ records
    def base_record(self, coll: Collection, rid: int) -> dict[str, Any]:
        g = self._gen(coll)
        r = mix(g.salt ^ ((rid * 0x9E3779B97F4A7C15) & MASK))
        rec = dict(g.variants[(r >> 3) % len(g.variants)])
        for _name, fn in g.rules:
            fn(rid, r, rec)
        return rec

    def get(self, coll: Collection, rid: int) -> dict[str, Any] | None:
        """The current record (read-only view; never mutate the returned dict)."""
        ov = self.overlay.get(coll.norm)
        if ov is not None:
            if rid in ov.deleted:
                return None
            rec = ov.changed.get(rid)
            if rec is None:
                rec = ov.created.get(rid)
            if rec is not None:
                return rec
        if not self.exists(coll, rid):
            return None
        return self.base_record(coll, rid)

    def record_bytes(self, coll: Collection, rid: int) -> bytes | None:
        key = (coll.norm, rid)
        b = self._bytes.get(key)
        if b is not None:
            return b
        rec = self.get(coll, rid)
        if rec is None:
            return None
        b = _encode(rec)
        if self._cache_records:
            self._bytes[key] = b
            if len(self._bytes) > self._cache_records:
                self._bytes.popitem(last=False)
        return b

    # ------------------------------------------------------------------ listing
    def _overlay_ids(self, coll: Collection, scope: int | None, lo: int, hi: int,
                     pred: Callable[[dict], bool] | None) -> tuple[list[int], list[int]]:
        ov = self.overlay.get(coll.norm)
        if ov is None:
            return [], []
        a = bisect.bisect_left(ov.mutated, lo)
        b = bisect.bisect_right(ov.mutated, hi)
        excluded = ov.mutated[a:b]
        matches = []
        for rid, rec in itertools.chain(ov.changed.items(), ov.created.items()):
            if coll.nested and scope is not None and not coll.scope_is_string:
                if self.parent_of(coll, rid) != scope:
                    continue
            if rid in ov.created and coll.nested and coll.parent is not None and scope is None:
                pass
            if pred is None or pred(rec):
                matches.append(rid)
        matches.sort()
        return excluded, matches

    def listing(self, coll: Collection, scope: int | None, cond: CompiledConditions | None,
                order: list[tuple[FieldPath, bool]] | None = None) -> Any:
        """A sequence of matching ids (``IdSeq`` or ``ListSeq``) with count/slice/after."""
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
        excluded, overlay_ids = self._overlay_ids(coll, scope, lo, hi, pred)
        base_filter = None
        if not exact:
            def base_filter(rid: int, _c=coll, _p=pred) -> bool:
                return _p(self.base_record(_c, rid))
        seq = IdSeq(lo, hi, excluded, overlay_ids, base_filter)
        if order:
            return self._ordered(coll, scope, cond, order, seq)
        return seq

    def materialize(self, coll: Collection, scope: int | None, cond: CompiledConditions | None,
                    seq: IdSeq) -> ListSeq:
        key = ("m", coll.norm, scope, cond.text if cond else None, self.version)
        hit = self._queries.get(key)
        if hit is not None:
            return hit
        out = ListSeq(list(seq.iter_from(0)))
        self._remember(key, out)
        return out

    def _ordered(self, coll: Collection, scope: int | None, cond: CompiledConditions | None,
                 order: list[tuple[FieldPath, bool]], seq: IdSeq) -> ListSeq:
        key = ("o", coll.norm, scope, cond.text if cond else None,
               tuple((p.text.lower(), d) for p, d in order), self.version)
        hit = self._queries.get(key)
        if hit is not None:
            return hit
        ids = list(seq.iter_from(0))
        if not (len(order) == 1 and order[0][0].keys == ["id"]):
            recs = {rid: self.get(coll, rid) or {} for rid in ids}
            for path, desc in reversed(order):
                def k(rid: int, _p=path) -> tuple:
                    v = _p.get(recs[rid])
                    return (0, "") if v is None else (1, v.lower() if isinstance(v, str) else v)
                ids.sort(key=k, reverse=desc)
        elif order[0][1]:
            ids.reverse()
        out = ListSeq(ids, by_id=False)
        self._remember(key, out)
        return out

    def _remember(self, key: tuple, value: Any) -> None:
        self._queries[key] = value
        while len(self._queries) > 32:
            self._queries.popitem(last=False)

    # ------------------------------------------------------------------ mutations
    def _ov(self, coll: Collection) -> OverlayState:
        return self.overlay[coll.norm]

    def now_iso(self) -> str:
        return iso(self.clock.timestamp() if self.clock is not None else time.time())

    def _mark_mutated(self, coll: Collection, rid: int) -> None:
        ov = self._ov(coll)
        if rid <= self.max_base_id(coll) and rid not in ov.created:
            i = bisect.bisect_left(ov.mutated, rid)
            if i == len(ov.mutated) or ov.mutated[i] != rid:
                ov.mutated.insert(i, rid)
        self._bytes.pop((coll.norm, rid), None)
        self.version += 1
        self._queries.clear()
        self._refcache.pop((coll.norm, rid), None)

    def new_id(self, coll: Collection) -> int:
        ov = self._ov(coll)
        base = self.max_base_id(coll)
        nxt = max(base + 1, ov.next_id or 0)
        ov.next_id = nxt + 1
        return nxt

    def put_record(self, coll: Collection, rid: int, record: dict[str, Any], scope: int | None = None) -> None:
        """Store a full record (created or changed) in the overlay."""
        with self.lock:
            ov = self._ov(coll)
            if rid in ov.created:
                ov.created[rid] = record
            elif rid <= self.max_base_id(coll) and self.exists(coll, rid):
                ov.changed[rid] = record
            else:
                ov.created[rid] = record
                if coll.nested and scope is not None:
                    ov.parent[rid] = scope
                ov.next_id = max(ov.next_id or 0, rid + 1)
            self._mark_mutated(coll, rid)

    def delete_record(self, coll: Collection, rid: int) -> bool:
        with self.lock:
            if not self.exists(coll, rid):
                return False
            ov = self._ov(coll)
            ov.changed.pop(rid, None)
            if ov.created.pop(rid, None) is None:
                ov.deleted.add(rid)
            ov.parent.pop(rid, None)
            self._mark_mutated(coll, rid)
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

    def reset(self) -> None:
        with self.lock:
            self.overlay.clear()
            self._invalidate_all()

    def total_count(self, coll: Collection, scope: int | None = None) -> int:
        return self.listing(coll, scope, None).count()

    def materialized_records(self) -> int:
        """How many records are held in memory (caches + overlay) — stays bounded."""
        return len(self._bytes) + sum(len(o.changed) + len(o.created) for o in self.overlay.values())


def copy_record(rec: dict[str, Any]) -> dict[str, Any]:
    return msgspec.json.decode(_encode(rec))


def _numbered(pool: list[str], rid: int) -> str:
    if rid <= len(pool):
        return pool[rid - 1]
    return f"{pool[(rid - 1) % len(pool)]} {(rid - 1) // len(pool) + 1}"


def _custom_fields(rng: random.Random) -> list[dict[str, Any]]:
    out = [{"id": 1, "caption": "Region", "type": "Text", "entryMethod": "EntryField", "numberOfDecimals": 0,
            "value": rng.choice(["EMEA", "NA", "APAC"])},
           {"id": 2, "caption": "VIP", "type": "Checkbox", "entryMethod": "EntryField", "numberOfDecimals": 0,
            "value": rng.random() < 0.2}]
    if rng.random() < 0.5:
        out.append({"id": 3, "caption": "Contract Ref", "type": "Text", "entryMethod": "EntryField",
                    "numberOfDecimals": 0})
    return out


def _gen_string(f: Field, rng: random.Random) -> str:
    n = f.lname
    if "email" in n:
        v = f"{rng.choice(pools.FIRST).lower()}.{rng.choice(pools.LAST).lower().replace(' ', '')}@example.com"
    elif "phone" in n or n.startswith("fax"):
        v = f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    elif "url" in n or "website" in n or "link" in n:
        v = f"https://www.example.com/{rng.choice(pools.WORDS)}"
    elif n in ("zip", "postalcode") or n.endswith("zip"):
        v = f"{rng.randint(10000, 99999)}"
    elif "city" in n:
        v = rng.choice(pools.CITIES)
    elif n.endswith("state") or n == "stateidentifier":
        v = rng.choice(pools.STATES)
    elif "addressline1" in n:
        v = f"{rng.randint(1, 400)} {rng.choice(pools.STREETS)}"
    elif "addressline2" in n:
        v = f"Suite {rng.randint(1, 50)}"
    elif "country" in n:
        v = rng.choice(["United States", "Netherlands", "United Kingdom"])
    elif "date" in n and "format" not in n:
        v = iso(DATA_START + rng.randrange(DATA_END - DATA_START))
    elif "color" in n or "colour" in n:
        v = "#%06x" % rng.randrange(1 << 24)
    elif "guid" in n:
        v = "%08x-%04x-4%03x-8%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                                             rng.getrandbits(12), rng.getrandbits(48))
    elif "ipaddress" in n or n == "defaultgateway":
        v = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    elif "macaddress" in n:
        v = ":".join("%02X" % rng.randrange(256) for _ in range(6))
    elif "serial" in n or "tagnumber" in n or "number" in n:
        v = f"SN{rng.randint(100000, 999999)}"
    elif n.endswith("by") or n.endswith("member") or n.endswith("name") and "user" in n:
        v = (rng.choice(pools.FIRST)[0] + rng.choice(pools.LAST).replace(" ", "").replace("'", "")).replace("ü", "u")
    elif "note" in n or "description" in n or "text" in n or "comment" in n or "message" in n:
        v = rng.choice(pools.NOTE_TEXTS)
    elif "name" in n:
        v = f"{rng.choice(pools.ADJ)} {rng.choice(pools.NOUN)}"
    else:
        v = f"{rng.choice(pools.WORDS).title()} {rng.choice(pools.WORDS)}"
    if f.max_len:
        v = v[: f.max_len]
    return v


def _core_rules(store: DataStore, coll: Collection) -> list[tuple[str, Callable]]:
    """Relational touches for the core entities (run after the generic rules)."""
    key = coll.norm
    rules: list[tuple[str, Callable]] = []
    if key == "/service/tickets":
        statuses = store.catalog.collections.get("/service/boards/{}/statuses")

        def r_ticket(rid: int, r: int, rec: dict) -> None:
            rec["recordType"] = "ServiceTicket"
            contact = rec.get("contact")
            if isinstance(contact, dict) and contact.get("name"):
                rec["contactName"] = contact["name"]
                rec["contactEmailAddress"] = contact["name"].lower().replace(" ", ".").replace("'", "") \
                    + f"{contact['id']}@example.com"
            site = rec.get("site")
            if isinstance(site, dict) and site.get("name"):
                rec["siteName"] = site["name"]
            st = rec.get("status")
            closed = False
            if isinstance(st, dict) and statuses is not None:
                k = store.size(statuses) or 1
                closed = store.ident(statuses, st["id"]).get("name") in ("Closed", "Resolved") \
                    or (st["id"] - 1) % k == 5
            rec["closedFlag"] = closed
            if closed:
                rec["closedDate"] = iso(store.updated_ts(coll, rid, r) - 3600)
                rec["closedBy"] = store.member_identifier(r >> 5)
            else:
                rec.pop("closedDate", None)
                rec.pop("closedBy", None)
        rules.append(("*ticket", r_ticket))
    elif key == "/project/tickets":
        rules.append(("*pticket", lambda rid, r, rec: rec.__setitem__("recordType", "ProjectTicket")
                      if "recordType" in coll.model.by_name else None))
    elif key == "/time/entries":
        tickets = store.coll("/service/tickets")
        ticket_model = store.catalog.models["TicketReference"]
        company_model = store.catalog.models["CompanyReference"]

        def r_time(rid: int, r: int, rec: dict) -> None:
            n = store.max_base_id(tickets)
            if n <= 0:
                return
            t = 1 + mix(r ^ 0x7777) % n
            rec["chargeToType"] = "ServiceTicket"
            rec["chargeToId"] = t
            rec["ticket"] = store.ref(ticket_model, tickets, t)
            trec_company = _ticket_company(store, tickets, t)
            if trec_company is not None:
                rec["company"] = store.ref(company_model, store.coll("/company/companies"), trec_company)
            for k in ("project", "phase", "ticketBoard", "ticketStatus", "ticketType", "ticketSubType"):
                rec.pop(k, None)
            start = store.entered_ts(coll, rid)
            hours = round(0.25 * (1 + (r >> 12) % 16), 2)
            rec["timeStart"] = iso(start)
            rec["timeEnd"] = iso(start + int(hours * 3600))
            rec["actualHours"] = hours
            rec["notes"] = pools.NOTE_TEXTS[(r >> 24) % len(pools.NOTE_TEXTS)]
        rules.append(("*time", r_time))
    elif key == "/service/tickets/{}/notes":
        def r_note(rid: int, r: int, rec: dict) -> None:
            rec["text"] = pools.NOTE_TEXTS[(r >> 9) % len(pools.NOTE_TEXTS)]
            rec["createdBy"] = store.member_identifier(r >> 13)
            rec["dateCreated"] = iso(store.entered_ts(coll, rid))
        rules.append(("*note", r_note))
    elif key == "/company/contacts":
        def r_contact(rid: int, r: int, rec: dict) -> None:
            first, last = rec.get("firstName", "x"), rec.get("lastName", "y")
            email = f"{first}.{last}".lower().replace(" ", "").replace("'", "").replace("ü", "u") + f"{rid}@example.com"
            rec["communicationItems"] = [
                {"id": rid * 2 - 1, "type": {"id": 1, "name": "Email"}, "value": email, "defaultFlag": True,
                 "communicationType": "Email"},
                {"id": rid * 2, "type": {"id": 2, "name": "Direct"}, "value": f"+1 555 {r % 900 + 100} {r % 9000 + 1000}",
                 "defaultFlag": True, "communicationType": "Phone"},
            ]
            rec["inactiveFlag"] = (r >> 7) % 20 == 0
        rules.append(("*contact", r_contact))
    elif key == "/system/members":
        def r_member(rid: int, r: int, rec: dict) -> None:
            first, last = rec.get("firstName", "x"), rec.get("lastName", "y")
            rec["officeEmail"] = f"{first}.{last}".lower().replace(" ", "").replace("'", "").replace("ü", "u")[:40] + "@sandbox-msp.example"
            rec["inactiveFlag"] = False
            rec.pop("password", None)
        rules.append(("*member", r_member))
    elif key == "/service/boards/{}/statuses":
        def r_status(rid: int, r: int, rec: dict) -> None:
            k = store.size(coll) or 1
            pos = (rid - 1) % k
            rec["sortOrder"] = pos
            rec["closedStatus"] = rec.get("name") in ("Closed", "Resolved")
            rec["defaultFlag"] = pos == 0
            rec["inactive"] = False
        rules.append(("*status", r_status))
    elif key == "/finance/invoices":
        def r_invoice(rid: int, r: int, rec: dict) -> None:
            rec["invoiceNumber"] = f"INV-{rid:06d}"
            total = round(50 + (r >> 10) % 500000 / 100, 2)
            rec["subtotal"] = total
            rec["total"] = round(total * 1.21, 2)
            rec["date"] = iso(store.entered_ts(coll, rid))
        rules.append(("*invoice", r_invoice))
    elif key == "/company/companies":
        def r_company(rid: int, r: int, rec: dict) -> None:
            rec["website"] = "https://www." + rec.get("identifier", "example").lower() + ".example"
            rec["deletedFlag"] = False
        rules.append(("*company", r_company))
    return rules


def _ticket_company(store: DataStore, tickets: Collection, t: int) -> int | None:
    ov = store.overlay.get(tickets.norm)
    if ov is not None and (t in ov.changed or t in ov.created):
        comp = (ov.changed.get(t) or ov.created.get(t) or {}).get("company")
        return comp.get("id") if isinstance(comp, dict) else None
    rec = store.base_record(tickets, t)
    comp = rec.get("company")
    return comp.get("id") if isinstance(comp, dict) else None
