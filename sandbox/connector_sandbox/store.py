"""Seeded lazy tables with an overlay of writes: the data engine under every emulator.

A table holds base rows ``1..n`` that are a pure function of (seed, table, index). Nothing is
generated until a response needs a row, so any size costs nothing up front, and memory stays bounded:
only written rows and bounded caches are kept.

* :class:`Overlay`: the writes of one table (changed base rows, created rows, deleted base ids, and
  the order rows were written in: a row version per write, for change streams such as Exact's sync
  ``Timestamp``).
* :class:`Listing`: the ids of one listing in id order, the base range minus the written or deleted
  base ids merged with the overlay rows that match, without materialising any base row; without a
  filter on base rows, count and slice are arithmetic.
* :class:`LazyStore`: the base of a vendor's store (seed, lock, overlays by table, row randomness,
  row versions, cache generation). The vendor supplies what a row is: its generation, its key, sizes.
* Helpers for the arithmetic every vendor needs: children of a parent (``k`` per parent), time
  columns that grow with the index (:func:`spread_step`) and binary searches over them
  (:func:`first_index`), and :class:`BoundedCache`.
"""

from __future__ import annotations

import bisect
import collections
import heapq
import itertools
import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from .seeding import stable_hash

Row = dict[str, Any]


# ---------------------------------------------------------------------------------------- arithmetic
def first_index(lo: int, hi: int, holds: Callable[[int], bool]) -> int:
    """Smallest index in ``lo..hi`` for which the monotone ``holds`` is true (``hi + 1`` if none)."""
    a, b = lo, hi + 1
    while a < b:
        m = (a + b) // 2
        if holds(m):
            b = m
        else:
            a = m + 1
    return a


def spread_step(rows: int, span: int, least: int, most: int) -> int:
    """Spacing of ``rows`` rows spread over ``span``, clamped to ``least..most``: a column
    ``start + i * step`` grows with the index, so a range of it is a binary search over ids."""
    return max(least, min(most, span // max(1, rows)))


def child_range(parent: int, per_parent: int) -> tuple[int, int]:
    """Ids ``lo..hi`` of the children of ``parent`` when every parent has ``per_parent`` of them
    (ids are unique across parents: ``(parent - 1) * k + 1 .. parent * k``)."""
    return (parent - 1) * per_parent + 1, parent * per_parent


def parent_of(child: int, per_parent: int) -> int:
    return (child - 1) // per_parent + 1


def position_of(child: int, per_parent: int) -> int:
    """1-based position of ``child`` among its parent's children."""
    return (child - 1) % per_parent + 1


# ---------------------------------------------------------------------------------------- overlay
class Overlay:
    """The writes of one table."""

    __slots__ = ("changed", "created", "deleted", "excluded", "parent", "keys", "next_id", "created_total",
                 "version_of", "_versions", "_version_ids")

    def __init__(self) -> None:
        self.changed: dict[int, Row] = {}  # base id -> the row's whole new content
        self.created: dict[int, Row] = {}  # in creation order
        self.deleted: set[int] = set()  # deleted base ids
        self.excluded: list[int] = []  # sorted base ids that are changed or deleted
        self.parent: dict[int, int] = {}  # created child -> its parent's id
        self.keys: dict[Any, int] = {}  # client-chosen keys of created rows -> id
        self.next_id: int | None = None
        self.created_total = 0  # rows ever created here (deleted ones included)
        self.version_of: dict[int, int] = {}  # id -> row version of its last write
        self._versions: list[int] = []  # every write's version, ascending
        self._version_ids: list[int] = []

    @property
    def size(self) -> int:
        """Rows held in memory."""
        return len(self.changed) + len(self.created)

    def row(self, i: int) -> Row | None:
        """The written content of row ``i`` (None: not written)."""
        rec = self.changed.get(i)
        return self.created.get(i) if rec is None else rec

    def exclude(self, i: int) -> None:
        """Take base id ``i`` out of the base range of every listing."""
        j = bisect.bisect_left(self.excluded, i)
        if j == len(self.excluded) or self.excluded[j] != i:
            self.excluded.insert(j, i)

    def allocate(self, first: int) -> int:
        """An id for a new row: ``first``, or the one after the last id created here."""
        i = max(first, self.next_id or 0)
        self.next_id = i + 1
        return i

    def put(self, i: int, row: Row, *, base: bool, parent: int | None = None) -> None:
        """Store the whole content of row ``i``: of a created row, or (``base``) of a base row."""
        if i in self.created:
            self.created[i] = row
        elif base:
            self.changed[i] = row
            self.exclude(i)
        else:
            self.created[i] = row
            self.created_total += 1
            if parent is not None:
                self.parent[i] = parent
            self.next_id = max(self.next_id or 0, i + 1)

    def remove(self, i: int, *, base: bool) -> None:
        """Delete row ``i`` (``base``: it is a base id, to be left out of the base range)."""
        self.changed.pop(i, None)
        self.version_of.pop(i, None)
        if self.created.pop(i, None) is None:
            self.deleted.add(i)
        self.parent.pop(i, None)
        if base:
            self.exclude(i)

    def record_version(self, i: int, version: int) -> None:
        """Row ``i`` was written as ``version`` (ascending across calls)."""
        self.version_of[i] = version
        self._versions.append(version)
        self._version_ids.append(i)

    def written_after(self, version: int | None) -> Iterator[int]:
        """Ids of the rows last written after ``version``, in write order (deleted rows left out)."""
        k = 0 if version is None else bisect.bisect_right(self._versions, version)
        for pos in range(k, len(self._versions)):
            v, i = self._versions[pos], self._version_ids[pos]
            if self.version_of.get(i) == v:
                yield i

    def written_ids(self, accept: Callable[[int, Row], bool] | None = None) -> list[int]:
        """Sorted ids of the changed and created rows for which ``accept(id, row)`` holds."""
        out = [i for i, row in itertools.chain(self.changed.items(), self.created.items())
               if accept is None or accept(i, row)]
        out.sort()
        return out

    def excluded_between(self, lo: int, hi: int) -> list[int]:
        return self.excluded[bisect.bisect_left(self.excluded, lo):bisect.bisect_right(self.excluded, hi)]


# ---------------------------------------------------------------------------------------- listings
class Listing:
    """Sorted ids of one listing: base ids ``lo..hi`` minus ``excluded``, merged with ``written``.

    ``base_filter`` (None: every base id in the range matches) is asked about base ids one by one;
    without it, :meth:`count` and :meth:`slice` are arithmetic (no row is generated).
    """

    def __init__(self, lo: int, hi: int, excluded: list[int], written: list[int],
                 base_filter: Callable[[int], bool] | None = None) -> None:
        self.lo, self.hi = lo, hi
        self.excluded = excluded
        self.written = written
        self.base_filter = base_filter

    @property
    def exact(self) -> bool:
        return self.base_filter is None

    def _base_iter(self, start: int) -> Iterator[int]:
        lo = max(self.lo, start)
        ex = self.excluded
        j = bisect.bisect_left(ex, lo)
        nxt = ex[j] if j < len(ex) else None
        keep = self.base_filter
        for i in range(lo, self.hi + 1):
            if i == nxt:
                j += 1
                nxt = ex[j] if j < len(ex) else None
                continue
            if keep is None or keep(i):
                yield i

    def iter_from(self, start: int | None = None) -> Iterator[int]:
        """Ids from ``start`` on (from the first when None)."""
        if start is None:
            start = min(self.lo, self.written[0]) if self.written else self.lo
        written = self.written[bisect.bisect_left(self.written, start):]
        if not written:
            return self._base_iter(start)
        return heapq.merge(self._base_iter(start), written)

    def after(self, last_id: int, limit: int) -> list[int]:
        return list(itertools.islice(self.iter_from(last_id + 1), limit))

    def _count_le(self, v: int) -> int:
        base = max(0, min(v, self.hi) - self.lo + 1) - bisect.bisect_right(self.excluded, v)
        return max(0, base) + bisect.bisect_right(self.written, v)

    def count(self) -> int:
        if not self.exact:
            return sum(1 for _ in self.iter_from())
        return max(0, self.hi - self.lo + 1) - len(self.excluded) + len(self.written)

    def slice(self, offset: int, limit: int) -> list[int]:
        if not self.exact:
            return list(itertools.islice(self.iter_from(), offset, offset + limit))
        if offset >= self.count():
            return []
        a = min(self.lo, self.written[0] if self.written else self.lo)
        b = max(self.hi, self.written[-1] if self.written else self.hi)
        while a < b:  # smallest v with count_le(v) > offset
            m = (a + b) // 2
            if self._count_le(m) > offset:
                b = m
            else:
                a = m + 1
        return list(itertools.islice(self.iter_from(a), limit))


class IdList:
    """A listing already in memory (a sorted or a custom order)."""

    exact = True

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids

    def count(self) -> int:
        return len(self.ids)

    def slice(self, offset: int, limit: int) -> list[int]:
        return self.ids[offset:offset + limit]

    def after(self, last_id: int, limit: int) -> list[int]:
        i = bisect.bisect_right(self.ids, last_id)
        return self.ids[i:i + limit]


class BoundedCache:
    """A least-recently-used cache of at most ``size`` entries (0 keeps nothing)."""

    def __init__(self, size: int) -> None:
        self.size = int(size)
        self._data: collections.OrderedDict[Hashable, Any] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable) -> Any:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        if self.size <= 0:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)

    def pop(self, key: Hashable) -> None:
        self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()


# ---------------------------------------------------------------------------------------- store
class LazyStore:
    """Base of a vendor's store: seed, lock, the overlay of each table, row randomness and versions.

    A table is named by a hashable key of the vendor's choosing (ConnectWise: the collection;
    Exact Online: (division, table)). ``generation`` changes on every write and resize: caches of
    query results key on it.
    """

    row_version_base = 0  # row versions (per scope) count up from here

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self.lock = threading.RLock()
        self.overlays: dict[Hashable, Overlay] = {}
        self.generation = 0
        self.mutations = 0
        self._salts: dict[tuple, int] = {}
        self._row_versions: dict[Hashable, int] = {}

    # ------------------------------------------------------------------ randomness
    def salt(self, *table: object) -> int:
        """The seed of one table (``stable_hash(seed, *table)``)."""
        v = self._salts.get(table)
        if v is None:
            v = self._salts[table] = stable_hash(self.seed, *table)
        return v

    # ------------------------------------------------------------------ overlay
    def overlay(self, table: Hashable) -> Overlay | None:
        return self.overlays.get(table)

    def overlay_for(self, table: Hashable) -> Overlay:
        ov = self.overlays.get(table)
        if ov is None:
            ov = self.overlays[table] = Overlay()
        return ov

    def written(self, table: Hashable, i: int) -> Row | None:
        ov = self.overlays.get(table)
        return None if ov is None else ov.row(i)

    def current(self, table: Hashable, i: int, base: Callable[[int], Row | None]) -> Row | None:
        """The content of row ``i`` now: as written, None when deleted, else ``base(i)`` (the base row,
        or None when ``i`` is not one)."""
        ov = self.overlays.get(table)
        if ov is not None:
            if i in ov.deleted:
                return None
            row = ov.row(i)
            if row is not None:
                return row
        return base(i)

    def created_total(self, table: Hashable) -> int:
        ov = self.overlays.get(table)
        return 0 if ov is None else ov.created_total

    def table_listing(self, table: Hashable, lo: int, hi: int, accept: Callable[[int, Row], bool] | None = None,
                base_filter: Callable[[int], bool] | None = None) -> Listing:
        """Ids of base rows ``lo..hi`` (``base_filter``: which match) and of written rows (``accept``)."""
        ov = self.overlays.get(table)
        if ov is None:
            return Listing(lo, hi, [], [], base_filter)
        return Listing(lo, hi, ov.excluded_between(lo, hi), ov.written_ids(accept), base_filter)

    def next_row_version(self, scope: Hashable = None) -> int:
        """The next row version of ``scope`` (above every base row's: ``row_version_base`` + n)."""
        v = self._row_versions.get(scope, self.row_version_base) + 1
        self._row_versions[scope] = v
        return v

    def wrote(self) -> None:
        """Count one write (and invalidate query caches)."""
        self.generation += 1
        self.mutations += 1

    def invalidate(self) -> None:
        """Sizes or URLs changed: every derived value may be stale."""
        self.generation += 1

    def reset(self) -> None:
        """Forget every write."""
        with self.lock:
            self.overlays.clear()
            self._row_versions.clear()
            self.mutations = 0
            self.invalidate()

    def materialized_rows(self) -> int:
        """Rows held in memory (written ones): stays bounded by what was written."""
        return sum(ov.size for ov in self.overlays.values())
