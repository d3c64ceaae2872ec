"""Listing rows of a table: filter, order, server-driven pages and ``$skiptoken`` positions.

Three orders, all streaming (nothing is materialised for the default orders):

* key order (regular and bulk endpoints): ascending row index, which is the primary-key order the
  ``$skiptoken=guid'…'`` of the last row continues from;
* Timestamp order (sync endpoints): base rows by index, then written rows by their new Timestamp;
  the ``$skiptoken`` is the last row's Timestamp (``123L``);
* an explicit ``$orderby``: the matching rows' sort keys are collected once per query (cached until
  the next write) and the ``$skiptoken`` carries the last row's sort values and key.

Top-level ``Modified``/``Created``/``Timestamp`` comparisons and ``key eq guid'…'`` become index
ranges (binary search / arithmetic), so ``Modified gt datetime'…'`` over 100,000 rows reads no row
it does not return.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ..store import BoundedCache, Listing
from .catalog import Dataset, Endpoint
from .data import CREATED_BASE, DataStore
from .odata import CompiledFilter, ODataError, _fold, format_literal, parse_literal_list


class Plan:
    def __init__(self, ep: Endpoint, ds: Dataset, flt: CompiledFilter | None,
                 order: list[tuple[str, bool]] | None) -> None:
        self.ep = ep
        self.ds = ds
        self.flt = flt
        self.order = order
        self.sync = ep.is_sync


class Lister:
    def __init__(self, store: DataStore, cache_size: int = 4) -> None:
        self.store = store
        self._cache = BoundedCache(cache_size)  # sorted listings, until the next write
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ bounds
    def _bounds(self, div: int, ds: Dataset, flt: CompiledFilter | None) -> tuple[int, int, bool]:
        """(lo, hi, exact) base index range; exact = the filter says nothing else about base rows."""
        store = self.store
        lo, hi = 1, store.size(div, ds)
        if flt is None:
            return lo, hi, True
        simple, complete = flt.simple_bounds()
        exact = complete
        for prop, op, value in simple:
            code = ds.types.get(prop)
            if prop in ("Modified", "Created") and code == "d" and ds.parent is None and isinstance(value, int):
                first = store.first_index_where
                if op == "gt":
                    lo = max(lo, first(div, ds, prop, lambda m, v=value: m > v))
                elif op == "ge":
                    lo = max(lo, first(div, ds, prop, lambda m, v=value: m >= v))
                elif op == "lt":
                    hi = min(hi, first(div, ds, prop, lambda m, v=value: m >= v) - 1)
                elif op == "le":
                    hi = min(hi, first(div, ds, prop, lambda m, v=value: m > v) - 1)
                elif op == "eq":
                    lo = max(lo, first(div, ds, prop, lambda m, v=value: m >= v))
                    hi = min(hi, first(div, ds, prop, lambda m, v=value: m > v) - 1)
                else:
                    exact = False
            elif prop == "Timestamp" and code == "l" and isinstance(value, int):
                after = store.first_index_ts_after
                if op == "gt":
                    lo = max(lo, after(ds, value))
                elif op == "ge":
                    lo = max(lo, after(ds, value, inclusive=True))
                elif op == "lt":
                    hi = min(hi, after(ds, value, inclusive=True) - 1)
                elif op == "le":
                    hi = min(hi, after(ds, value) - 1)
                elif op == "eq":
                    lo = max(lo, after(ds, value, inclusive=True))
                    hi = min(hi, after(ds, value) - 1)
                else:
                    exact = False
            elif prop == ds.key_field and op == "eq":
                i = store.index_of_key(div, ds, value)
                if i is None or i >= CREATED_BASE:
                    hi = 0  # no base row has this key (a created row is found through the overlay)
                else:
                    lo, hi = max(lo, i), min(hi, i)
            else:
                exact = False
        return lo, hi, exact

    # ------------------------------------------------------------------ streams
    def _pred(self, div: int, ds: Dataset, flt: CompiledFilter | None) -> Callable[[int], bool] | None:
        store = self.store
        if flt is None:
            return None
        p = flt.predicate

        def check(i: int) -> bool:
            return p(store.view(div, ds, i).get)
        return check

    def _listing(self, div: int, ds: Dataset, flt: CompiledFilter | None) -> Listing:
        """Rows in key order: base indexes in the filter's bounds merged with the written rows."""
        lo, hi, exact = self._bounds(div, ds, flt)
        pred = self._pred(div, ds, flt)
        accept = None if pred is None else (lambda i, _row: pred(i))
        return self.store.table_listing((div, ds.id), lo, hi, accept, None if exact else pred)

    def _key_order(self, div: int, ds: Dataset, flt: CompiledFilter | None, after: int) -> Iterator[int]:
        return self._listing(div, ds, flt).iter_from(after + 1)

    def _ts_order(self, div: int, ds: Dataset, flt: CompiledFilter | None, after_ts: int | None) -> Iterator[int]:
        """Rows in Timestamp order: base rows by index, then written rows in the order of their writes."""
        store = self.store
        lo, hi, exact = self._bounds(div, ds, flt)
        pred = self._pred(div, ds, flt)
        start = lo if after_ts is None else max(lo, store.first_index_ts_after(ds, after_ts))
        ov = store.overlay_of(div, ds)
        base = Listing(start, hi, ov.excluded_between(start, hi) if ov is not None else [], [],
                       None if exact else pred).iter_from(start)
        if ov is None:
            return base
        written = (i for i in ov.written_after(after_ts) if pred is None or pred(i))
        return itertools.chain(base, written)

    def _sorted(self, div: int, plan: Plan) -> tuple[list[tuple[list, int]], dict[int, int]]:
        store = self.store
        ds = plan.ds
        key = (div, ds.id, plan.flt.text if plan.flt else None, tuple(plan.order or ()), store.generation,
               store.size(div, ds))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                return hit
        fields = [f for f, _ in plan.order]
        rows = []
        for i in self._key_order(div, ds, plan.flt, 0):
            v = store.view(div, ds, i)
            rows.append(([v.get(f) for f in fields], i))
        for pos in range(len(plan.order) - 1, -1, -1):
            desc = plan.order[pos][1]
            rows.sort(key=lambda r, p=pos: _sort_key(r[0][p]), reverse=desc)
        where = {i: n for n, (_, i) in enumerate(rows)}
        with self._lock:
            self._cache.put(key, (rows, where))
        return rows, where

    # ------------------------------------------------------------------ pages
    def page(self, div: int, plan: Plan, skiptoken: str | None, skip: int, limit: int | None
             ) -> tuple[list[int], str | None]:
        """Rows of one page and the ``$skiptoken`` of the next page (None when this is the last)."""
        store = self.store
        ds = plan.ds
        if plan.sync:
            after_ts = None
            if skiptoken is not None:
                vals = parse_literal_list(skiptoken)
                if len(vals) != 1 or vals[0][0] not in ("l", "i"):
                    raise ODataError(f"Invalid $skiptoken '{skiptoken}'.")
                after_ts = vals[0][1]
            it = self._ts_order(div, ds, plan.flt, after_ts)
        elif plan.order:
            rows, where = self._sorted(div, plan)
            start = 0
            if skiptoken is not None:
                start = self._sorted_position(div, plan, rows, where, skiptoken)
            it = (i for _, i in itertools.islice(rows, start, None))
        else:
            after = 0
            if skiptoken is not None:
                vals = parse_literal_list(skiptoken)
                if len(vals) != 1:
                    raise ODataError(f"Invalid $skiptoken '{skiptoken}'.")
                after = store.index_of_key(div, ds, vals[0][1])
                if after is None:
                    raise ODataError(f"Invalid $skiptoken '{skiptoken}'.")
            it = self._key_order(div, ds, plan.flt, after)
        if skip:
            it = itertools.islice(it, skip, None)
        if limit is None:
            return list(it), None
        got = list(itertools.islice(it, limit + 1))
        if len(got) <= limit:
            return got, None
        got = got[:limit]
        return got, self.token_for(div, plan, got[-1])

    def token_for(self, div: int, plan: Plan, i: int) -> str:
        store = self.store
        ds = plan.ds
        view = store.view(div, ds, i)
        if plan.sync:
            return format_literal("l", view.get("Timestamp"))
        key = format_literal(ds.key_code, store.key_of(div, ds, i))
        if plan.order:
            vals = [format_literal(ds.types[f], view.get(f)) for f, _ in plan.order]
            return ",".join(vals + [key])
        return key

    def _sorted_position(self, div: int, plan: Plan, rows: list, where: dict, token: str) -> int:
        vals = parse_literal_list(token)
        if len(vals) != len(plan.order) + 1:
            raise ODataError(f"Invalid $skiptoken '{token}'.")
        i = self.store.index_of_key(div, plan.ds, vals[-1][1])
        if i is None:
            raise ODataError(f"Invalid $skiptoken '{token}'.")
        if i in where:
            return where[i] + 1
        # The row moved or vanished since the last page: continue after its old sort values.
        target = [v for _, v in vals[:-1]]
        for n, (values, idx) in enumerate(rows):
            if _after(values, idx, target, i, plan.order):
                return n
        return len(rows)

    def count(self, div: int, plan: Plan) -> int:
        return self._listing(div, plan.ds, plan.flt).count()


def _sort_key(v: Any) -> tuple:
    # SQL Server order: NULL first ascending; strings case-insensitive.
    return (0, 0) if v is None else (1, _fold(v))


def _after(values: list, idx: int, target: list, target_idx: int, order: list[tuple[str, bool]]) -> bool:
    for v, t, (_, desc) in zip(values, target, order):
        a, b = _sort_key(v), _sort_key(t)
        if a == b:
            continue
        return (a < b) if desc else (a > b)
    return idx > target_idx
