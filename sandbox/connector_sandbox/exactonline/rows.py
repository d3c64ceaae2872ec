"""Exact Online's tables as the control plane sees them (``set_size``, ``count``, ``touch``, ...).

A path is any endpoint of a table (``crm/Accounts``, ``sync/CRM/Accounts``) or its sync-style
``Service/Entity`` name; the tenant is the division (None: the current one; for ``set_size``: all).
Rows are named by their key (a guid) or, for guid-keyed tables, by their 1-based base index.
"""

from __future__ import annotations

from typing import Any

from ..control import Rows
from .catalog import Dataset
from .errors import ApiError
from .query import Plan

TOUCH_MARK = " *"


class ExactOnlineRows(Rows):
    touch_fields = ("Description", "Name", "Notes", "Remarks", "YourRef")

    def division(self, tenant: Any) -> int:
        return self.sandbox.current_division if tenant is None else int(tenant)

    def index(self, ds: Dataset, div: int, key: Any) -> int:
        i = int(key) if isinstance(key, int) and ds.key_code == "g" else self.store.index_of_key(div, ds, key)
        if i is None or not self.store.exists(div, ds, i):
            raise KeyError(f"{ds.id}: no row {key!r} in division {div}")
        return i

    def _row(self, div: int, ds: Dataset, i: int) -> dict[str, Any]:
        """A row as the regular endpoint shows it (internal values; dates as wall-clock ms)."""
        return self.store.record(div, ds, i, [f.name for f in ds.primary.fields if f.code not in ("n", "c")])

    def set_size(self, path: str, n: int, tenant: Any) -> None:
        self.store.set_size(path, n, None if tenant is None else int(tenant))

    def count(self, path: str, tenant: Any) -> int:
        ds = self.catalog.dataset_for(path)
        with self.store.lock:
            return self.sandbox.lister.count(self.division(tenant), Plan(ds.primary, ds, None, None))

    def get(self, path: str, row_id: Any, tenant: Any) -> dict[str, Any]:
        ds = self.catalog.dataset_for(path)
        div = self.division(tenant)
        return self._row(div, ds, self.index(ds, div, row_id))

    def touch(self, path: str, row_id: Any, field: str | None, tenant: Any) -> Any:
        """Change a text property (`` *`` added or taken off) and bump Modified and Timestamp (they
        show up in sync); returns the row's key."""
        ds = self.catalog.dataset_for(path)
        div = self.division(tenant)
        target = field or next((f for f in self.touch_fields if ds.types.get(f) == "s" and f in ds.own_fields), None)
        i = self.index(ds, div, row_id)
        changes = {}
        if target is not None:
            cur = self.store.view(div, ds, i).get(target) or ""
            changes[target] = cur[:-len(TOUCH_MARK)] if cur.endswith(TOUCH_MARK) else cur + TOUCH_MARK
        self.store.update(div, ds, i, changes)
        return self.store.key_of(div, ds, i)

    def create(self, path: str, record: dict[str, Any], tenant: Any) -> dict[str, Any]:
        ds = self.catalog.dataset_for(path)
        div = self.division(tenant)
        try:
            i = self.sandbox._create(div, ds.primary, record)
        except ApiError as e:
            raise ValueError(e.message) from None
        return self._row(div, ds, i)

    def delete(self, path: str, row_id: Any, tenant: Any) -> bool:
        ds = self.catalog.dataset_for(path)
        div = self.division(tenant)
        try:
            i = self.index(ds, div, row_id)
        except KeyError:
            return False
        self.store.delete(div, ds, i)
        return True
