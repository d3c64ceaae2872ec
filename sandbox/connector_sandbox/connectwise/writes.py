"""ConnectWise's records and writes (§1.6): GET/PUT/PATCH/DELETE of one record, POST on a collection;
validation against the model (members, types, max lengths, enums, required fields, references that
must exist), JSON Patch, the ``_info`` stamps.

Mixed into :class:`~.emulator.ConnectWiseSandbox` (uses its catalog and store).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import msgspec
from werkzeug.wrappers import Request, Response

from ..responses import json_response
from .catalog import Collection, Model
from .conditions import project
from .data import copy_record
from .errors import ApiError, invalid

_encode = msgspec.json.Encoder().encode


class RecordWrites:
    """Single-record answers and the writes of the ConnectWise emulator."""

    # ------------------------------------------------------------------ records & writes
    def _record_op(self, request: Request, coll: Collection, scope: int | None, rid: int) -> Response:
        store = self.store
        method = request.method
        with store.lock:
            if not store.exists(coll, rid, scope):
                raise ApiError(404, "NotFound", f"{coll.model.display} {rid} not found")
            if method == "GET":
                tree = self._fields(self._args(request), coll.model)
                if tree is None:
                    return Response(store.record_bytes(coll, rid), 200, content_type="application/json; charset=utf-8")
                return json_response(project(store.get(coll, rid) or {}, tree))
            if method == "DELETE":
                before = store.get(coll, rid)
                store.delete_record(coll, rid)
                self._touch_parent(coll, scope, rid, before)
                return Response(status=204)
            current = store.get(coll, rid) or {}
            if method == "PUT":
                body = self._json_body(request, coll.model)
                raw = request.get_data(as_text=True)
                rec = {"id": rid, **self._normalise(coll, scope, body, raw, on_update=True)}
                self._stamp(coll, rec, previous=current)
            else:  # PATCH
                rec = self._apply_patch(coll, scope, current, request)
                if rec is None:  # only no-op operations (nested paths): the vendor's "false 200"
                    return Response(store.record_bytes(coll, rid), 200, content_type="application/json; charset=utf-8")
                self._stamp(coll, rec, previous=current)
            store.put_record(coll, rid, rec, scope)
            self._touch_parent(coll, scope, rid, rec)
            return json_response(rec, 200)

    def _json_body(self, request: Request, model: Model) -> Any:
        raw = request.get_data()
        if not raw:
            raise ApiError(400, "InvalidObject", f"{model.resource} object is invalid", [{
                "code": "MissingRequiredField", "message": "A request body is required.",
                "resource": model.resource, "field": model.resource}])
        try:
            return msgspec.json.decode(raw)
        except msgspec.DecodeError as e:
            raise ApiError(400, "ConnectWiseApi", f"Unexpected character encountered while parsing value: {e}") from None

    def _create(self, coll: Collection, scope: int | None, body: Any, raw: str | None) -> dict[str, Any]:
        store = self.store
        with store.lock:
            if coll.nested and scope is not None and not store.scope_exists(coll, scope):
                raise ApiError(404, "NotFound", f"{coll.parent.model.display} {scope} not found")
            rec = self._normalise(coll, scope, body, raw, on_update=False)
            if coll.nested and coll.parent is not None and scope is not None:
                self._link_parent(coll, scope, rec)
            rid = store.new_id(coll)
            rec = {"id": rid, **rec}
            self._stamp(coll, rec, previous=None)
            store.put_record(coll, rid, rec, scope)
            self._touch_parent(coll, scope, rid, rec)
            return copy_record(rec)

    def _link_parent(self, coll: Collection, scope: int, rec: dict[str, Any]) -> None:
        """Children created under a parent URL point at that parent (e.g. a note's ticketId)."""
        store = self.store
        pm = coll.parent.model.name.lower()
        for f in coll.model.fields:
            if f.kind == "integer" and f.lname in (pm + "id", "parentid"):
                rec[f.name] = scope
            elif f.kind == "object" and f.ref and store.ref_target(f.ref)[0] is coll.parent:
                sub = self.catalog.models.get(f.ref)
                if sub is not None:
                    rec[f.name] = store.ref(sub, coll.parent, scope)

    def _stamp(self, coll: Collection, rec: dict[str, Any], previous: dict[str, Any] | None) -> None:
        if "_info" not in coll.model.by_name:
            rec.pop("_info", None)
            return
        now = self.store.now_iso()
        prev_info = (previous or {}).get("_info") or {}
        rec["_info"] = {
            "lastUpdated": now,
            "updatedBy": self.store.api_member,
            "dateEntered": prev_info.get("dateEntered", now),
            "enteredBy": prev_info.get("enteredBy", self.store.api_member),
        }

    def _touch_parent(self, coll: Collection, scope: int | None, rid: int, rec: dict[str, Any] | None = None) -> None:
        # UNCERTAIN (our reading): adding/changing a note or a time entry on a ticket also bumps the
        # ticket's _info.lastUpdated, so incremental ticket syncs see the activity.
        store = self.store
        if coll.norm in ("/service/tickets/{}/notes", "/project/tickets/{}/notes") and scope is not None:
            parent = coll.parent
            if parent is not None and store.exists(parent, scope):
                store.touch_record(parent, scope)
        elif coll.norm == "/time/entries" and rec is not None:
            if rec.get("chargeToType") in ("ServiceTicket", "ProjectTicket") and isinstance(rec.get("chargeToId"), int):
                tickets = store.coll("/service/tickets" if rec["chargeToType"] == "ServiceTicket" else "/project/tickets")
                if store.exists(tickets, rec["chargeToId"]):
                    store.touch_record(tickets, rec["chargeToId"])

    def _normalise(self, coll: Collection, scope: int | None, body: Any, raw: str | None,
                   on_update: bool) -> dict[str, Any]:
        """Validate a POST/PUT body against the model and return the record to store."""
        model = coll.model
        if not isinstance(body, dict):
            raise ApiError(400, "ConnectWiseApi",
                            f"Cannot deserialize the current JSON value into type '{model.name}' (a JSON object is required).")
        out: dict[str, Any] = {}
        for key, value in body.items():
            f = model.by_name.get(key) or model.by_lower.get(key.lower())
            if f is None:
                # The vendor rejects unknown members (jundis/CWSlack-SlashCommands #132: "Could not find
                # member 'enteredBy' on object of type 'Ticket'. Path 'enteredBy', line 1, position 51.").
                pos = (raw.find(f'"{key}"') + len(key) + 2) if raw else 0
                raise ApiError(400, "ConnectWiseApi",
                                f"Could not find member '{key}' on object of type '{model.name}'. "
                                f"Path '{key}', line 1, position {max(pos, 0)}.")
            if f.name in ("id", "_info") or value is None:
                continue
            out[f.name] = self._check_value(coll, f, value)
        self._check_required(coll, out, on_update)
        self._resolve_refs(coll, scope, out)
        return out

    def _check_value(self, coll: Collection, f: Any, value: Any) -> Any:
        model = coll.model
        kind = f.kind
        bad = None
        if kind == "string" or kind == "datetime":
            if not isinstance(value, str):
                bad = "string"
        elif kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                bad = "integer"
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                bad = "number"
        elif kind == "boolean":
            if not isinstance(value, bool):
                bad = "boolean"
        elif kind == "object":
            if not isinstance(value, dict):
                bad = "object"
        elif kind == "array":
            if not isinstance(value, list):
                bad = "array"
        if bad is not None:
            raise ApiError(400, "ConnectWiseApi",
                            f"Error converting value {_encode(value).decode()} to type '{bad}'. Path '{f.name}'.")
        if kind == "string" and f.max_len and len(value) > f.max_len:
            # [code MaxLengthField + message] as reported by integrators (docs.xyte.io kb-5017).
            raise invalid(model.resource, "MaxLengthField",
                           f"The field {f.name} must be a string with a maximum length of {f.max_len}.", f.name)
        if kind == "string" and f.enum and value not in f.enum:
            raise invalid(model.resource, "InvalidField",
                           f"The value '{value}' is not valid for {f.name}; expected one of {', '.join(f.enum)}.", f.name)
        if kind == "datetime":
            try:
                dt.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
            except ValueError:
                raise ApiError(400, "ConnectWiseApi",
                                f"Could not convert string to DateTime: {value}. Path '{f.name}'.") from None
        return value

    def _check_required(self, coll: Collection, rec: dict[str, Any], on_update: bool) -> None:
        model = coll.model
        errors = []
        parent_fields = set()
        if coll.parent is not None:
            pm = coll.parent.model.name.lower()
            parent_fields = {f.name for f in model.fields if f.lname in (pm + "id", "parentid")}
        for f in model.fields:
            if f.name in ("id", "_info") or f.name in parent_fields:
                continue
            if f.required or (on_update and f.required_on_update):
                v = rec.get(f.name)
                if v is None or (isinstance(v, str) and not v.strip()) or v == {}:
                    errors.append({"code": "MissingRequiredField", "message": f"{f.name} is required.",
                                   "resource": model.resource, "field": f.name})
        if errors:
            # InvalidObject + errors[] (christaylorcodes/ConnectWiseManageAPI #30 shows
            # code "MissingRequiredField", resource = model, field = the missing field).
            raise ApiError(400, "InvalidObject", f"{model.resource} object is invalid", errors)

    def _resolve_refs(self, coll: Collection, scope: int | None, rec: dict[str, Any],
                      only: set[str] | None = None) -> None:
        """References by id must exist ("NotFound" with field "x/id"); they come back expanded."""
        store = self.store
        model = coll.model
        for f in model.fields:
            if only is not None and f.name not in only:
                continue
            v = rec.get(f.name)
            if f.kind != "object" or not isinstance(v, dict) or not f.ref:
                continue
            target, parent_field = store.ref_target(f.ref)
            sub = self.catalog.models.get(f.ref)
            if target is None or sub is None:
                continue
            rid = v.get("id")
            if rid is None:
                ident = v.get("identifier") or v.get("name")
                if isinstance(ident, str):
                    rid = self._find_by_ident(target, ident)
                    if rid is None:
                        raise invalid(model.resource, "NotFound",
                                       f"{target.model.display} '{ident}' not found", f"{f.name}/identifier")
                else:
                    continue
            if not isinstance(rid, int) or isinstance(rid, bool):
                raise ApiError(400, "ConnectWiseApi", f"Error converting value to type 'integer'. Path '{f.name}.id'.")
            pscope = None
            if parent_field is not None:
                par = rec.get(parent_field)
                pscope = par.get("id") if isinstance(par, dict) else None
                if pscope is None and target.parent is coll:
                    pscope = None
            if not store.exists(target, rid, pscope):
                msg = f"{target.model.display} {rid} not found"
                if pscope is not None and target.parent is not None:
                    msg += f" for {target.parent.model.display} {pscope}"
                raise invalid(model.resource, "NotFound", msg, f"{f.name}/id")
            rec[f.name] = store.ref(sub, target, rid)

    def _find_by_ident(self, target: Collection, ident: str) -> int | None:
        store = self.store
        m = re.search(r"(\d+)$", ident)
        if m is not None:
            rid = int(m.group(1))
            if store.exists(target, rid):
                got = store.ident(target, rid)
                if ident.lower() in (str(got.get("identifier", "")).lower(), str(got.get("name", "")).lower()):
                    return rid
        n = store.max_base_id(target)
        if n <= 5000 and not target.nested:
            for rid in range(1, n + 1):
                got = store.ident(target, rid)
                if ident.lower() in (str(got.get("identifier", "")).lower(), str(got.get("name", "")).lower()):
                    if store.exists(target, rid):
                        return rid
        return None

    def _apply_patch(self, coll: Collection, scope: int | None, current: dict[str, Any],
                     request: Request) -> dict[str, Any] | None:
        """JSON-Patch-like array (§1.6, [CW-DG] Patch): op add|replace|remove, path = field name."""
        model = coll.model
        body = self._json_body(request, model)
        if not isinstance(body, list):
            raise ApiError(400, "ConnectWiseApi",
                            "Cannot deserialize the current JSON object into type 'List`1[PatchOperation]' "
                            "because the type requires a JSON array.")
        rec = copy_record(current)
        changed = False
        touched: set[str] = set()
        for i, op in enumerate(body):
            if not isinstance(op, dict) or not isinstance(op.get("op"), str) or not isinstance(op.get("path"), str):
                raise invalid("patchOperation", "InvalidField",
                               f"Operation {i} must be an object with string 'op' and 'path'.", "op")
            kind = op["op"].lower()
            if kind not in ("add", "replace", "remove"):
                raise invalid("patchOperation", "InvalidField", f"Unsupported op '{op['op']}'; use add, replace or remove.", "op")
            path = op["path"].lstrip("/")
            if "/" in path:
                # "Do not use path company/identifier ... you may receive a false 200" ([CW-DG]).
                continue
            f = model.by_name.get(path)  # path is case sensitive ([CW-DG] Patch)
            if f is None:
                raise invalid(model.resource, "InvalidField", f"Unknown field '{path}' in patch path.", path)
            if f.name in ("id", "_info"):
                raise invalid(model.resource, "InvalidField", f"Field '{path}' is read-only.", path)
            if kind == "remove":
                rec.pop(f.name, None)
            else:
                if "value" not in op:
                    raise invalid(model.resource, "InvalidField", f"Operation {i} needs a value.", path)
                if op["value"] is None:
                    rec.pop(f.name, None)
                else:
                    rec[f.name] = self._check_value(coll, f, op["value"])
            changed = True
            touched.add(f.name)
        if not changed:
            return None
        self._check_required(coll, rec, on_update=False)
        self._resolve_refs(coll, scope, rec, only=touched)
        return rec
