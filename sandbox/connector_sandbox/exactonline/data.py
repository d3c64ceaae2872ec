"""Lazy, deterministic, related Exact Online data of any size, per division, plus a write overlay.

Nothing is materialised up front. A base row is a pure function of (seed, division, table, index);
a table of ``n`` rows holds indexes ``1..n`` and a value is computed only when a response needs it,
so ``sizes={"financial/TransactionLines": 100_000}`` costs nothing until a page is read.

* Keys: an Edm.Guid key is an invertible scramble of the index (so ``$skiptoken=guid'…'`` and
  ``Accounts(guid'…')`` map back to an index without any lookup table).
* Time: ``Created`` and ``Modified`` grow strictly with the index (2019-01-01 .. 2025-01-01 of the
  server wall clock, see :class:`~.odata.WallClock`), so ``Modified gt datetime'…'`` is a binary search.
* ``Timestamp`` (the sync row version, Edm.Int64) also grows with the index; every write takes the
  next value of a per-division counter above every base value, so changed rows move to the end of
  the sync stream, as a SQL Server rowversion would.
* Lines (SalesInvoiceLines, SalesOrderLines, …) come ``k`` per header: line ``i`` belongs to header
  ``(i-1)//k + 1``; the size of a lines table is "lines per header".
* Writes go to the shared overlay (:class:`~connector_sandbox.store.Overlay`) of each (division,
  table): changed rows, created rows (indexes from ``CREATED_BASE`` up), deleted indexes; the row
  versions of the overlay are the Timestamps of written rows; deletions also append rows to
  ``sync/Deleted``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..seeding import MASK, mix, row_rand, stable_hash
from ..store import LazyStore, Overlay, first_index, parent_of, position_of, spread_step
from . import pools
from .catalog import Catalog, Dataset
from .odata import WallClock, ms_from_naive

DAY_MS = 86_400_000
DATA_START_MS = 1546300800000  # 2019-01-01T00:00:00 (wall clock)
DATA_END_MS = 1735689600000  # 2025-01-01T00:00:00
LAG_MS = 2 * DAY_MS  # Created trails the row's base instant by two days
TS_BASE = 10_000_000  # base Timestamp of index 0
TS_STEP = 8
OVERLAY_TS_BASE = 100_000_000_000  # every write's Timestamp is above any base row's
CREATED_BASE = 1_000_000_000_000  # indexes of rows created through the API
DELETED_ID = "sync/deleted"

# Default table sizes (rows per division; for lines tables: lines per header).
CORE_SIZES = {
    "crm/accounts": 50, "crm/contacts": 100, "crm/addresses": 50, "logistics/items": 40,
    "financial/glaccounts": len(pools.GL_CHART), "financial/journals": len(pools.JOURNALS),
    "financialtransaction/transactionlines": 500, "salesinvoice/salesinvoices": 40,
    "salesinvoice/salesinvoicelines": 3, "salesorder/salesorders": 30, "salesorder/salesorderlines": 3,
    "project/projects": 12, "crm/quotations": 10, "crm/quotationlines": 2, "cashflow/paymentconditions": 4,
    "general/currencies": 3, "vat/vatcodes": 4, DELETED_ID: 0,
}
DIVISION_TABLES = {"system/divisions", "hrm/divisions", "system/alldivisions", "system/getmostrecentlyuseddivisions"}

# Guid properties that reference another table's key, wherever they appear.
REF_TARGETS = {
    "Account": "crm/accounts", "OrderedBy": "crm/accounts", "InvoiceTo": "crm/accounts",
    "DeliverTo": "crm/accounts", "Supplier": "crm/accounts", "Customer": "crm/accounts",
    "Item": "logistics/items", "GLAccount": "financial/glaccounts", "GLRevenue": "financial/glaccounts",
    "GLCosts": "financial/glaccounts", "GLStock": "financial/glaccounts", "Project": "project/projects",
    "Contact": "crm/contacts", "MainContact": "crm/contacts", "OrderedByContactPerson": "crm/contacts",
    "InvoiceToContactPerson": "crm/contacts", "DeliverToContactPerson": "crm/contacts",
    "AccountContact": "crm/contacts",
}
LABEL_SUFFIXES = ("FullName", "Description", "Name", "Code")
PERSON_REFS = {"Creator", "Modifier", "Manager", "Salesperson", "Employee", "AccountManager", "Approver",
               "DeletedBy"}


_M1 = 0xD6E8FEB86659FD93
_M2 = 0xA0761D6478BD642F
_M1_INV = pow(_M1, -1, 1 << 64)
_M2_INV = pow(_M2, -1, 1 << 64)


def _unshift(y: int, s: int) -> int:
    x = y
    for _ in range(64 // s + 1):
        x = y ^ (x >> s)
    return x & MASK


class GuidCodec:
    """Index <-> Edm.Guid, a keyed bijection: the low 64 bits scramble the index, the high 64 bits
    are a check derived from them (a guid of another table or division does not decode)."""

    def __init__(self, salt: int) -> None:
        self.lo = mix(salt)
        self.hi = mix(salt ^ 0x5DEECE66D)

    def _perm(self, x: int) -> int:
        x = (x ^ self.lo) & MASK
        x = (x * _M1) & MASK
        x ^= x >> 29
        x = (x * _M2) & MASK
        return x ^ (x >> 32)

    def _unperm(self, y: int) -> int:
        x = _unshift(y, 32)
        x = (x * _M2_INV) & MASK
        x = _unshift(x, 29)
        x = (x * _M1_INV) & MASK
        return x ^ self.lo

    def _high(self, low: int) -> int:
        return (mix(low ^ self.hi) & ~(0xF << 48)) | (0x4 << 48)  # version nibble 4

    def encode(self, index: int) -> str:
        low = self._perm(index)
        h = f"{self._high(low):016x}{low:016x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def decode(self, guid: str) -> int | None:
        try:
            value = int(guid.replace("-", ""), 16)
        except ValueError:
            return None
        low = value & MASK
        if (value >> 64) != self._high(low):
            return None
        return self._unperm(low)


def random_guid(r: int) -> str:
    h = f"{mix(r) & ~(0xF << 48) | (0x4 << 48):016x}{mix(r ^ 0xABCDEF):016x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class RecordView:
    """Lazy accessor of one row: values are computed (and memoised) field by field."""

    __slots__ = ("store", "div", "ds", "i", "r", "cache", "over", "_parent")

    def __init__(self, store: DataStore, div: int, ds: Dataset, i: int, over: dict[str, Any] | None) -> None:
        self.store = store
        self.div = div
        self.ds = ds
        self.i = i
        self.r = store.row_rand(div, ds, i)
        self.cache: dict[str, Any] = {}
        self.over = over
        self._parent: RecordView | None | bool = False

    def parent(self) -> RecordView | None:
        if self._parent is False:
            link = self.ds.parent
            self._parent = None
            if link is not None:
                p = self.store.parent_index(self.div, self.ds, self.i)
                if p is not None and self.store.exists(self.div, link.header, p):
                    self._parent = self.store.view(self.div, link.header, p)
        return self._parent  # type: ignore[return-value]

    def get(self, name: str) -> Any:
        over = self.over
        if over is not None:
            if name in over:
                return over[name]
            if name in self.ds.own_fields or self.ds.parent is None:
                return None
        else:
            c = self.cache
            if name in c:
                return c[name]
            if name in self.ds.own_fields or self.ds.parent is None:
                fn = self.store.generator(self.ds).get(name)
                v = fn(self) if fn is not None else None
                c[name] = v
                return v
        p = self.parent()  # a header property on a line-level (sync) view
        v = p.get(name) if p is not None else None
        if over is None:
            self.cache[name] = v
        return v

    def rf(self, name: str) -> int:
        return mix(self.r ^ _field_salt(name))

    def key(self) -> Any:
        return self.store.key_of(self.div, self.ds, self.i)

    def created(self) -> int:
        return self.store.created_ms(self.div, self.ds, self.i)


_FIELD_SALTS: dict[str, int] = {}


def _field_salt(name: str) -> int:
    v = _FIELD_SALTS.get(name)
    if v is None:
        v = _FIELD_SALTS[name] = stable_hash("field", name)
    return v


class DataStore(LazyStore):
    """All Exact Online rows of one sandbox: sizes, lazy generation, the overlay of each (division, table)."""

    row_version_base = OVERLAY_TS_BASE  # Timestamps of written rows: per division, above every base row's

    def __init__(self, catalog: Catalog, *, seed: int = 42, sizes: dict[str, int] | None = None,
                 default_size: int = 3, default_lines: int = 2, clock: Any = None,
                 wall: WallClock | None = None, user_id: str = "", user_name: str = "",
                 divisions: list[int] | None = None, all_divisions: list[int] | None = None,
                 current_division: int | None = None) -> None:
        super().__init__(seed)
        self.catalog = catalog
        self.default_size = int(default_size)
        self.default_lines = int(default_lines)
        self.clock = clock
        self.wall = wall or WallClock()
        self.user_id = user_id
        self.user_name = user_name
        self.divisions = list(divisions or [])
        self.all_divisions = list(all_divisions or self.divisions)
        self.current_division = current_division if current_division is not None else (
            self.divisions[0] if self.divisions else 0)
        self._sizes: dict[str, int] = dict(CORE_SIZES)
        self._div_sizes: dict[tuple[int, str], int] = {}
        for k, v in (sizes or {}).items():
            self._sizes[catalog.dataset_for(k).id] = int(v)
        self._codecs: dict[tuple[int, str], GuidCodec] = {}
        self._steps: dict[tuple[int, str], int] = {}
        self._gens: dict[str, dict[str, Callable[[RecordView], Any]]] = {}

    # ------------------------------------------------------------------ sizes
    def set_size(self, key: str, n: int, division: int | None = None) -> None:
        ds = self.catalog.dataset_for(key)
        with self.lock:
            if division is None:
                self._sizes[ds.id] = int(n)
            else:
                self._div_sizes[(int(division), ds.id)] = int(n)
            self.invalidate()

    def invalidate(self) -> None:
        super().invalidate()
        self._steps.clear()

    def configured_size(self, div: int, ds: Dataset) -> int:
        v = self._div_sizes.get((div, ds.id))
        if v is None:
            v = self._sizes.get(ds.id)
        if v is None:
            v = self.default_lines if ds.parent is not None else self.default_size
        return v

    def lines_per_header(self, div: int, ds: Dataset) -> int:
        return self.configured_size(div, ds)

    def size(self, div: int, ds: Dataset) -> int:
        """Number of base rows (lines tables: headers x lines per header)."""
        if ds.id in DIVISION_TABLES:
            return len(self.all_divisions if ds.id == "system/alldivisions" else self.divisions)
        if ds.parent is not None:
            return self.size(div, ds.parent.header) * self.configured_size(div, ds)
        return self.configured_size(div, ds)

    def overlay_of(self, div: int, ds: Dataset) -> Overlay | None:
        return self.overlays.get((div, ds.id))

    # ------------------------------------------------------------------ identity
    def table_salt(self, div: int, ds: Dataset) -> int:
        return self.salt(div, ds.id)

    def row_rand(self, div: int, ds: Dataset, i: int) -> int:
        return row_rand(self.table_salt(div, ds), i)

    def codec(self, div: int, ds: Dataset) -> GuidCodec:
        k = (div, ds.id)
        c = self._codecs.get(k)
        if c is None:
            c = self._codecs[k] = GuidCodec(self.table_salt(div, ds))
        return c

    def key_of(self, div: int, ds: Dataset, i: int) -> Any:
        ov = self.overlay_of(div, ds)
        if ov is not None and i in ov.created:
            return ov.created[i].get(ds.key_field)
        if ds.id in DIVISION_TABLES:
            lst = self.all_divisions if ds.id == "system/alldivisions" else self.divisions
            return lst[i - 1] if 0 < i <= len(lst) else None
        if ds.key_code == "g":
            return self.codec(div, ds).encode(i)
        if ds.key_code in ("i", "l"):
            return i
        return str(i)

    def index_of_key(self, div: int, ds: Dataset, key: Any) -> int | None:
        """Index of the row with this key (existing or not); None when it cannot be one of ours."""
        if key is None:
            return None
        ov = self.overlay_of(div, ds)
        if ds.id in DIVISION_TABLES:
            lst = self.all_divisions if ds.id == "system/alldivisions" else self.divisions
            return lst.index(key) + 1 if key in lst else None
        if ds.key_code == "g":
            if not isinstance(key, str):
                return None
            k = key.lower()
            if ov is not None and k in ov.keys:
                return ov.keys[k]
            i = self.codec(div, ds).decode(k)
            if i is None or i < 1:
                return None
            return i
        if ds.key_code in ("i", "l"):
            return int(key) if isinstance(key, int) and key >= 1 else None
        return int(key) if isinstance(key, str) and key.isdigit() else None

    def parent_index(self, div: int, ds: Dataset, i: int) -> int | None:
        if ds.parent is None:
            return None
        ov = self.overlay_of(div, ds)
        if ov is not None and i in ov.parent:
            return ov.parent[i]
        k = self.lines_per_header(div, ds)
        return parent_of(i, k) if k > 0 and i < CREATED_BASE else None

    def line_position(self, div: int, ds: Dataset, i: int) -> int:
        k = self.lines_per_header(div, ds)
        return position_of(i, k) if k > 0 else 1

    def exists(self, div: int, ds: Dataset, i: int) -> bool:
        ov = self.overlay_of(div, ds)
        if ov is not None:
            if i in ov.deleted:
                return False
            if i in ov.created:
                return True
        if i < 1 or i > self.size(div, ds):
            return False
        if ds.parent is not None:
            p = self.parent_index(div, ds, i)
            return p is not None and self.exists(div, ds.parent.header, p)
        return True

    def view(self, div: int, ds: Dataset, i: int) -> RecordView:
        return RecordView(self, div, ds, i, self.written((div, ds.id), i))

    # ------------------------------------------------------------------ time
    def _step(self, div: int, ds: Dataset) -> int:
        k = (div, ds.id)
        v = self._steps.get(k)
        if v is None:
            v = self._steps[k] = spread_step(self.size(div, ds), DATA_END_MS - DATA_START_MS, 60_000, 7 * DAY_MS)
        return v

    def _time_base(self, div: int, ds: Dataset, i: int) -> tuple[Dataset, int, int]:
        """(table whose clock a row follows, its index, ms offset): lines follow their header."""
        if ds.parent is not None and i < CREATED_BASE:
            k = max(1, self.lines_per_header(div, ds))
            return ds.parent.header, (i - 1) // k + 1, (i - 1) % k
        return ds, i, 0

    def created_ms(self, div: int, ds: Dataset, i: int) -> int:
        t, j, off = self._time_base(div, ds, i)
        return DATA_START_MS + j * self._step(div, t) - LAG_MS + off

    def modified_ms(self, div: int, ds: Dataset, i: int) -> int:
        t, j, off = self._time_base(div, ds, i)
        step = self._step(div, t)
        return DATA_START_MS + j * step + (self.row_rand(div, t, j) >> 11) % (step // 2) + off

    def ts_offset(self, ds: Dataset) -> int:
        return ds.index % TS_STEP

    def base_ts(self, ds: Dataset, i: int) -> int:
        return TS_BASE + i * TS_STEP + self.ts_offset(ds)

    def first_index_ts_after(self, ds: Dataset, value: int, inclusive: bool = False) -> int:
        """Smallest index whose base Timestamp is > value (>= when inclusive)."""
        target = value - 1 if inclusive else value
        return max(1, (target - TS_BASE - self.ts_offset(ds)) // TS_STEP + 1)

    def first_index_where(self, div: int, ds: Dataset, field: str, pred: Callable[[int], bool]) -> int:
        """Smallest base index in 1..n+1 for which the monotonic ``pred(value)`` holds."""
        fn = self.created_ms if field == "Created" else self.modified_ms
        return first_index(1, self.size(div, ds), lambda m: pred(fn(div, ds, m)))

    def now_ms(self) -> int:
        return self.wall.wall_ms(self.clock.timestamp())

    # ------------------------------------------------------------------ generation
    def generator(self, ds: Dataset) -> dict[str, Callable[[RecordView], Any]]:
        g = self._gens.get(ds.id)
        if g is None:
            from .generators import build_generators  # local import: generators imports this module
            g = self._gens[ds.id] = build_generators(self, ds)
        return g

    def record(self, div: int, ds: Dataset, i: int, fields: Iterable[str]) -> dict[str, Any]:
        v = self.view(div, ds, i)
        return {f: v.get(f) for f in fields}

    def materialize(self, div: int, ds: Dataset, i: int) -> dict[str, Any]:
        """Every own property of a row (the form kept in the overlay)."""
        v = self.view(div, ds, i)
        return {f: v.get(f) for f in ds.types if f in ds.own_fields or ds.parent is None}

    # ------------------------------------------------------------------ writes
    def _stamp(self, div: int, ds: Dataset, ov: Overlay, i: int, rec: dict[str, Any], created: bool) -> None:
        now = self.now_ms()
        ts = self.next_row_version(div)
        if "Modified" in ds.types:
            rec["Modified"] = now
        if "Modifier" in ds.types:
            rec["Modifier"] = self.user_id
        if "ModifierFullName" in ds.types:
            rec["ModifierFullName"] = self.user_name
        if "Timestamp" in ds.types:
            rec["Timestamp"] = ts
        if created:
            for name, value in (("Created", now), ("Creator", self.user_id), ("CreatorFullName", self.user_name),
                                ("Division", div)):
                if name in ds.types:
                    rec[name] = value
        ov.record_version(i, ts)
        self.wrote()

    def create(self, div: int, ds: Dataset, rec: dict[str, Any], parent: int | None = None) -> int:
        """Store a new row (values already validated); returns its index."""
        with self.lock:
            ov = self.overlay_for((div, ds.id))
            i = ov.allocate(CREATED_BASE)
            key = rec.get(ds.key_field)
            if ds.key_code == "g":
                if key is None:
                    key = self.codec(div, ds).encode(i)
                ov.keys[key.lower()] = i
            elif key is None:
                key = i
            full = {f: None for f in ds.types if f in ds.own_fields or ds.parent is None}
            full.update(rec)
            full[ds.key_field] = key
            ov.put(i, full, base=False, parent=parent)
            self._stamp(div, ds, ov, i, full, created=True)
            return i

    def created_count(self, div: int, ds: Dataset) -> int:
        """Rows ever created in a table of a division (numbering of Codes, invoice numbers)."""
        return self.created_total((div, ds.id))

    def update(self, div: int, ds: Dataset, i: int, changes: dict[str, Any], cascade: bool = True) -> None:
        with self.lock:
            ov = self.overlay_for((div, ds.id))
            rec = ov.row(i)
            if rec is None:
                rec = self.materialize(div, ds, i)
                ov.put(i, rec, base=True)
            rec.update(changes)
            self._stamp(div, ds, ov, i, rec, created=False)
            if cascade:
                # A header change is a change of every line row of line-level sync views
                # (sync/SalesInvoice/SalesInvoices shows header values on each line).
                for link in ds.children.values():
                    for li in self.child_indexes(div, link.lines, i):
                        self.update(div, link.lines, li, {}, cascade=False)

    def delete(self, div: int, ds: Dataset, i: int) -> list[tuple[Dataset, int, Any]]:
        """Delete a row (and its lines); returns the (table, index, key) of every deleted row."""
        with self.lock:
            out: list[tuple[Dataset, int, Any]] = []
            for link in ds.children.values():
                for li in list(self.child_indexes(div, link.lines, i)):
                    out.extend(self.delete(div, link.lines, li))
            key = self.key_of(div, ds, i)
            self.overlay_for((div, ds.id)).remove(i, base=i < CREATED_BASE)
            self.wrote()
            out.append((ds, i, key))
            if ds.deleted_type is not None:
                self._tombstone(div, ds, key)
            return out

    def _tombstone(self, div: int, ds: Dataset, key: Any) -> None:
        deleted = self.catalog.datasets.get(DELETED_ID)
        if deleted is None:
            return
        self.create(div, deleted, {"EntityType": ds.deleted_type, "EntityKey": str(key),
                                   "DeletedBy": self.user_id, "DeletedDate": self.now_ms(), "Division": div})

    def child_indexes(self, div: int, lines: Dataset, header_index: int) -> list[int]:
        out = []
        if header_index < CREATED_BASE:
            k = self.lines_per_header(div, lines)
            for li in range((header_index - 1) * k + 1, header_index * k + 1):
                if self.exists(div, lines, li):
                    out.append(li)
        ov = self.overlay_of(div, lines)
        if ov is not None:
            out.extend(li for li in ov.created if ov.parent.get(li) == header_index)
        return out


def day_floor(ms: int) -> int:
    return ms - ms % DAY_MS


__all__ = ["DataStore", "RecordView", "GuidCodec", "mix", "stable_hash", "ms_from_naive", "day_floor"]
