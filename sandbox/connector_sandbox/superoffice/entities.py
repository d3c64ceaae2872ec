"""The entity endpoints: ``GET|POST /api/v1/{Entity}``, ``GET|PUT|PATCH|DELETE /api/v1/{Entity}/{id}``,
``GET /api/v1/{Entity}/default`` (REST WebAPI page; Swagger ``{Entity}EntityWithLinks``).

* POST -> 200 with the entity (the Swagger's answer is 200, not 201), PUT -> 200 (replaces the
  entity: what is not sent gets its default), DELETE -> 204; an unknown id -> 404
  ``SoNotFoundException`` "Contact id 99999 not found".
* PATCH: ``application/json-patch+json`` (RFC 6902, "the preferred structure"; paths may omit the
  leading ``/``: ``Department``, ``Category/Id``) or ``application/merge-patch+json`` (RFC 7396;
  an object sent where the model has an array is appended to it, as the docs say); plain
  ``application/json`` is read by its shape (array: JSON Patch, object: merge). Other types: 415.
* Bodies are checked against the Swagger model: property names are matched case-insensitively (as
  the .NET serializer does); an unknown property, a wrong JSON type, a value outside an enum, or a
  reference (``Contact: {"ContactId": 7}``, ``Category: {"Id": 3}``, ``Associate``) to a row or list
  item that does not exist -> 400 naming the property. Computed properties (the key, ``UpdatedDate``,
  ``CreatedDate``, ``UpdatedBy``, ``CreatedBy``, ``TableRight``, ``FieldProperties``, ``_Links``) are
  ignored, so a GET answer can be PUT back.
* Every POST/PUT/PATCH stamps the change column (``UpdatedDate`` / the list's ``updatedDate``) with
  the clock's now and ``UpdatedBy`` with the token's user.
* DELETE of a Contact or Person is a soft delete: the row stays in its list with ``deletedDate``
  (and ``contactDeleted``) set for 14 days; the entity itself answers 404 from then on. UNCERTAIN:
  the soft delete does NOT move ``updatedDate`` (only the deleted date is set), so a client that
  reads changes by ``updatedDate`` alone never sees deletions. Other entities are deleted at once.
* UNCERTAIN: If-Modified-Since / If-Unmodified-Since (304 / 412 in the Swagger) are not emulated.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import jsonpatch
import jsonpointer
import msgspec

from .catalog import Catalog, Entity
from .data import ENTITY_REFS, STAMPS, Record, SuperOfficeStore, default_value, full_name, iso, list_props
from .errors import ApiError, bad_request, not_found
from .filters import parse_date

READ_ONLY = {"TableRight", "FieldProperties", "_Links", "UpdatedBy", "CreatedBy", *STAMPS}
JSON_TYPES = {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "an array", dict: "an object",
              type(None): "null"}


def _jtype(value: Any) -> str:
    return JSON_TYPES.get(type(value), type(value).__name__)


class Entities:
    def __init__(self, store: SuperOfficeStore, catalog: Catalog) -> None:
        self.store, self.catalog = store, catalog

    # ------------------------------------------------------------------ references
    def ref_kind(self, model: str) -> tuple[str, str, str | None] | None:
        """("entity", provider, id prop) | ("associate", "", "AssociateId") | ("list", list, id prop) | None."""
        if model in ENTITY_REFS:
            return "entity", ENTITY_REFS[model], f"{model}Id"
        if model == "Associate":
            return "associate", "", "AssociateId"
        name = "Task" if model == "TaskListItem" else model.removesuffix("Entity")
        listed = self.catalog.lookup_list(name)
        if listed is not None and model in self.catalog.models:
            return "list", listed, list_props(self.catalog.models[model])[0]
        return None

    def carrier(self, model: str, k: int, depth: int = 0) -> dict[str, Any] | None:
        """The nested carrier ``model`` for row/item/associate ``k`` as it is now."""
        kind = self.ref_kind(model)
        props = self.catalog.models.get(model, {})
        if kind is None or not k:
            return None
        out: dict[str, Any] = {}
        if kind[0] == "associate":
            a = self.store.associate(k)
            return None if a is None else {p: a.get(p, default_value(s)) for p, s in props.items()}
        if kind[0] == "list":
            item = self.store.list_item(kind[1], k)
            if item is None:
                return None
            item_name = list_props(self.catalog.models[self.catalog.lookup_lists[kind[1]]])[1]
            for p, s in props.items():
                if p == kind[2]:
                    out[p] = k
                elif p in ("Name", "Value"):
                    out[p] = item.get(item_name or "Name", "")
                elif p in item and s["type"] != "object":
                    out[p] = coerce(s, item[p])
                else:
                    out[p] = default_value(s) if s["type"] not in ("object", "date-time") else None
            return out
        rec = self.store.live(kind[1], k)
        if rec is None:
            return None
        target = self.catalog.entity_of_provider(kind[1])
        tmodel = self.catalog.models[target.response_model] if target else {}
        lower = {key.lower(): key for key in rec if not key.startswith("_")}
        out = {}
        for p, s in props.items():
            src = lower.get(p.lower())
            tref = tmodel.get(src or "", {}).get("ref")
            if p == kind[2]:
                out[p] = k
            elif src is not None and tref is not None:
                ref_id = rec[src] or 0
                if "ref" in s:
                    out[p] = self.carrier(s["ref"], ref_id, depth + 1) if depth < 1 else None
                elif s["type"] == "string":
                    out[p] = self.named(tref, ref_id)
                else:
                    out[p] = ref_id
            elif src is not None:
                out[p] = coerce(s, self._render_value(s, rec[src], depth))
            elif p.endswith("Id") and p[:-2] in rec and tmodel.get(p[:-2], {}).get("ref"):
                out[p] = rec[p[:-2]] or 0
            elif p == "FullName":
                out[p] = full_name(rec) if kind[1] == "Person" else self.store.display(kind[1], k)
            elif p.endswith(("FullName", "Name")) and tmodel.get(p.removesuffix("FullName").removesuffix("Name"),
                                                                  {}).get("ref"):
                ref = p.removesuffix("FullName").removesuffix("Name")
                out[p] = self.named(tmodel[ref]["ref"], rec.get(ref) or 0)
            elif p in STAMPS and STAMPS[p] in rec:
                out[p] = iso(rec[STAMPS[p]])
            else:
                out[p] = None if s["type"] in ("object", "date-time") else default_value(s)
        return out

    def named(self, model: str, k: int) -> str:
        """The display name of reference ``k`` to ``model`` (a row, an associate, a list item)."""
        kind = self.ref_kind(model)
        if kind is None or not k:
            return ""
        if kind[0] == "entity":
            return self.store.display(kind[1], k)
        if kind[0] == "associate":
            a = self.store.associate(k)
            return a["FullName"] if a else ""
        item = self.store.list_item(kind[1], k)
        item_name = list_props(self.catalog.models[self.catalog.lookup_lists[kind[1]]])[1]
        return str(item.get(item_name or "Name", "")) if item else ""

    def _render_value(self, spec: dict[str, Any], value: Any, depth: int) -> Any:
        if "ref" in spec and isinstance(value, int) and not isinstance(value, bool):
            return self.carrier(spec["ref"], value, depth + 1) if depth < 1 else None
        if isinstance(value, dt.datetime):
            return iso(value)
        if spec["type"] == "date-time" and value is None:
            return None
        return copy.deepcopy(value)

    # ------------------------------------------------------------------ views
    def view(self, entity: Entity, i: int, rec: Record, rest_url: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for prop, spec in self.catalog.models[entity.response_model].items():
            if prop == entity.key:
                out[prop] = i
            elif prop == "_Links":
                out[prop] = {"Self": f"{rest_url}/{entity.name}/{i}"} if i else {}
            elif prop in STAMPS and STAMPS[prop] in rec:
                out[prop] = iso(rec[STAMPS[prop]])
            elif prop in rec:
                out[prop] = self._render_value(spec, rec[prop], 0)
            elif prop == "FullName" and entity.name == "Person":
                out[prop] = full_name(rec)
            elif spec["type"] in ("object", "date-time"):
                out[prop] = None
            else:
                out[prop] = default_value(spec)
        return out

    # ------------------------------------------------------------------ validation
    def check(self, value: Any, spec: dict[str, Any], where: str) -> Any:
        kind = spec["type"]
        if value is None:
            if kind in ("integer", "number", "boolean"):
                raise bad_request(f"Property '{where}' must be {kind_name(kind)}, not null")
            return None
        if kind == "string":
            if not isinstance(value, str):
                raise bad_request(f"Property '{where}' must be a string, not {_jtype(value)}")
            if "enum" in spec:
                hit = next((e for e in spec["enum"] if e.lower() == value.lower()), None)
                if hit is None:
                    raise bad_request(f"Property '{where}' must be one of {', '.join(spec['enum'])}, not '{value}'")
                return hit
            return value
        if kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad_request(f"Property '{where}' must be an integer, not {_jtype(value)}")
            if spec.get("format", "int32") == "int32" and not -2**31 <= value < 2**31:
                raise bad_request(f"Property '{where}' is out of the int32 range: {value}")
            return value
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad_request(f"Property '{where}' must be a number, not {_jtype(value)}")
            return float(value)
        if kind == "boolean":
            if not isinstance(value, bool):
                raise bad_request(f"Property '{where}' must be a boolean, not {_jtype(value)}")
            return value
        if kind == "date-time":
            if not isinstance(value, str):
                raise bad_request(f"Property '{where}' must be a date-time string, not {_jtype(value)}")
            return parse_date(value, f"property '{where}'")[0]
        if kind == "array":
            if not isinstance(value, list):
                raise bad_request(f"Property '{where}' must be an array, not {_jtype(value)}")
            return [self.check(v, spec.get("items") or {"type": "object"}, f"{where}[{n}]") for n, v in enumerate(value)]
        if kind == "map":
            if not isinstance(value, dict):
                raise bad_request(f"Property '{where}' must be an object, not {_jtype(value)}")
            return {k: self.check(v, spec["values"], f"{where}/{k}") for k, v in value.items()}
        if "ref" in spec:
            if not isinstance(value, dict):
                raise bad_request(f"Property '{where}' must be an object ({spec['ref']}), not {_jtype(value)}")
            return self.check_object(value, spec["ref"], where + "/")
        return value

    def check_object(self, body: Any, model: str, where: str = "", extra: str | None = None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request(f"The body must be a JSON object ({model}), not {_jtype(body)}")
        props = dict(self.catalog.models.get(model, {}))
        if extra:
            props.update(self.catalog.models.get(extra, {}))
        lower = {p.lower(): p for p in props}
        out: dict[str, Any] = {}
        for key, value in body.items():
            canon = lower.get(str(key).lower())
            if canon is None:
                raise bad_request(f"Unknown property '{where}{key}' on {model}")
            out[canon] = self.check(value, props[canon], where + canon)
        return out

    # ------------------------------------------------------------------ writes
    def record_from(self, entity: Entity, body: dict[str, Any], old: Record | None, user: int) -> Record:
        """A whole new record from a checked body (PUT semantics: what is not sent gets its default)."""
        now = self.store.now()
        rec: Record = {"_updated": now, "_registered": (old or {}).get("_registered", now), "_deleted_at": None,
                       "UpdatedBy": user, "CreatedBy": (old or {}).get("CreatedBy", user)}
        if old is not None and "_cols" in old:
            rec["_cols"] = old["_cols"]
        model = self.catalog.models[entity.response_model]
        for prop, value in body.items():
            if prop == entity.key or prop in READ_ONLY:
                continue
            spec = model[prop]
            kind = self.ref_kind(spec["ref"]) if "ref" in spec else None
            if kind is not None:
                k = int((value or {}).get(kind[2] or "", 0) or 0)
                if k and not self._exists(kind, k):
                    raise bad_request(f"Property '{prop}': {spec['ref']} id {k} does not exist")
                rec[prop] = k
            else:
                rec[prop] = value
        return rec

    def _exists(self, kind: tuple[str, str, str | None], k: int) -> bool:
        if kind[0] == "associate":
            return self.store.associate(k) is not None
        if kind[0] == "list":
            return self.store.list_item(kind[1], k) is not None
        return self.store.live(kind[1], k) is not None

    def parse_json(self, data: bytes) -> Any:
        if not data.strip():
            raise bad_request("Bad request. Entity to save is not in request body.")
        try:
            return msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            raise bad_request(f"The body is not valid JSON: {exc}") from None

    def body(self, entity: Entity, content_type: str, data: bytes) -> dict[str, Any]:
        if content_type not in ("application/json", "text/json"):
            raise ApiError(415, "UnsupportedMediaType", f"Content-Type '{content_type}' is not served by the sandbox: "
                                                         "send application/json")
        return self.check_object(self.parse_json(data), entity.model, extra=entity.response_model)

    def create(self, entity: Entity, content_type: str, data: bytes, user: int) -> int:
        body = self.body(entity, content_type, data)
        provider = entity.provider or ""
        with self.store.lock:
            rec = self.record_from(entity, body, None, user)
            i = self.store.allocate(provider)
            self.store.write(provider, i, rec)
        return i

    def replace(self, entity: Entity, i: int, content_type: str, data: bytes, user: int) -> None:
        old = self._live(entity, i)
        body = self.body(entity, content_type, data)
        self.store.write(entity.provider or "", i, self.record_from(entity, body, old, user))

    def patch(self, entity: Entity, i: int, content_type: str, data: bytes, user: int, rest_url: str) -> None:
        old = self._live(entity, i)
        if content_type not in ("application/json-patch+json", "application/merge-patch+json", "application/json",
                                "text/json"):
            raise ApiError(415, "UnsupportedMediaType", f"PATCH takes application/json-patch+json or "
                                                         f"application/merge-patch+json, not '{content_type}'")
        doc = self.parse_json(data)
        current = self.view(entity, i, old, rest_url)
        if content_type == "application/json-patch+json" or (content_type in ("application/json", "text/json")
                                                                and isinstance(doc, list)):
            patched = self._json_patch(current, doc)
        elif content_type == "application/merge-patch+json" or (content_type in ("application/json", "text/json")
                                                                 and isinstance(doc, dict)):
            if not isinstance(doc, dict):
                raise bad_request("A JSON Merge Patch (RFC 7396) must be a JSON object")
            patched = self._merge(current, doc, entity.response_model)
        else:
            raise ApiError(415, "UnsupportedMediaType", f"PATCH takes application/json-patch+json or "
                                                         f"application/merge-patch+json, not '{content_type}'")
        body = self.check_object(patched, entity.model, extra=entity.response_model)
        self.store.write(entity.provider or "", i, self.record_from(entity, body, old, user))

    def delete(self, entity: Entity, i: int) -> None:
        old = self._live(entity, i)
        provider = self.catalog.providers[entity.provider or ""]
        if provider.soft_deletes:
            rec = dict(old)
            rec["_deleted_at"] = self.store.now()
            if "Deleted" in self.catalog.models[entity.response_model]:
                rec["Deleted"] = 1
            self.store.write(provider.name, i, rec)
        else:
            self.store.write(provider.name, i, None)

    def _live(self, entity: Entity, i: int) -> Record:
        rec = self.store.live(entity.provider or "", i)
        if rec is None:
            raise not_found(entity.name, i)
        return rec

    @staticmethod
    def _pointer(doc: Any, path: Any, where: str) -> str:
        """``Category/Id`` -> ``/Category/Id``, each step matched case-insensitively to the document."""
        if not isinstance(path, str):
            raise bad_request(f"JSON Patch '{where}' must be a string")
        parts = [jsonpointer.unescape(p) for p in path.lstrip("/").split("/")] if path not in ("", "/") else []
        node, out = doc, []
        for part in parts:
            if isinstance(node, dict):
                part = next((k for k in node if k.lower() == part.lower()), part)
                node = node.get(part)
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                node = None
            out.append(jsonpointer.escape(part))
        return "/" + "/".join(out)

    def _json_patch(self, current: dict[str, Any], ops: Any) -> Any:
        if not isinstance(ops, list):
            raise bad_request("A JSON Patch (RFC 6902) must be a JSON array of operations")
        fixed = []
        for n, op in enumerate(ops):
            if not isinstance(op, dict) or "op" not in op or "path" not in op:
                raise bad_request(f"JSON Patch operation {n} needs 'op' and 'path'")
            op = dict(op)
            op["path"] = self._pointer(current, op["path"], "path")
            if "from" in op:
                op["from"] = self._pointer(current, op["from"], "from")
            fixed.append(op)
        try:
            return jsonpatch.apply_patch(current, fixed)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            raise bad_request(f"JSON Patch could not be applied: {exc}") from None

    def _merge(self, target: Any, patch: dict[str, Any], model: str | None) -> Any:
        out = dict(target) if isinstance(target, dict) else {}
        props = self.catalog.models.get(model or "", {})
        lower = {k.lower(): k for k in out}
        for key, value in patch.items():
            key = lower.get(str(key).lower(), key)
            spec = props.get(key, {})
            if value is None:
                out[key] = None
            elif spec.get("type") == "array" and isinstance(value, dict):
                out[key] = [*(out.get(key) or []), value]  # an object where an array is expected is appended
            elif isinstance(value, dict) and spec.get("type") != "map":
                out[key] = self._merge(out.get(key), value, spec.get("ref"))
            else:
                out[key] = value
        return out


def coerce(spec: dict[str, Any], value: Any) -> Any:
    """A value in a carrier's own type (a carrier may type a flag as an int where the entity has a bool)."""
    kind = spec["type"]
    if kind == "integer" and isinstance(value, (bool, float)):
        return int(value)
    if kind == "boolean" and isinstance(value, int) and not isinstance(value, bool):
        return bool(value)
    if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "string" and value is not None and not isinstance(value, str):
        return str(value)
    return value


def kind_name(kind: str) -> str:
    return {"integer": "an integer", "number": "a number", "boolean": "a boolean"}.get(kind, kind)
