"""The OData list endpoints: ``GET /api/v1/{Entity}`` and ``GET|POST /api/v1/Archive/{provider}``.

Answer: ``{"odata.metadata": …, "odata.nextLink": <string or null>, "value": [{"PrimaryKey": "25",
"EntityName": "contact", <column>: <value>, …}]}`` (SLIM mode; docs' using-filters.md), values as
the docs say: booleans ``true``/``false`` (``$output=Logical``, the default), dates ISO strings in
UTC without an offset (``2024-05-01T10:20:30``), ints and decimals as numbers, list columns
(``category``, ``associateId``…) as their display text; the id-valued list columns of the Find*
providers (``contactId``, ``personId``, ``projectId``, ``saleId``) as numbers. ``$mode=Full`` gives
``{"PrimaryKey": 25, …, "Column": {col: {"RawValue", "DisplayValue", …}}}``.

Query options (names case-insensitive; an option the endpoint does not document: 400):

* ``$select``: provider column names, case-insensitive; an unknown column: 400 naming it. Without it
  only the provider's small default set comes back (its key and a few text columns: no dates, no
  user-defined fields). Aggregates (``Count(x):Footer``) are refused (400): don't ask for counts.
* ``$filter``: :mod:`.filters`.
* ``$orderBy``: ``col [asc|desc], …``; only OrderBy-capable columns (400 otherwise). Default: the key.
* ``$top``: UNCERTAIN (no documented maximum). Reading chosen: at most ``max_top`` (1000) rows a
  page, a larger ``$top`` is SILENTLY capped, so a client that stops on a page shorter than the
  ``$top`` it asked for loses rows; ask for 1000 or less. Without ``$top``: pages of ``default_top``
  (50) rows.
* ``$skip``: the rows are found again from the start on every page, as NetServer does (best
  practices, "Searching": repeated paging is O(N²)): the emulator walks every skipped row (counted
  in ``stats()["superoffice"]["rows_scanned"]``). Keyset paging (``$filter=contactId gt N&
  $orderBy=contactId``) starts at ``N`` directly.
* ``odata.nextLink``: UNCERTAIN (the docs do not say when it is set). Reading chosen: only a page
  the server cut itself (no ``$top``) carries one; with ``$top`` it is ALWAYS null, even when more
  rows exist. Page by ``$skip``/keyset until an empty or short page.
* ``$mode`` (Slim/Wide/Full), ``$output`` (Logical/Display), ``$jsonSafe``, ``$entities``,
  ``$format`` (json), ``$options``, ``$context``, and on Archive ``$metadata``, ``$inlineCount``
  (``allpages``: ``odata.count``, a full scan) are accepted.

Soft-deleted rows (providers with a deleted-date column: SimpleContact ``deletedDate`` +
``contactDeleted``, Person ``personDeletedDate``) stay in the list with the deleted date set until
they are hard-deleted 14 days later; rows of other providers go at once.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

from .catalog import Column, Provider
from .data import Record, SuperOfficeStore, cell, iso
from .errors import bad_request
from .filters import Expr, compile_filter, evaluate, ranges

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _bool_arg(value: str, name: str) -> bool:
    low = value.strip().lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0", ""):
        return False
    raise bad_request(f"{name} must be true or false, not '{value}'")


def _int_arg(value: str, name: str) -> int:
    text = value.strip()
    if not re.fullmatch(r"\d+", text) or int(text) > 2**31 - 1:
        raise bad_request(f"{name} must be a whole number from 0 to 2147483647, not '{value}'")
    return int(text)


class ListQuery:
    """One list request, checked; :meth:`run` answers it."""

    def __init__(self, store: SuperOfficeStore, provider: Provider, args: dict[str, str], kind: str, *,
                 max_top: int, default_top: int, current_associate: int) -> None:
        self.store, self.provider = store, provider
        allowed = store.catalog.query_options[kind]
        opts: dict[str, str] = {}
        for name, value in args.items():
            if not name.startswith("$"):
                continue
            canon = allowed.get(name.lower())
            if canon is None:
                raise bad_request(f"Unknown query option '{name}' (valid: {', '.join(allowed.values())})")
            opts[canon] = value
        self.opts = opts
        self.select = self._select(opts.get("$select"))
        now = store.now()
        self.expr: Expr | None = compile_filter(opts["$filter"], provider, today=now.replace(hour=0, minute=0, second=0),
                                                current_associate=current_associate) \
            if opts.get("$filter", "").strip() else None
        self.order = self._order(opts.get("$orderBy"))
        self.explicit_top = "$top" in opts
        self.top = min(_int_arg(opts["$top"], "$top"), max_top) if self.explicit_top else default_top
        self.skip = _int_arg(opts["$skip"], "$skip") if "$skip" in opts else 0
        mode = opts.get("$mode", "Slim").strip().lower()
        if mode not in ("slim", "wide", "full"):
            raise bad_request(f"$mode must be Slim, Wide or Full, not '{opts['$mode']}'")
        self.full = mode == "full"
        output = opts.get("$output", "Logical").strip().lower()
        if output not in ("logical", "display"):
            raise bad_request(f"$output must be Logical or Display, not '{opts['$output']}'")
        self.display = output == "display"
        self.json_safe = _bool_arg(opts.get("$jsonSafe", "false"), "$jsonSafe")
        fmt = opts.get("$format", "json").strip().lower()
        if fmt not in ("json", "application/json"):
            raise bad_request(f"$format '{opts['$format']}' is not served by the sandbox (use JSON)")
        for entity in filter(None, (e.strip() for e in opts.get("$entities", "").split(","))):
            if entity.lower() not in (x.lower() for x in provider.entities):
                raise bad_request(f"Unknown entity '{entity}' in $entities (valid: {', '.join(provider.entities)})")
        inline = opts.get("$inlineCount", "none").strip().lower()
        if inline not in ("none", "allpages"):
            raise bad_request(f"$inlineCount must be allpages or none, not '{opts['$inlineCount']}'")
        self.inline_count = inline == "allpages"

    # ------------------------------------------------------------------ parsing
    def _column(self, name: str, option: str) -> Column:
        col = self.provider.column(name)
        if col is None:
            raise bad_request(f"Unknown column '{name.strip()}' in {option} for archive provider {self.provider.name}")
        return col

    def _select(self, text: str | None) -> list[Column]:
        names = [n.strip() for n in (text or "").split(",") if n.strip()]
        if not names:
            return [self.provider.columns[c] for c in self.provider.default_select]
        out = []
        for name in names:
            if "(" in name or ":footer" in name.lower() or ":header" in name.lower():
                raise bad_request(f"Aggregates are not served by the sandbox: '{name}' in $select")
            col = self._column(name, "$select")
            if col not in out:
                out.append(col)
        return out

    def _order(self, text: str | None) -> list[tuple[Column, bool]]:
        out = []
        for part in filter(None, (p.strip() for p in (text or "").split(","))):
            bits = part.split()
            if len(bits) > 2 or (len(bits) == 2 and bits[1].lower() not in ("asc", "desc")):
                raise bad_request(f"Bad $orderBy item '{part}': expected 'column [asc|desc]'")
            col = self._column(bits[0], "$orderBy")
            if not col.order_by:
                raise bad_request(f"The column '{col.name}' of {self.provider.name} cannot be used in $orderBy")
            out.append((col, len(bits) == 2 and bits[1].lower() == "desc"))
        return out

    # ------------------------------------------------------------------ rows
    def value(self, col: Column, i: int, rec: Record) -> Any:
        v = cell(self.store, self.provider, col, i, rec)
        return v[0] if isinstance(v, tuple) else v

    def _matches(self, expr: Expr | None, i: int, rec: Record) -> bool:
        return expr is None or evaluate(expr, lambda col: self.value(col, i, rec))

    def _ids(self) -> Iterator[int]:
        """The matching row ids in the requested order."""
        store, p = self.store, self.provider
        name, n = p.name, store.size(p.name)
        rg = ranges(self.expr, p)
        lo, hi = max(1, rg.key_lo or 1), min(n, rg.key_hi if rg.key_hi is not None else n)
        if rg.ts_lo is not None and lo <= hi:
            lo = store.first_at_or_after(name, lo, hi, rg.ts_lo)
        if rg.ts_hi is not None and lo <= hi:
            hi = store.first_at_or_after(name, lo, hi, rg.ts_hi) - 1
        residual, full = rg.residual, self.expr

        def base_ok(i: int) -> bool:
            rec = store.base(name, i)
            return rec is not None and self._matches(residual, i, rec)

        def written_ok(i: int, rec: Record) -> bool:
            return store.present(rec) and self._matches(full, i, rec)

        order = self.order
        key_order = not order or (len(order) == 1 and order[0][0].name == p.key)
        ts_order = bool(order) and order[0][0].name == p.updated and (
            len(order) == 1 or (len(order) == 2 and order[1][0].name == p.key and order[1][1] == order[0][1]))
        if key_order or ts_order:
            listing = store.table_listing(name, lo, hi, written_ok, base_ok if residual is not None else None)
            if key_order:
                ids: Iterator[int] = listing.iter_from()
            else:
                base_only = store.table_listing(name, lo, hi, lambda i, rec: False,
                                                base_ok if residual is not None else None)
                written = [i for i in listing.written]
                stamp = self._stamp
                written.sort(key=lambda i: (stamp(i), i))
                ids = heapq.merge(base_only.iter_from(), written, key=lambda i: (stamp(i), i))
            if order and order[0][1]:
                ids = iter(list(ids)[::-1])
            return self._count(ids)
        listing = store.table_listing(name, lo, hi, written_ok, base_ok if residual is not None else None)
        rows = list(self._count(listing.iter_from()))
        keyed = []
        for i in rows:
            rec = store.record(name, i) or {}
            keyed.append((i, [self.value(col, i, rec) for col, _ in order]))
        keyed.sort(key=lambda t: t[0])
        for pos in range(len(order) - 1, -1, -1):
            desc = order[pos][1]
            keyed.sort(key=lambda t: _sort_key(t[1][pos]), reverse=desc)
        return iter([i for i, _ in keyed])

    def _stamp(self, i: int) -> dt.datetime:
        rec = self.store.written(self.provider.name, i)
        if rec is not None:
            return rec.get("_updated") or dt.datetime.min
        return self.store.ts(self.provider.name, i)

    def _count(self, ids: Iterator[int]) -> Iterator[int]:
        for i in ids:
            self.seen += 1
            self.store.scanned += 1
            yield i

    def run(self, self_url: str, args: dict[str, str], metadata_url: str) -> dict[str, Any]:
        self.seen = 0
        ids = self._ids()
        page = list(itertools.islice(ids, self.skip, self.skip + self.top + 1))
        more = len(page) > self.top
        page = page[:self.top]
        out: dict[str, Any] = {"odata.metadata": metadata_url}
        if self.inline_count:
            for _ in ids:
                pass
            out["odata.count"] = str(self.seen)
        next_link = None
        if more and not self.explicit_top:
            query = {k: v for k, v in args.items() if k.lower() != "$skip"}
            query["$skip"] = str(self.skip + len(page))
            next_link = self_url + "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        out["odata.nextLink"] = next_link
        out["value"] = [self.row(i) for i in page]
        return out

    def row(self, i: int) -> dict[str, Any]:
        rec = self.store.record(self.provider.name, i) or {}
        p = self.provider
        pk = i
        if self.full:
            columns = {}
            for col in self.select:
                v = cell(self.store, p, col, i, rec)
                raw, shown = (v if isinstance(v, tuple) else (v, v))
                columns[self._name(col)] = {"RawValue": iso(raw), "DisplayValue": "" if shown is None else
                                            str(iso(shown)), "LinkHint": "", "TooltipHint": ""}
            return {"PrimaryKey": pk, "EntityName": p.entity, "StyleHint": "",
                    "LinkHint": f"nav={p.entity}&{p.entity}_id={pk}", "TableRight": {"Mask": 1, "Reason": ""},
                    "Column": columns}
        out: dict[str, Any] = {"PrimaryKey": str(pk), "EntityName": p.entity}
        for col in self.select:
            out[self._name(col)] = self._slim(col, cell(self.store, p, col, i, rec))
        return out

    def _name(self, col: Column) -> str:
        return _UNSAFE.sub("_", col.name) if self.json_safe else col.name

    def _slim(self, col: Column, v: Any) -> Any:
        kind = col.kind
        if isinstance(v, tuple):
            k, shown = v
            return k if col.name.rsplit("/", 1)[-1] in ("contactId", "personId", "projectId", "saleId") else shown
        if kind == "bool" or isinstance(v, bool):
            if self.display:
                return "[I:checked]" if v else ""
            return bool(v)
        if isinstance(v, dt.datetime):
            return iso(v)
        if kind in ("date", "datetime"):
            return None if v in (None, "") else v
        if kind == "intarray":
            return ",".join(str(x) for x in v or [])
        if kind == "int":
            return int(v or 0)
        if kind == "decimal":
            return float(v or 0)
        return "" if v is None else v


def _sort_key(v: Any) -> tuple[int, Any]:
    if v is None:
        return (0, 0)
    if isinstance(v, str):
        return (1, v.casefold())
    if isinstance(v, (list, tuple)):
        return (1, tuple(v))
    return (1, v)
