"""ConnectWise's tables as the control plane sees them (``set_size``, ``count``, ``touch``, ...).

A path is a list endpoint: a template (``/service/tickets/{parentId}/notes``: the whole collection) or
concrete (``/service/tickets/5/notes``: the notes of ticket 5). Rows are records, by integer id.
"""

from __future__ import annotations

from typing import Any

from ..control import Rows
from .catalog import Collection
from .data import copy_record

TOUCH_MARK = " *"


class ConnectWiseRows(Rows):
    touch_fields = ("summary", "name", "notes", "text", "description")

    def collection(self, path: str) -> tuple[Collection, int | None]:
        """The collection of a list path and, for a concrete nested path, its parent id."""
        if "{" in path:
            return self.store.coll(path), None
        m = self.catalog.match(path)
        if m is not None:
            ops, values = m
            op = ops.get("GET")
            if op is not None and op.is_list:
                coll = self.catalog.collections[op.norm]
                scope = int(values[-1]) if values and values[-1].isdigit() else None
                return coll, scope
        return self.store.coll(path), None

    def set_size(self, path: str, n: int, tenant: Any) -> None:
        self.store.set_size(path, n)

    def count(self, path: str, tenant: Any) -> int:
        coll, scope = self.collection(path)
        return self.store.total_count(coll, scope)

    def get(self, path: str, row_id: Any, tenant: Any) -> dict[str, Any] | None:
        coll, _ = self.collection(path)
        rec = self.store.get(coll, int(row_id))
        return copy_record(rec) if rec is not None else None

    def touch(self, path: str, row_id: Any, field: str | None, tenant: Any) -> dict[str, Any]:
        """Bump ``_info.lastUpdated`` to the clock's now and change a text field (marked `` *``, then `` +``)."""
        coll, _ = self.collection(path)
        model = coll.model
        target = field or next((f for f in self.touch_fields
                                if f in model.by_name and model.by_name[f].kind == "string"), None)

        def change(rec: dict[str, Any]) -> None:
            if target is None:
                return
            f = model.by_name[target]
            cur = str(rec.get(target) or "")
            new = (cur + TOUCH_MARK) if not cur.endswith(TOUCH_MARK) else cur[:-len(TOUCH_MARK)] + " +"
            rec[target] = new[-f.max_len:] if f.max_len else new
        rec = self.store.touch_record(coll, int(row_id), change)
        if rec is None:
            raise KeyError(f"{path}: record {row_id} not found")
        return rec

    def create(self, path: str, record: dict[str, Any], tenant: Any) -> dict[str, Any]:
        coll, scope = self.collection(path)
        return self.sandbox._create(coll, scope, record, raw=None)

    def delete(self, path: str, row_id: Any, tenant: Any) -> bool:
        coll, _ = self.collection(path)
        return self.store.delete_record(coll, int(row_id))

    def touched_id(self, touched: Any) -> Any:
        return touched.get("id")
