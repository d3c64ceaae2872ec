"""Seeded, lazy Sales Layer catalogue data: one table per export-connector table, base rows ``1..size``.

A row is a dict of the table's columns (``product_name_en``, ``product_price``...) with internal values
(numbers, booleans, lists, dicts; joins as IDs: ``ID_PARENT`` an int, ``ID_catalogue`` a list of category IDs,
``ID_products`` an int; image and file columns as lists of file ids), its ``ID`` and two stamps: ``_m`` (last
change, UNIX seconds) and ``_fm`` (last change of its files). A base row is a pure function of (seed, table,
index, table sizes); writes go to the kit's overlay, deletions leave a tombstone (the ``D`` rows of
``last_update`` answers).

Relations (arithmetic, so the inverse needs no scan):

* categories form a tree: the first ``min(3, C)`` are roots (``ID_PARENT`` 0), category ``c > R`` has the
  parent ``1 + (c - R - 1) // 3``;
* product ``p`` is in category ``1 + (p - 1) % C``, and every third product also in ``1 + (p - 1 + C // 2) % C``;
* variant ``v`` belongs to product ``1 + (v - 1) % P`` (resizing ``products`` re-parents the base variants).

Base change stamps grow with the index over 2023-01-01 .. 2025-01-01 (so a ``last_update`` window over base
rows is a binary search). Names and descriptions carry hostile text: emoji (with ZWJ sequences), right-to-left
scripts, combining marks, quotes, backslashes, tabs, newlines, U+2028, zero-width spaces and HTML.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from typing import Any

from ..clock import UTC
from ..seeding import row_rand
from ..store import LazyStore, first_index, spread_step
from .catalog import Catalog, Column

Row = dict[str, Any]

BASE_START = int(dt.datetime(2023, 1, 1, tzinfo=UTC).timestamp())
SPAN = 2 * 365 * 86400
ROOTS = 3  # root categories
BRANCHING = 3  # subcategories per category
DEFAULT_SIZES = {"catalogue": 12, "products": 100, "product_formats": 200, "brands": 6}
REFERENCES = {"catalogue": ("CAT", 4), "products": ("PRD", 6), "product_formats": ("FMT", 7), "brands": ("BRD", 3)}

WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "category": {"en": ("Living room", "Kitchen", "Garden", "Office", "Bathroom", "Lighting", "Kids", "Outlet"),
                 "es": ("Salón", "Cocina", "Jardín", "Oficina", "Baño", "Iluminación", "Niños", "Rebajas"),
                 "fr": ("Salon", "Cuisine", "Jardin", "Bureau", "Salle de bain", "Éclairage", "Enfants", "Soldes")},
    "product": {"en": ("Chair", "Table", "Lamp", "Sofa", "Shelf", "Rug", "Mirror", "Stool", "Desk", "Bench"),
                "es": ("Silla", "Mesa", "Lámpara", "Sofá", "Estantería", "Alfombra", "Espejo", "Taburete",
                       "Escritorio", "Banco"),
                "fr": ("Chaise", "Table", "Lampe", "Canapé", "Étagère", "Tapis", "Miroir", "Tabouret", "Bureau",
                       "Banc")},
    "adjective": {"en": ("Nordic", "Classic", "Compact", "Deluxe", "Rustic", "Urban"),
                  "es": ("Nórdica", "Clásica", "Compacta", "De lujo", "Rústica", "Urbana"),
                  "fr": ("Nordique", "Classique", "Compacte", "De luxe", "Rustique", "Urbaine")},
    "color": {"en": ("Red", "Oak", "Black", "White", "Sea green", "Grey"),
              "es": ("Rojo", "Roble", "Negro", "Blanco", "Verde mar", "Gris"),
              "fr": ("Rouge", "Chêne", "Noir", "Blanc", "Vert d'eau", "Gris")},
    "size": {"en": ("Small", "Medium", "Large", "XL"), "es": ("Pequeño", "Mediano", "Grande", "XL"),
             "fr": ("Petit", "Moyen", "Grand", "XL")},
}
HOSTILE = ("Café \"Ølé\" 🚀", "מוצר עברי", "منتج عربي ١٢٣", "e\u0301le\u0300ve Zoe\u0308", "O'Brien's & Søn",
           "Line one\nline two", "Tab\there", "👩\u200d👩\u200d👧\u200d👦 family", "zero\u200bwidth", "para\u2028graph",
           "back\\slash \\n", "100% \"quoted\"", "日本語の商品", "Ünïcødé ñ", "<b>bold</b> &amp; <i>x</i>",
           "<script>alert('x')</script>", "Straße ǅ", "🇪🇸 🇫🇷 flags", "  leading and trailing  ", "emoji 🪑🛋️")
TAGS = ("new", "eco", "bestseller", "outlet", "made in 🇪🇸", "O'Neil pick", "promo \"2x1\"", "árbol")
MATERIALS = ("oak", "steel", "glass", "bamboo", "wool", "recycled PET")
BRANDS = ("Acme", "Mu\u0308beln", "Hygge & Co", "Σοφία", "Ikigai 生き甲斐", "Casa \"Sol\"", "Al-Nour النور", "Zeta 🦓")
REF_RE = re.compile(r"([A-Z]{3})-(\d+)")


def stamp_text(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def pick(seq: tuple[Any, ...], r: int, shift: int = 0) -> Any:
    return seq[(r >> shift) % len(seq)]


def file_id(url: str) -> str:
    """The id Sales Layer gives a file imported from ``url`` (the sandbox: a digest of the URL)."""
    return "imp_" + hashlib.sha1(url.encode()).hexdigest()[:16]


class SalesLayerStore(LazyStore):
    """Every table's rows (base + overlay) and the tombstones of deleted rows."""

    def __init__(self, catalog: Catalog, seed: int, sizes: dict[str, int], default_size: int | None, clock: Any) -> None:
        super().__init__(seed)
        self.catalog = catalog
        self.clock = clock
        self.sizes: dict[str, int] = {t: (DEFAULT_SIZES.get(t, 5) if default_size is None else int(default_size))
                                      for t in catalog.tables}
        for name, n in sizes.items():
            self.sizes[catalog.table(name).name] = int(n)
        self.tombstones: dict[str, dict[int, tuple[int, int]]] = {t: {} for t in catalog.tables}  # id -> (ts, parent)

    # ------------------------------------------------------------------ sizes and clock
    def size(self, table: str) -> int:
        return self.sizes[table]

    def set_size(self, table: str, n: int) -> None:
        with self.lock:
            self.sizes[table] = max(0, int(n))
            self.invalidate()

    def now(self) -> int:
        return int(self.clock.timestamp())

    def reset(self) -> None:
        with self.lock:
            super().reset()
            for t in self.tombstones.values():
                t.clear()

    def step(self, table: str) -> int:
        return spread_step(self.sizes[table], SPAN, 1, 86400)

    def base_ts(self, table: str, i: int) -> int:
        return BASE_START + (i - 1) * self.step(table)

    def base_window(self, table: str, since: int | None, until: int) -> tuple[int, int]:
        """Base ids ``lo..hi`` whose stamp lies in ``since..until`` (both inclusive)."""
        n = self.sizes[table]
        lo = 1 if since is None else first_index(1, n, lambda i: self.base_ts(table, i) >= since)
        hi = first_index(1, n, lambda i: self.base_ts(table, i) > until) - 1
        return lo, hi

    # ------------------------------------------------------------------ base rows
    def rand(self, table: str, column: str, i: int) -> int:
        return row_rand(self.salt(table, column), i)

    def base_categories(self, p: int) -> list[int]:
        c = self.sizes["catalogue"]
        if c <= 0:
            return []
        out = [1 + (p - 1) % c]
        if p % 3 == 0 and c > 1:
            second = 1 + (p - 1 + c // 2) % c
            if second != out[0]:
                out.append(second)
        return out

    def base_row(self, table: str, i: int) -> Row | None:
        if not 1 <= i <= self.sizes.get(table, 0):
            return None
        ts = self.base_ts(table, i)
        row: Row = {"ID": i, "_m": ts, "_fm": ts}
        for col in self.catalog.tables[table].columns:
            row[col.name] = self.base_value(table, col, i)
        return row

    def text(self, kind: str, lang: str, r: int, i: int) -> str:
        words = WORDS[kind][lang]
        text = f"{pick(WORDS['adjective'][lang], r, 8)} {pick(words, r)} {i}" if kind == "product" else \
            f"{pick(words, r)} {i}"
        if r % 4 == 0:
            text = f"{text} {pick(HOSTILE, r, 16)}"
        return text

    def base_value(self, table: str, col: Column, i: int) -> Any:
        r = self.rand(table, col.basename or col.name, i)
        lang = col.language or self.catalog.default_language
        kind, _, count = col.sample.partition(":")
        translated = lang == self.catalog.default_language or r % 9 != 0  # some rows lack a translation
        if kind == "parent":
            return 0 if i <= ROOTS else 1 + (i - ROOTS - 1) // BRANCHING
        if kind == "reference":
            prefix, width = REFERENCES.get(table, (table[:3].upper(), 5))
            return f"{prefix}-{i:0{width}d}"
        if kind == "categories":
            return self.base_categories(i)
        if kind == "product":
            n = self.sizes["products"]
            return 1 + (i - 1) % n if n > 0 else 0
        if kind in ("category_name", "product_name"):
            return self.text("category" if kind == "category_name" else "product", lang, r, i) if translated else ""
        if kind == "format_name":
            return f"{pick(WORDS['size'][lang], r)} {i}" if translated else ""
        if kind == "color":
            return pick(WORDS["color"][lang], r, 4) if translated else ""
        if kind == "html":
            if not translated or r % 11 == 0:
                return ""
            name = self.text("product", lang, r, i)
            return (f"<p>{name} &ndash; {pick(HOSTILE, r, 12)}</p>\n<ul>\n  <li>{pick(MATERIALS, r, 20)}</li>\n"
                    f"  <li>{r % 90 + 10} cm</li>\n</ul>")
        if kind == "flag":
            return r % 5 != 0
        if kind == "price":
            return None if r % 17 == 0 else round(((r >> 8) % 100_000) / 100 + 0.99, 2)
        if kind == "count":
            return (r >> 8) % 500
        if kind == "rating":
            return ((r >> 8) % 51) / 10
        if kind == "datetime":
            if r % 6 == 0:
                return ""
            return stamp_text(BASE_START - (r >> 8) % (5 * 365 * 86400))
        if kind == "tags":
            return [pick(TAGS, r, 4 * k) for k in range(r % 4)]
        if kind == "attributes":
            return {"material": pick(MATERIALS, r, 4), "weight": {"value": ((r >> 10) % 4000) / 100, "unit": "kg"},
                    "dimensions_cm": [r % 200 + 10, (r >> 3) % 200 + 10, (r >> 6) % 100 + 5],
                    "note": pick(HOSTILE, r, 14)}
        if kind == "ean":
            return f"{(r >> 4) % 10 ** 13:013d}"
        if kind == "brand_name":
            return f"{pick(BRANDS, r)} {i}"
        if kind == "website":
            return f"https://brand{i}.example.com/?utm=sandbox&q=\"a b\"&lang=es"
        if kind == "images":
            most = int(count or 1)
            n = (r % (most + 1)) if most > 1 else (0 if r % 7 == 0 else 1)
            return [f"{table}_{i}_{k}" for k in range(1, n + 1)]
        if kind == "files":
            return [] if r % 3 == 0 else [f"{table}_{i}_manual"]
        raise ValueError(f"{table}.{col.name}: unknown sample {col.sample!r}")

    # ------------------------------------------------------------------ current rows
    def row(self, table: str, i: int) -> Row | None:
        """Row ``i`` now (None: deleted or never existed)."""
        return self.current(table, i, lambda j: self.base_row(table, j))

    def written_rows(self, table: str) -> Iterator[tuple[int, Row]]:
        ov = self.overlay(table)
        if ov is not None:
            yield from ov.changed.items()
            yield from ov.created.items()

    def count(self, table: str) -> int:
        return self.table_listing(table, 1, self.sizes[table]).count()

    def find_ref(self, table: str, ref: str) -> int | None:
        """The ID of the live row whose reference is ``ref``."""
        key = self.catalog.tables[table].key
        match = REF_RE.fullmatch(ref)
        prefix = REFERENCES.get(table)
        if match and prefix and match.group(1) == prefix[0]:
            i = int(match.group(2))
            row = self.row(table, i)
            if row is not None and row.get(key) == ref:
                return i
        ov = self.overlay(table)
        i2 = None if ov is None else ov.keys.get(ref)
        return i2 if i2 is not None and self.row(table, i2) is not None else None

    def allocate(self, table: str) -> int:
        return self.overlay_for(table).allocate(self.sizes[table] + 1)

    def put(self, table: str, i: int, row: Row, *, files_changed: bool = False) -> None:
        """Store the whole new content of row ``i`` (a change or a creation), stamped with the clock."""
        with self.lock:
            now = self.now()
            ov = self.overlay_for(table)
            new = i not in ov.created and self.row(table, i) is None
            row = {**row, "ID": i, "_m": now}
            if files_changed or new:
                row["_fm"] = now
            ov.put(i, row, base=i <= self.sizes[table] and not new)
            if new:
                ov.keys[row[self.catalog.tables[table].key]] = i
            ov.record_version(i, self.next_row_version(table))
            self.wrote()

    def remove(self, table: str, i: int) -> bool:
        """Delete row ``i`` (a tombstone at the clock's now, for the ``D`` rows)."""
        with self.lock:
            row = self.row(table, i)
            if row is None:
                return False
            ov = self.overlay_for(table)
            ov.remove(i, base=i <= self.sizes[table] and i not in ov.created)
            ov.keys.pop(row.get(self.catalog.tables[table].key), None)
            self.tombstones[table][i] = (self.now(), int(row.get("ID_products") or 0))
            self.wrote()
            return True

    # ------------------------------------------------------------------ hierarchy (arithmetic inverses)
    def _live(self, table: str, candidates: Iterator[int], holds: Any) -> list[int]:
        out = set()
        for i in candidates:
            row = self.row(table, i)
            if row is not None and holds(row):
                out.add(i)
        for i, row in self.written_rows(table):
            if holds(row):
                out.add(i)
        return sorted(out)

    def children_of(self, c: int) -> list[int]:
        n = self.sizes["catalogue"]
        lo, hi = ROOTS + 1 + (c - 1) * BRANCHING, ROOTS + c * BRANCHING
        return self._live("catalogue", iter(range(max(lo, 1), min(hi, n) + 1)), lambda r: r["ID_PARENT"] == c)

    def ancestors_of(self, c: int) -> list[int]:
        out, seen = [], {c}
        row = self.row("catalogue", c)
        while row is not None and row["ID_PARENT"] and row["ID_PARENT"] not in seen:
            parent = row["ID_PARENT"]
            seen.add(parent)
            out.append(parent)
            row = self.row("catalogue", parent)
        return out

    def products_of(self, c: int) -> list[int]:
        cats, p_n = self.sizes["catalogue"], self.sizes["products"]

        def candidates() -> Iterator[int]:
            if cats <= 0 or c > cats:
                return
            yield from range(c, p_n + 1, cats)
            yield from (p for p in range((c - 1 - cats // 2) % cats + 1, p_n + 1, cats) if p % 3 == 0)
        return self._live("products", candidates(), lambda r: c in r["ID_catalogue"])

    def variants_of(self, p: int) -> list[int]:
        p_n, v_n = self.sizes["products"], self.sizes["product_formats"]
        base = range(p, v_n + 1, p_n) if 1 <= p <= p_n else range(0)
        return self._live("product_formats", iter(base), lambda r: r["ID_products"] == p)


# ---------------------------------------------------------------------------------------- rendering
class Renderer:
    """Rows as the API writes them: ``["M", ID, v3, ...]`` in ``data_schema`` order.

    Numbers and booleans are sometimes strings, as the real API answers them (a row-stable choice per
    column: ``"12.50"`` or ``12.5``; ``"1"``/``"0"``, ``1``/``0`` or ``true``/``false``); empty numbers and dates
    are ``""``. Image and file values are lists of ``[STATUS, file id, URL per size]``; in a ``last_update``
    answer, a file column unchanged since ``last_update`` is ``["U"]`` ([SL-SDK]: a file field whose first
    element is ``U`` is unchanged).
    """

    def __init__(self, store: SalesLayerStore, files_url: str) -> None:
        self.store = store
        self.files_url = files_url.rstrip("/")

    def shape(self, table: str, column: str, i: int) -> int:
        return row_rand(self.store.salt(table, column, "shape"), i) % 3

    def value(self, table: str, col: Column, row: Row, since: int | None, unchanged_marker: bool) -> Any:
        v = row.get(col.name)
        kind = col.type
        if col.is_file:
            if since is not None and unchanged_marker and row["_fm"] < since:
                return ["U"]
            sizes = col.sizes or ("FILE",)
            ext = "jpg" if kind == "image" else "pdf"
            return [["M", fid, *(f"{self.files_url}/{size}/{fid}.{ext}" for size in sizes)] for fid in v or []]
        if col.name.startswith("ID_"):
            return v
        if kind == "numeric":
            if v is None or v == "":
                return ""
            if self.shape(table, col.name, row["ID"]) == 0:
                return f"{v:.2f}" if isinstance(v, float) else str(v)
            return v
        if kind == "boolean":
            shape = self.shape(table, col.name, row["ID"])
            return ("1" if v else "0") if shape == 0 else (int(bool(v)) if shape == 1 else bool(v))
        return v

    def rows(self, table: str, row: Row, *, since: int | None, grouped: bool, delimiter: str | None,
             unchanged_marker: bool) -> list[list[Any]]:
        """The positional rows of one item: several for a product in several categories unless ``grouped``."""
        cols = self.store.catalog.tables[table].columns
        values = [self.value(table, c, row, since, unchanged_marker) for c in cols]
        out = ["M", row["ID"], *values]
        if table != "products" or "ID_catalogue" not in row:
            return [out]
        position = 2 + next(k for k, c in enumerate(cols) if c.name == "ID_catalogue")
        cats = list(row["ID_catalogue"])
        if grouped:
            out[position] = delimiter.join(str(c) for c in cats) if delimiter is not None else cats
            return [out]
        expanded = []
        for c in cats or [0]:
            one = list(out)
            one[position] = c
            expanded.append(one)
        return expanded
