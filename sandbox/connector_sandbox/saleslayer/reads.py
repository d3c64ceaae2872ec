"""Read answers of the export connector: 1.17 (one answer) and 1.18 (pages with ``next_page``).

A read is a *session*: its window (``last_update`` .. the server's ``time`` T0 of the first answer, both
inclusive), its options and, in 1.18, the cursor of each page. Every answer carries every table of the
connector (``data`` has all of them, empty lists included) with ``schema``, ``data_schema`` and
``data_schema_info``; a page is filled table after table in the connector's order and IDs ascending, so a page
spans tables. Rows: ``["M", ID, ...]`` for a row changed in the window (every row without ``last_update``),
``["D", ID]`` for a row deleted in it (never in a full answer).

A session is a snapshot of the rows whose last change is at or before T0: a row changed while the client pages
leaves it and comes with the next ``last_update`` call (``last_update`` = T0 sees it again: the window is
inclusive, so a row changed in the same second is read twice rather than never).

Hierarchy effects (``last_update`` answers), computed from the changes made while the emulator runs (base
stamps are history and propagate nothing): a changed category brings its products as ``M`` rows; with
``parents_category_tree=1`` the categories of every changed product and the ancestors of every changed category
come too; with ``same_parent_variants=1`` a changed or deleted variant brings every variant of its product.
Deleting a category takes it out of its products (their own change, so ``M`` rows); deleting a product deletes
its variants.
"""

from __future__ import annotations

import bisect
import heapq
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..store import Listing
from .catalog import Catalog
from .data import Renderer, Row, SalesLayerStore


@dataclass
class ReadOptions:
    grouped: bool = False  # group_category_id=1: one row per product, ID_catalogue a list
    delimiter: str | None = None  # group_category_delimiter: ID_catalogue as "3|7"
    parents_tree: bool = False  # parents_category_tree=1
    same_parent_variants: bool = False  # same_parent_variants=1


@dataclass
class Session:
    token: str
    code: str
    version: str
    since: int | None  # last_update (None: everything)
    until: int  # T0, the server time of the first answer
    page_size: int | None  # None: one answer (1.17)
    options: ReadOptions
    action: str  # refresh | update
    error: int  # 0, or 5 (an incorrect last_update: everything)
    extras: dict[str, list[int]]
    cursors: list[tuple[int, int]] = field(default_factory=lambda: [(0, 0)])  # start of page k at k-1
    finished: int | None = None  # the number of the last page, once known
    total: int = 0
    last_access: float = 0.0


class Reader:
    def __init__(self, store: SalesLayerStore, catalog: Catalog, renderer: Renderer, *, unchanged_marker: bool,
                 page_ttl: float, max_sessions: int = 1000) -> None:
        self.store, self.catalog, self.renderer = store, catalog, renderer
        self.tables = list(catalog.tables)
        self.unchanged_marker = unchanged_marker
        self.page_ttl = float(page_ttl)
        self.max_sessions = max_sessions
        self.sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()
        self.pages_served = 0

    # ------------------------------------------------------------------ sessions
    def start(self, code: str, version: str, since: int | None, until: int, page_size: int | None,
              options: ReadOptions, action: str, error: int, now: float) -> Session:
        with self.store.lock:
            extras = self._extras(since, until, options) if since is not None else {t: [] for t in self.tables}
            session = Session(secrets.token_hex(12), code, version, since, until, page_size, options, action, error,
                              extras, last_access=now)
            session.total = sum(self._count(session, t) for t in self.tables)
        if page_size is not None:
            with self._lock:
                self.sessions[session.token] = session
                while len(self.sessions) > self.max_sessions:
                    self.sessions.popitem(last=False)
        return session

    def session(self, token: str) -> Session | None:
        with self._lock:
            return self.sessions.get(token)

    def expire(self, token: str) -> None:
        with self._lock:
            self.sessions.pop(token, None)

    def reset(self) -> None:
        with self._lock:
            self.sessions.clear()

    def page_count(self, session: Session) -> int:
        if session.page_size is None:
            return 1
        return max(1, -(-session.total // session.page_size))

    # ------------------------------------------------------------------ windows
    def _accept(self, session: Session) -> Any:
        since, until = session.since, session.until
        return lambda i, row: (since is None or row["_m"] >= since) and row["_m"] <= until

    def _listing(self, session: Session, table: str) -> Listing:
        lo, hi = self.store.base_window(table, session.since, session.until)
        return self.store.table_listing(table, lo, hi, self._accept(session))

    def _deleted(self, session: Session, table: str) -> list[int]:
        if session.since is None:
            return []
        since, until = session.since, session.until
        return sorted(i for i, (ts, _) in self.store.tombstones[table].items() if since <= ts <= until)

    def _extra_ok(self, session: Session, table: str, i: int, listing: Listing) -> bool:
        """An extra row (a hierarchy effect) that is alive, in the snapshot and not already in the listing."""
        row = self.store.row(table, i)
        return row is not None and row["_m"] <= session.until and not self._accept(session)(i, row)

    def _count(self, session: Session, table: str) -> int:
        listing = self._listing(session, table)
        extras = sum(1 for i in session.extras.get(table, ()) if self._extra_ok(session, table, i, listing))
        return listing.count() + extras + len(self._deleted(session, table))

    def _extras(self, since: int, until: int, options: ReadOptions) -> dict[str, list[int]]:
        store = self.store
        changed: dict[str, list[int]] = {}
        for t in self.tables:
            changed[t] = [i for i, row in store.written_rows(t) if since <= row["_m"] <= until]
        extras: dict[str, set[int]] = {t: set() for t in self.tables}
        if "catalogue" in changed and "products" in extras:
            for c in changed["catalogue"]:
                extras["products"].update(store.products_of(c))
        if options.parents_tree and "catalogue" in extras:
            for c in changed.get("catalogue", []):
                extras["catalogue"].update(store.ancestors_of(c))
            for p in changed.get("products", []):
                row = store.row("products", p)
                for c in (row or {}).get("ID_catalogue", []):
                    extras["catalogue"].add(c)
                    extras["catalogue"].update(store.ancestors_of(c))
        if options.same_parent_variants and "product_formats" in extras:
            parents = set()
            for v in changed.get("product_formats", []):
                row = store.row("product_formats", v)
                if row is not None:
                    parents.add(row["ID_products"])
            parents.update(p for ts, p in store.tombstones["product_formats"].values() if since <= ts <= until and p)
            for p in parents:
                extras["product_formats"].update(store.variants_of(p))
        return {t: sorted(ids) for t, ids in extras.items()}

    def _ids(self, session: Session, table: str, after: int) -> Iterator[tuple[int, str]]:
        """(ID, "M" | "D") of the table's rows in the session, IDs ascending, after ``after``."""
        listing = self._listing(session, table)
        extras = session.extras.get(table, [])
        extra_ids = (i for i in extras[bisect.bisect_right(extras, after):]
                     if self._extra_ok(session, table, i, listing))
        deleted = self._deleted(session, table)
        gone = (i for i in deleted[bisect.bisect_right(deleted, after):])
        merged = heapq.merge(((i, "M") for i in listing.iter_from(after + 1)), ((i, "M") for i in extra_ids),
                             ((i, "D") for i in gone))
        last = None
        for i, kind in merged:
            if i != last:
                last = i
                yield i, kind

    # ------------------------------------------------------------------ answers
    def page(self, session: Session, number: int) -> tuple[dict[str, list[list[Any]]], bool]:
        """The data of page ``number`` (1-based) and whether another page follows."""
        capacity = session.page_size or float("inf")
        data: dict[str, list[list[Any]]] = {t: [] for t in self.tables}
        with self.store.lock:
            ti, last = session.cursors[number - 1]
            items = 0
            more = False
            while ti < len(self.tables):
                table = self.tables[ti]
                for i, kind in self._ids(session, table, last):
                    if items >= capacity:
                        more = True
                        break
                    if kind == "D":
                        data[table].append(["D", i])
                    else:
                        row: Row | None = self.store.row(table, i)
                        if row is None:
                            continue
                        data[table].extend(self.renderer.rows(
                            table, row, since=session.since, grouped=session.options.grouped,
                            delimiter=session.options.delimiter, unchanged_marker=self.unchanged_marker))
                    items += 1
                    last = i
                if more:
                    break
                ti, last = ti + 1, 0
            if more and len(session.cursors) == number:
                session.cursors.append((ti, last))
            if not more:
                session.finished = number
        self.pages_served += 1
        return data, more

    def schema(self) -> dict[str, Any]:
        cat = self.catalog
        return {"connector_type": cat.export_type, "default_language": cat.default_language,
                "languages": list(cat.languages), "company_ID": cat.company["company_ID"],
                "company_name": cat.company["company_name"], "headings": {},
                "custom_parameters": dict(cat.custom_parameters),
                "sanitized_table_names": {t: t for t in self.tables},
                "language_table_names": {t: dict(cat.tables[t].titles) for t in self.tables},
                "offline_mode": 0}

    def body(self, session: Session, number: int, now: int, next_url: str | None) -> dict[str, Any]:
        data, more = self.page(session, number)
        grouped = session.options.grouped
        out: dict[str, Any] = {
            "version": session.version, "time": now, "action": session.action, "error": session.error,
            "schema": self.schema(),
            "data_schema": {t: self.catalog.tables[t].data_schema for t in self.tables},
            "data_schema_info": {t: self.catalog.schema_info(t, grouped) for t in self.tables},
            "data": data,
        }
        if session.page_size is not None:
            out["page_count"] = self.page_count(session)
            out["page_length"] = session.page_size
            if more and next_url is not None:
                out["next_page"] = next_url
        return out


def effective_page_size(requested: int, step: int = 500, minimum: int = 500) -> int:
    """The documented approximation of ``pagination`` ([SL-CALL]: ``<1000 -> 500, 1001-1500 -> 1000 ...``):
    the multiple of ``step`` below the requested size, at least ``minimum`` (1000 -> 500, 1001 -> 1000)."""
    return max(minimum, step * ((requested - 1) // step))


__all__ = ["ReadOptions", "Reader", "Session", "effective_page_size"]
