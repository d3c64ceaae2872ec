"""The Lightspeed emulator's data: seeded lazy rows of every version list, the global ``version``.

* A table is a version list of ``api_catalog.json`` (``/products``), or one parent's rows of a child
  list (``("/consignments/{consignment_id}/products", 7)``). Base rows ``1..n`` are a pure function of
  (seed, table, index), generated from the list's row model: ids are UUIDs that carry the index,
  foreign keys (``outlet_id``, ``product_id``, ...) name existing rows, texts are hostile unicode,
  money and quantities are awkward decimals (sent as JSON numbers, exactly as generated).
* ``version`` (§2.1 [XS-PAG]) is one counter for the whole store, increasing and not contiguous:
  base row ``i`` of table number ``k`` has ``i * 64 + k``, so a table's base rows are ordered by
  index and ``after=V`` is arithmetic; every write takes the next write version (above every base
  version, steps of 1 to 3), so written rows follow the base ones in write order.
* Deletions are soft (Lightspeed keeps the row with ``deleted_at``): a deleted row is a write that
  sets ``deleted_at``; lists leave it out unless ``deleted=true``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Hashable, Iterator
from decimal import Decimal
from typing import Any

from ..clock import UTC, Clock
from ..seeding import row_rand
from ..store import BoundedCache, LazyStore, Row

STRIDE = 64
WRITE_BASE = 1 << 40
EPOCH = dt.datetime(2021, 1, 1, tzinfo=UTC)
STEP_SECONDS = 37
# Hostile texts: accents, quotes, RTL and zero-width marks, CJK, emoji, a backslash, a tab.
WORDS = ("Zoë’s “Café”", "Ærøskøbing", "東京 ストア", "Łódź 🚲", "O'Brien & Sons", "naïve\u200bword",
         "שלום", "Back\\slash\tTab", "Ωmega ≤ 5", "plain")
DECIMALS = ("0.1", "0.2", "2.675", "1.005", "19.99", "1234567.89012", "0.00001", "99999.995", "7", "10.50")
#: Foreign keys whose collection is not their name plus "s".
FOREIGN_KEYS = {"customer_group_id": "/customer_groups", "retailer_payment_type_id": "/payment_types",
                "payment_type_id": "/payment_types", "default_tax_id": "/taxes", "tax_id": "/taxes",
                "product_type_id": "/product_types", "price_book_id": "/price_books",
                "supplier_id": "/suppliers", "brand_id": "/brands", "register_id": "/registers",
                "outlet_id": "/outlets", "customer_id": "/customers", "user_id": "/users",
                "product_id": "/products", "consignment_id": "/consignments", "sale_id": "/sales"}
CHILD_SIZE = 3


def iso(moment: dt.datetime) -> str:
    """A time stamp as Lightspeed writes them (``2024-05-01T10:00:00+00:00``)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


class LightspeedStore(LazyStore):
    """Rows of every version list; see the module docstring."""

    row_version_base = 0

    def __init__(self, catalog: dict[str, Any], seed: int, sizes: dict[str, int], default_size: int,
                 clock: Clock, cache_rows: int = 20_000) -> None:
        super().__init__(seed)
        self.catalog = catalog
        self.clock = clock
        self.lists = {path: spec for path, spec in catalog["lists"].items() if spec["kind"] == "version"}
        self.number = {path: k + 1 for k, path in enumerate(sorted(self.lists))}
        assert len(self.number) < STRIDE
        self.sizes: dict[str, int] = {}
        for path, spec in self.lists.items():
            self.sizes[path] = CHILD_SIZE if spec["parent"] else default_size
        self.sizes["/registers"] = min(self.sizes["/registers"], 2)  # a store has few registers
        for path, n in sizes.items():
            self.set_size(path, n)
        self._cache = BoundedCache(cache_rows)
        self._writes = 0

    # ------------------------------------------------------------------ tables
    def resolve(self, name: str) -> str:
        """A list's path from ``/products``, ``products`` or a child template."""
        path = name if name.startswith("/") else f"/{name}"
        if path not in self.lists:
            raise KeyError(f"{name}: not a version list of the emulator ({', '.join(sorted(self.lists))})")
        return path

    def set_size(self, name: str, n: int) -> None:
        """Base rows of a list (of each parent's list for a child list)."""
        with self.lock:
            self.sizes[self.resolve(name)] = max(0, int(n))
            self.invalidate()
            if hasattr(self, "_cache"):
                self._cache.clear()

    def size(self, path: str) -> int:
        return self.sizes[path]

    @staticmethod
    def table(path: str, parent: int | None) -> Hashable:
        return path if parent is None else (path, parent)

    # ------------------------------------------------------------------ ids
    def row_id(self, path: str, i: int, parent: int | None = None) -> str:
        """The UUID of row ``i``: random-looking, with the index in its last 48 bits."""
        salt = self.salt("id", path, parent)
        value = row_rand(salt, i) << 64 | (row_rand(salt, -i) & 0xFFFF) << 48 | i
        return str(uuid.UUID(int=value, version=4))  # the version and variant bits leave the index alone

    def index_of(self, path: str, row_id: Any, parent: int | None = None) -> int | None:
        """The index row id ``row_id`` names in ``path`` (None: not one of its ids)."""
        try:
            i = uuid.UUID(str(row_id)).int & ((1 << 48) - 1)
        except ValueError:
            return None
        return i if i >= 1 and self.row_id(path, i, parent) == str(row_id) else None

    def base_version(self, path: str, i: int) -> int:
        return i * STRIDE + self.number[path]

    def next_version(self) -> int:
        self._writes += 1
        return WRITE_BASE + self._writes * 2 + self._writes % 3

    # ------------------------------------------------------------------ rows
    def base_row(self, path: str, i: int, parent: int | None = None) -> Row | None:
        if not 1 <= i <= self.sizes[path]:
            return None
        key = (self.generation, path, parent, i)
        row = self._cache.get(key)
        if row is None:
            row = self._generate(path, i, parent)
            self._cache.put(key, row)
        return row

    def row(self, path: str, i: int, parent: int | None = None) -> Row | None:
        """Row ``i`` as it is now (deleted ones included, with ``deleted_at``)."""
        return self.current(self.table(path, parent), i, lambda j: self.base_row(path, j, parent))

    def live(self, path: str, row_id: Any, parent: int | None = None) -> tuple[int, Row] | None:
        i = self.index_of(path, row_id, parent)
        if i is None:
            return None
        row = self.row(path, i, parent)
        return None if row is None or row.get("deleted_at") else (i, row)

    def write(self, path: str, i: int, row: Row, parent: int | None = None) -> Row:
        """Store the whole new content of row ``i`` with the next version and ``updated_at`` now."""
        with self.lock:
            row = dict(row)
            version = self.next_version()
            row["version"] = version
            if "updated_at" in self.model_of(path)["properties"]:
                row["updated_at"] = iso(self.clock.now())
            overlay = self.overlay_for(self.table(path, parent))
            overlay.put(i, row, base=i <= self.sizes[path])
            overlay.record_version(i, version)
            self.wrote()
            return row

    def new_index(self, path: str, parent: int | None = None) -> int:
        return self.overlay_for(self.table(path, parent)).allocate(self.sizes[path] + 1)

    def page(self, path: str, parent: int | None, after: int, before: int | None, limit: int, *,
             deleted: bool, accept: Any = None) -> list[Row]:
        """Up to ``limit`` rows with ``after < version (< before)``, in version order."""
        out: list[Row] = []
        for row in self.rows_after(path, parent, after):
            if before is not None and row["version"] >= before:
                break
            if row.get("deleted_at") and not deleted:
                continue
            if accept is not None and not accept(row):
                continue
            out.append(row)
            if len(out) >= limit:
                break
        return out

    def rows_after(self, path: str, parent: int | None, after: int) -> Iterator[Row]:
        table = self.table(path, parent)
        overlay = self.overlay(table)
        excluded = set(overlay.excluded) if overlay is not None else set()
        start = max(1, (after - self.number[path]) // STRIDE + 1)
        for i in range(start, self.sizes[path] + 1):
            if i not in excluded:
                row = self.base_row(path, i, parent)
                if row is not None:
                    yield row
        if overlay is not None:
            for i in list(overlay.written_after(after)):
                row = overlay.row(i)
                if row is not None:
                    yield row

    def count(self, path: str, parent: int | None = None) -> int:
        return sum(1 for row in self.rows_after(path, parent, 0) if not row.get("deleted_at"))

    def live_count(self, path: str) -> int:
        """Rows not deleted, without generating base rows (the rate limit counts registers)."""
        overlay = self.overlay(path)
        base = self.sizes[path]
        if overlay is None:
            return base
        gone = sum(1 for i in overlay.excluded if i <= base)
        written = sum(1 for row in (*overlay.changed.values(), *overlay.created.values()) if not row.get("deleted_at"))
        return base - gone + written

    def model_of(self, path: str) -> dict[str, Any]:
        return self.catalog["models"][self.lists[path]["model"]]

    # ------------------------------------------------------------------ generation
    def reference(self, path: str, r: int) -> str | None:
        """The id of an existing base row of ``path`` picked by ``r`` (None: the list is empty)."""
        n = self.sizes.get(path, 0)
        if not n or self.lists[path]["parent"]:
            return None
        return self.row_id(path, r % n + 1)

    def _generate(self, path: str, i: int, parent: int | None) -> Row:
        salt = self.salt("row", path, parent)
        model = self.model_of(path)
        row = self._object(model, row_rand(salt, i), i, depth=0)
        row["id"] = self.row_id(path, i, parent)
        row["version"] = self.base_version(path, i)
        moment = EPOCH + dt.timedelta(seconds=i * STEP_SECONDS)
        for name in ("created_at", "updated_at"):
            if name in model["properties"]:
                row[name] = iso(moment)
        if "deleted_at" in model["properties"]:  # only where the document has it (inventory has not)
            row["deleted_at"] = None
        if parent is not None:
            parent_path = self.lists[path]["parent"]
            row.setdefault(parent_path.strip("/").rstrip("s") + "_id", self.row_id(parent_path, parent))
        if path == "/products":
            self._variants(row, i)
        if path == "/customers":
            row["name"] = f"{row.get('first_name') or ''} {row.get('last_name') or ''}".strip()
            row["customer_code"] = f"C-{i:06d}"
            row["email"] = f"customer{i}@example.test"
        if path == "/sales":
            row["total_price"] = sum((Decimal(str(li.get("price") or 0)) * Decimal(str(li.get("quantity") or 0))
                                      for li in row.get("line_items") or []), Decimal(0))
        return row

    def _variants(self, row: Row, i: int) -> None:
        """Every fifth product from the first is a family of three: itself and two variants."""
        position = (i - 1) % 5
        row["sku"] = f"SKU-{i:06d}"
        row.pop("price_including_tax", None) if i % 2 else row.pop("price_excluding_tax", None)
        if position == 0 and i + 2 <= self.sizes["/products"]:
            row.update(has_variants=True, variant_parent_id=None, variant_count=2)
        elif position in (1, 2) and i - position >= 1 and (i - position) + 2 <= self.sizes["/products"]:
            row.update(has_variants=False, variant_parent_id=self.row_id("/products", i - position),
                       variant_name=f"{row.get('name')} / {'SML'[position]}", variant_count=0)
        else:
            row.update(has_variants=False, variant_parent_id=None, variant_count=0)

    def _object(self, model: dict[str, Any], r: int, i: int, depth: int) -> Row:
        out: Row = {}
        for k, (name, prop) in enumerate(model["properties"].items()):
            out[name] = self._value(name, prop, row_rand(r, k + 1), i, depth)
        return out

    def _value(self, name: str, prop: dict[str, Any], r: int, i: int, depth: int) -> Any:
        kind = prop["type"]
        if name in FOREIGN_KEYS or (name.endswith("_id") and f"/{name[:-3]}s" in self.lists):
            path = FOREIGN_KEYS.get(name, f"/{name[:-3]}s")
            return self.reference(path, r) if path in self.lists else None
        if kind == "object":
            sub = self.catalog["models"].get(prop.get("model", ""))
            return None if sub is None or depth >= 1 else self._object(sub, r, i, depth + 1)
        if kind == "array":
            items = prop["items"]
            if items["type"] == "object":
                sub = self.catalog["models"].get(items.get("model", ""))
                if sub is None or depth >= 1:
                    return []
                rows = [self._object(sub, row_rand(r, j), i, depth + 1) for j in range(1 + r % 3)]
                for j, item in enumerate(rows):
                    if "id" in item:
                        item["id"] = str(uuid.UUID(int=row_rand(r, 100 + j) << 64 | row_rand(r, 200 + j), version=4))
                return rows
            return [self._value(name, items, row_rand(r, j), i, depth + 1) for j in range(r % 3)]
        if prop.get("enum"):
            return prop["enum"][r % len(prop["enum"])]
        if kind == "boolean":
            return bool(r & 1)
        if kind == "integer":
            return int(r % 1000)
        if kind == "number":
            return Decimal(DECIMALS[r % len(DECIMALS)])
        if kind == "string":
            if prop.get("format") in ("date-time", "date") or name.endswith(("_at", "_date", "_time")):
                return iso(EPOCH + dt.timedelta(seconds=i * STEP_SECONDS + r % 86400))
            if prop.get("format") == "uuid" or name == "id" or name.endswith("_id"):
                return str(uuid.UUID(int=r << 64 | row_rand(r, 1), version=4))
            if name == "email":
                return f"user{i}.{r % 97}@example.test"
            return f"{WORDS[r % len(WORDS)]} {i}"
        return None
