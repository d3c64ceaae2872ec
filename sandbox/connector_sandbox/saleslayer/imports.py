"""The import connector: ``input_data`` / ``delete_data`` batches, their validation, the import job and its
tracking URL ([SL-IMP], [SL-DEL], [SL-TRK], [SL-SDK] ``set_info``).

A batch is validated item by item when it is POSTed: the answer's ``input_response`` already says what will
be done (``new_items``, ``updated_items``, ``deleted_items``, ``items_affected``, each ``{table: n}``) and which
items are refused (``errors``: one text per refused item, naming the table, the item's index, its REF and the
field). An item is refused, alone, when it names a field the import connector does not have, has no ``REF``
(or ``ID``), has a value of the wrong type for its field, references a row that does not exist, is new in a
table whose connector "only updates existing items", or repeats a REF of the same call. ``result``: 1 when
something will change, 0 when nothing does (every item already has its values), 2 (denied) when every item
is refused or the whole call is (too many items, an unknown table only, a malformed body).

Values (everything arrives as text in a form): numeric ``12``/``12.5``/``-3`` (``""`` empties it); boolean
``1``/``0``/``true``/``false``; datetime ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS`` or ISO 8601 with ``T``;
list: a list or comma-separated text; json: nested form fields or a JSON text (object or array); image and
file: http(s) URLs (a list or comma-separated; ``""`` removes the files); ``*_REF`` fields: references of the
joined table (``parent_REF=""`` makes a root category, ``catalogue_REF`` takes several); ``status=X`` deletes
the item. Tables are processed in the connector's order (categories, products, variants), so a batch may
create a category and the products in it. Deleting a category with subcategories is refused; deleting one
with products takes it out of them; deleting a product deletes its variants.

The job (1.18): the changes are applied when the job ends, not when the answer is sent. Its tracking URL
answers ``{"version", "time", "input_status": "prepare" | "started" | "end", "input_percent_completion",
"input_action_message"}``; the job moves on one stage per poll (prepare 0 -> started 50 -> end 100) or
with the clock (``duration`` seconds, 3 by default), whichever is first; a job whose time is up is applied
at the next request of any kind. ``input_data_directly=1`` (1.18) and every 1.17 import apply at once.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog, Column, ImportTable
from .data import Row, SalesLayerStore, file_id

DEFAULT_MAX_ITEMS = 1000
NUMBER = re.compile(r"-?\d{1,15}(\.\d{1,10})?")
URL = re.compile(r"https?://[^\s,]+")
DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ")


class Invalid(ValueError):
    pass


@dataclass
class Op:
    kind: str  # create | update | delete
    table: str
    id: int
    ref: str
    changes: dict[str, Any] = field(default_factory=dict)
    files_changed: bool = False


@dataclass
class Plan:
    ops: list[Op] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    new: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    affected_ids: dict[str, dict[str, str]] = field(default_factory=dict)
    output: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    items: int = 0

    def count(self, what: dict[str, int], table: str, n: int = 1) -> None:
        what[table] = what.get(table, 0) + n

    @property
    def result(self) -> int:
        if self.ops:
            return 1
        return 2 if self.errors else 0

    def affected(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for what in (self.new, self.updated, self.deleted):
            for t, n in what.items():
                out[t] = out.get(t, 0) + n
        return out


def default_value(col: Column) -> Any:
    """The value of a column a new item does not send."""
    if col.name == "ID_catalogue":
        return []
    if col.name.startswith("ID_"):
        return 0
    return {"numeric": None, "boolean": False, "list": [], "json": {}, "image": [], "file": []}.get(col.type, "")


def scalar_text(value: Any, what: str) -> str:
    if isinstance(value, (dict, list)):
        raise Invalid(f"{what} must be a single value, not a list")
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else str(value)


def convert(col: Column, value: Any) -> Any:
    """The stored value of an import value for ``col`` (:class:`Invalid` naming the problem)."""
    kind = col.type
    if kind == "string":
        return scalar_text(value, "the value")
    if kind == "numeric":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        text = scalar_text(value, "a number").strip()
        if text == "":
            return None
        if not NUMBER.fullmatch(text):
            raise Invalid(f"{text!r} is not a number")
        return float(text) if "." in text else int(text)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = scalar_text(value, "a boolean").strip().lower()
        if text in ("1", "true"):
            return True
        if text in ("0", "false"):
            return False
        raise Invalid(f"{text!r} is not a boolean (1, 0, true or false)")
    if kind == "datetime":
        text = scalar_text(value, "a date").strip()
        if text == "":
            return ""
        for fmt in DATE_FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).strftime("%Y-%m-%d %H:%M:%S")
            except ValueError:
                continue
        raise Invalid(f"{text!r} is not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)")
    if kind == "list":
        if isinstance(value, list):
            return [scalar_text(v, "a list item") for v in value]
        text = scalar_text(value, "a list")
        return [part.strip() for part in text.split(",") if part.strip()]
    if kind == "json":
        if isinstance(value, (dict, list)):
            return value
        text = scalar_text(value, "JSON").strip()
        if text == "":
            return {}
        try:
            parsed = json.loads(text)
        except ValueError:
            raise Invalid(f"{text[:40]!r} is not JSON") from None
        if not isinstance(parsed, (dict, list)):
            raise Invalid("JSON must be an object or an array")
        return parsed
    if kind in ("image", "file"):
        urls = value if isinstance(value, list) else [
            u.strip() for u in scalar_text(value, "a URL").split(",") if u.strip()]
        out = []
        for url in urls:
            text = scalar_text(url, "a URL").strip()
            if not URL.fullmatch(text):
                raise Invalid(f"{text[:60]!r} is not an http(s) URL")
            out.append(file_id(text))
        return out
    raise Invalid(f"fields of type {kind} cannot be imported")


class Importer:
    """Plans (validates) and applies batches against the store."""

    def __init__(self, store: SalesLayerStore, catalog: Catalog, only_update_existing: set[str],
                 max_items: int = DEFAULT_MAX_ITEMS) -> None:
        self.store, self.catalog = store, catalog
        self.only_update_existing = only_update_existing
        self.max_items = int(max_items)
        self.order = [t for t in catalog.tables if t in catalog.import_tables]

    # ------------------------------------------------------------------ planning
    def plan(self, input_data: Any, delete_data: Any, *, want_output: bool = False) -> Plan:
        plan = Plan()
        batches: dict[str, list[Any]] = {}
        deletions: dict[str, list[Any]] = {}
        for name, data, into in (("input_data", input_data, batches), ("delete_data", delete_data, deletions)):
            if data is None:
                continue
            if not isinstance(data, dict):
                plan.errors.append(f"{name} must be sent as {name}[table][index][field] (form fields, as PHP's "
                                   "http_build_query writes them)")
                return plan
            for table, items in data.items():
                if table not in self.catalog.import_tables:
                    plan.errors.append(f"{name}[{table}]: the import connector has no table {table!r} (its tables: "
                                       f"{', '.join(self.order)})")
                    continue
                if isinstance(items, dict):
                    items = [items]
                if not isinstance(items, list):
                    plan.errors.append(f"{name}[{table}]: expected a list of items (input_data[{table}][0][REF]=...); "
                                       "CSV file URLs are not emulated")
                    continue
                into[table] = items
        plan.items = sum(len(v) for v in batches.values()) + sum(len(v) for v in deletions.values())
        if plan.items > self.max_items:
            plan.errors = [f"too many items in one call: {plan.items} (at most {self.max_items}); send smaller batches"]
            return plan
        state = _State(self.store)
        for table in self.order:
            for k, item in enumerate(batches.get(table, [])):
                self._item(plan, state, table, k, item, want_output)
        for table in self.order:
            for k, item in enumerate(deletions.get(table, [])):
                self._deletion(plan, state, table, k, item)
        return plan

    def _identify(self, state: _State, table: str, item: dict[str, Any], label: str) -> tuple[int | None, str]:
        key = self.catalog.tables[table].key
        ref = item.get("REF")
        if ref is not None and not isinstance(ref, str):
            raise Invalid(f"{label}: REF must be a single value")
        id_text = item.get("ID")
        if id_text not in (None, ""):
            text = scalar_text(id_text, "ID")
            i = int(text) if text.isdigit() else None
            row = None if i is None else state.row(table, i)
            if row is None:
                raise Invalid(f"{label}: no {table} item has the ID {text!r}")
            if ref not in (None, "") and row[key] != ref:
                raise Invalid(f"{label}: ID {text} has the REF {row[key]!r}, not {ref!r}")
            return i, row[key]
        if not ref:
            raise Invalid(f"{label}: REF is missing (every item needs its REF or ID)")
        return state.find(table, ref), ref

    def _identified(self, plan: Plan, state: _State, table: str, item: dict[str, Any],
                    label: str) -> tuple[int | None, str] | None:
        """:meth:`_identify`, its problem an error of the plan (and None) instead of raised."""
        try:
            return self._identify(state, table, item, label)
        except Invalid as exc:
            plan.errors.append(str(exc))
            return None

    def _item(self, plan: Plan, state: _State, table: str, k: int, item: Any, want_output: bool) -> None:
        spec: ImportTable = self.catalog.import_tables[table]
        label = f"{table}[{k}]"
        if not isinstance(item, dict):
            plan.errors.append(f"{label}: an item must be {table}[{k}][field]=value fields")
            return
        ref = item.get("REF")
        if isinstance(ref, str) and ref:
            label = f"{table}[{k}] (REF {ref!r})"
        unknown = [f for f in item if f not in spec.fields and f != "ID"]
        if unknown:
            plan.errors.append(f"{label}: unknown field{'s' if len(unknown) > 1 else ''} "
                               f"{', '.join(repr(f) for f in unknown)}; the import fields of {table} are "
                               f"{', '.join(spec.fields)}")
            return
        found = self._identified(plan, state, table, item, label)
        if found is None:
            return
        i, ref = found
        if ref in state.seen[table]:
            plan.errors.append(f"{label}: REF {ref!r} is sent twice in this call")
            return
        state.seen[table].add(ref)
        status = item.get("status")
        if status not in (None, "", "V", "X"):
            plan.errors.append(f"{label}: field 'status': {status!r} is not V or X")
            return
        if status == "X":
            if i is None:
                plan.errors.append(f"{label}: REF {ref!r} does not exist (status X deletes existing items)")
                return
            self._delete(plan, state, table, i, ref, label)
            return
        changes, problems, files_changed = {}, [], False
        for name, value in item.items():
            spec_field = spec.fields.get(name)
            if name in ("REF", "ID", "status") or spec_field is None or spec_field.column is None:
                continue
            col = self.catalog.tables[table].by_name[spec_field.column]
            try:
                if spec_field.type == "ref":
                    changes[col.name] = self._refs(state, spec_field.ref or "", col, value)
                else:
                    changes[col.name] = convert(col, value)
                    files_changed = files_changed or col.is_file
            except Invalid as exc:
                problems.append(f"field {name!r}: {exc}")
        if problems:
            plan.errors.append(f"{label}: " + "; ".join(problems))
            return
        key = self.catalog.tables[table].key
        if i is None:
            if table in self.only_update_existing:
                plan.errors.append(f"{label}: REF {ref!r} does not exist and the connector only updates existing "
                                   f"{table} items")
                return
            if table == "product_formats" and not changes.get("ID_products"):
                plan.errors.append(f"{label}: a new variant needs its product_REF")
                return
            i = self.store.allocate(table)
            row = {c.name: default_value(c) for c in self.catalog.tables[table].columns}
            row.update(changes)
            row[key] = ref
            state.created(table, ref, i, row)
            plan.ops.append(Op("create", table, i, ref, row, True))
            plan.count(plan.new, table)
        else:
            current = state.row(table, i) or {}
            if table == "catalogue" and changes.get("ID_PARENT"):
                parent = changes["ID_PARENT"]
                if parent == i or i in state.ancestors(parent):
                    plan.errors.append(f"{label}: field 'parent_REF': a category cannot be inside itself")
                    return
            changes = {c: v for c, v in changes.items() if current.get(c) != v}
            if not changes:
                return  # already as sent: unmodified
            row = {**current, **changes}
            state.rows[table][i] = row
            plan.ops.append(Op("update", table, i, ref, changes, files_changed))
            plan.count(plan.updated, table)
        plan.affected_ids.setdefault(table, {})[str(i)] = ref
        if want_output:
            plan.output.setdefault(table, []).append(
                {"ID": i, **{k2: v for k2, v in row.items() if not k2.startswith("_") and k2 != "ID"}})

    def _refs(self, state: _State, target: str, col: Column, value: Any) -> Any:
        texts = value if isinstance(value, list) else [
            p.strip() for p in scalar_text(value, "a reference").split(",") if p.strip()]
        ids = []
        for text in texts:
            text = scalar_text(text, "a reference")
            found = state.find(target, text)
            if found is None:
                raise Invalid(f"no {target} item has the REF {text!r}")
            ids.append(found)
        if col.name == "ID_catalogue":
            return ids
        if len(ids) > 1:
            raise Invalid("takes one reference")
        if not ids and col.name == "ID_products":
            raise Invalid("a variant must belong to a product")
        return ids[0] if ids else 0

    def _deletion(self, plan: Plan, state: _State, table: str, k: int, item: Any) -> None:
        label = f"delete_data[{table}][{k}]"
        if not isinstance(item, dict) or set(item) - {"REF", "ID"}:
            plan.errors.append(f"{label}: name the item by REF (or ID) only: delete_data[{table}][{k}][REF]=...")
            return
        found = self._identified(plan, state, table, item, label)
        if found is None:
            return
        i, ref = found
        if i is None:
            plan.errors.append(f"{label}: REF {ref!r} does not exist")
            return
        self._delete(plan, state, table, i, ref, label)

    def _delete(self, plan: Plan, state: _State, table: str, i: int, ref: str, label: str) -> None:
        if table == "catalogue":
            children = [c for c in self.store.children_of(i) if c not in state.deleted["catalogue"]]
            if children:
                plan.errors.append(f"{label}: category {ref!r} has {len(children)} subcategories; delete or move "
                                   "them first")
                return
        state.deleted[table].add(i)
        plan.ops.append(Op("delete", table, i, ref))
        plan.count(plan.deleted, table)
        plan.affected_ids.setdefault(table, {})[str(i)] = ref
        if table == "products":
            variants = [v for v in self.store.variants_of(i) if v not in state.deleted["product_formats"]]
            state.deleted["product_formats"].update(variants)
            if variants:
                plan.count(plan.deleted, "product_formats", len(variants))

    # ------------------------------------------------------------------ applying
    def apply(self, plan: Plan) -> None:
        store = self.store
        with store.lock:
            for op in plan.ops:
                if op.kind == "create":
                    store.put(op.table, op.id, op.changes, files_changed=True)
                elif op.kind == "update":
                    current = store.row(op.table, op.id)
                    if current is not None:
                        store.put(op.table, op.id, {**current, **op.changes}, files_changed=op.files_changed)
                else:
                    self.delete(op.table, op.id)

    def delete(self, table: str, i: int) -> bool:
        """Delete a row with its effects: a category leaves its products, a product takes its variants."""
        store = self.store
        with store.lock:
            if store.row(table, i) is None:
                return False
            if table == "catalogue":
                for p in store.products_of(i):
                    row = store.row("products", p)
                    if row is not None:
                        store.put("products", p, {**row, "ID_catalogue": [c for c in row["ID_catalogue"] if c != i]})
            if table == "products":
                for v in store.variants_of(i):
                    store.remove("product_formats", v)
            return store.remove(table, i)


class _State:
    """The store as a batch sees it while it is planned: its own creations, changes and deletions first."""

    def __init__(self, store: SalesLayerStore) -> None:
        self.store = store
        tables = list(store.catalog.tables)
        self.refs: dict[str, dict[str, int]] = {t: {} for t in tables}
        self.rows: dict[str, dict[int, Row]] = {t: {} for t in tables}
        self.deleted: dict[str, set[int]] = {t: set() for t in tables}
        self.seen: dict[str, set[str]] = {t: set() for t in tables}

    def find(self, table: str, ref: str) -> int | None:
        i = self.refs[table].get(ref)
        if i is None:
            i = self.store.find_ref(table, ref)
        return None if i is None or i in self.deleted[table] else i

    def row(self, table: str, i: int) -> Row | None:
        if i in self.deleted[table]:
            return None
        return self.rows[table].get(i) or self.store.row(table, i)

    def created(self, table: str, ref: str, i: int, row: Row) -> None:
        self.refs[table][ref] = i
        self.rows[table][i] = row

    def ancestors(self, c: int) -> list[int]:
        out, seen = [], set()
        row = self.row("catalogue", c)
        while row is not None and row.get("ID_PARENT") and row["ID_PARENT"] not in seen:
            seen.add(row["ID_PARENT"])
            out.append(row["ID_PARENT"])
            row = self.row("catalogue", row["ID_PARENT"])
        return [c, *out]


# ---------------------------------------------------------------------------------------- jobs
@dataclass
class Job:
    token: str
    code: str
    plan: Plan
    submitted: float
    duration: float
    polls: int = 0
    applied: bool = False


class Jobs:
    """Import jobs and their tracking (see the module docstring)."""

    def __init__(self, importer: Importer, duration: float = 3.0, keep: int = 1000) -> None:
        self.importer = importer
        self.duration = float(duration)
        self.keep = keep
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.jobs.clear()

    def submit(self, plan: Plan, code: str, now: float, *, direct: bool) -> Job:
        job = Job(secrets.token_hex(12), code, plan, now, self.duration)
        if direct or not plan.ops:
            self._apply(job)
        with self._lock:
            self.jobs[job.token] = job
            while len(self.jobs) > self.keep:
                self.jobs.popitem(last=False)
        return job

    def _apply(self, job: Job) -> None:
        if not job.applied:
            job.applied = True
            self.importer.apply(job.plan)

    def pending(self) -> list[Job]:
        with self._lock:
            return [j for j in self.jobs.values() if not j.applied]

    def advance(self, now: float) -> None:
        """Apply the jobs whose time is up (called on every request)."""
        for job in self.pending():
            if now - job.submitted >= job.duration:
                self._apply(job)

    def job(self, token: str) -> Job | None:
        with self._lock:
            return self.jobs.get(token)

    def status(self, job: Job, now: float) -> tuple[str, int, str]:
        """One poll of the tracking URL: (input_status, percent, message)."""
        job.polls += 1
        progress = 1.0 if job.applied else max((job.polls - 1) / 2, (now - job.submitted) / max(job.duration, 1e-9))
        plan = job.plan
        if progress >= 1:
            self._apply(job)
            return "end", 100, (f"Import finished: {sum(plan.new.values())} new, {sum(plan.updated.values())} "
                                f"updated, {sum(plan.deleted.values())} deleted items")
        if progress <= 0:
            return "prepare", 0, f"Preparing the import of {plan.items} items"
        percent = min(99, max(1, int(progress * 100)))
        return "started", percent, f"Importing items ({percent} %)"
