"""ConnectWise's publish dialect: which methods each endpoint allows, bodies, PATCH ops, look-ups.

Contract (developer guide, Formatting Each Method / Patch): POST creates (201, the record with
its id), PUT replaces the whole record (200; unspecified fields reset), PATCH takes an array of
``{"op": "replace", "path": field, "value": ...}`` (nested objects replaced whole, ``customFields``
as the whole array) and answers 200, DELETE answers 204. Which methods an endpoint allows and
its body models come from ``entities.json``, generated from the API's operation catalog.

UPSERT's look-up reads the fields the record sends (``fields=``), and the engine PATCHes only
those that differ, or sends nothing. ConnectWise leaves null fields out of the objects it returns
(``absent_is_null``), expands a reference sent as ``{"id": 5}`` into ``{"id": 5, "name": …,
"_info": {…}}`` (the engine compares the keys the record gives; ``_info`` is metadata and never
compared) and writes date-times as ``2019-02-11T15:42:38Z`` (compared as instants: ``.000Z`` and
``+00:00`` are the same).
"""

from __future__ import annotations

import typing as t
from datetime import timezone
from functools import lru_cache

import requests
from jsonschema import Draft7Validator

from connector_core.params import render_path
from connector_core.publish import (
    EntitiesDialect,
    FoundObject,
    PublishItem,
    Reject,
    Request,
    parse_datetime,
)
from connector_core.publish.dialect import match_values, refuse_unknown, single_match
from connectwise_client import ConnectWiseConnection

# Columns tap-connectwise adds to the entity's own fields (lifted cursor, parent links), and
# Singer metadata: never part of a request body.
ADDED_COLUMNS = {"lastUpdated", "parentId", "grandparentId", "greatGrandparentId", "_parentId",
                 "_grandparentId"}
READ_ONLY = {"id", "_info"}
PATCH_OPS = {"add", "replace", "remove"}


@lru_cache(maxsize=4096)
def is_datetime(model: str, path: tuple[str, ...]) -> bool:
    """Whether the field at ``path`` (``("company", "dateAcquired")``) of ``model`` is a date-time."""
    definitions = ConnectWiseDialect.entities()["definitions"]
    schema: dict = {"$ref": f"#/definitions/{model}"}
    for name in path:
        schema = _resolve(schema, definitions)
        while schema.get("items") is not None:  # an array: its elements' fields
            schema = _resolve(schema["items"], definitions)
        schema = (schema.get("properties") or {}).get(name)  # type: ignore[assignment]
        if schema is None:
            return False
    return _resolve(schema, definitions).get("format") == "date-time"


def _resolve(schema: dict, definitions: dict) -> dict:
    """``schema`` without its ``$ref`` and its ``anyOf: [X, null]``."""
    for _ in range(8):
        if "anyOf" in schema:
            schema = next((s for s in schema["anyOf"] if s.get("type") != "null"), {})
        elif "$ref" in schema:
            schema = definitions.get(schema["$ref"].rsplit("/", 1)[-1], {})
        else:
            break
    return schema


class ConnectWiseDialect(EntitiesDialect):
    update_method = "PATCH"
    entities_package = __package__
    api_name = "the ConnectWise Manage API"
    absent_is_null = True  # ConnectWise leaves null fields out of the objects it returns
    answers_object = True  # POST, PUT and PATCH answer the whole object
    connection: ConnectWiseConnection

    # -- checks before anything is sent ----------------------------------------------------------
    def check_upsert(self, item: PublishItem) -> None:
        collection, _ = self.upsert_collection(item)
        self.item_path(item, 0)
        # Whether it becomes a PATCH or a POST is known after the look-up: here only what
        # holds for both; a POST's required fields are checked when it is built.
        self.body(item, "POST", collection, required=False)

    def body(self, item: PublishItem, method: str, template: str, *, required: bool = True) -> t.Any:
        """The request body for ``method``, validated against the entity's model."""
        if method == "PATCH":
            return self._patch_ops(item, template)
        payload = item.payload
        if not isinstance(payload, dict):
            raise Reject(f"the payload of a {method} must be an object; got {type(payload).__name__}")
        body = _object_fields(payload)
        model = self._model(template, method)
        if model is not None:
            self._validate(model, body, template, required=required)
        return body

    def _model(self, template: str, method: str) -> str | None:
        known, endpoint = self.endpoint(template)
        body = endpoint["body"]
        model = body.get(method) or body.get("PUT") or body.get("POST")
        if model is None and method == "PATCH":  # e.g. /x/{id}: the model of PUT on it
            return None
        return model.lstrip("[]") if model else None

    def _validate(self, model: str, body: dict, template: str, *, required: bool) -> None:
        refuse_unknown(set(body) - set(self.entities()["definitions"][model]["properties"]), model, template)
        validator = _validator(model, required)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        if errors:
            raise Reject("; ".join(_describe(e, model) for e in errors[:5]))

    def _patch_ops(self, item: PublishItem, template: str) -> list[dict]:
        payload = item.payload
        if isinstance(payload, list):  # already an op list: passed through as given
            for i, op in enumerate(payload):
                if not (isinstance(op, dict) and op.get("op") in PATCH_OPS and isinstance(op.get("path"), str)):
                    raise Reject(f"PATCH op {i} must be {{\"op\": add|replace|remove, \"path\": field, "
                                 f"\"value\": ...}}; got {op!r}")
            return payload
        if not isinstance(payload, dict):
            raise Reject(f"the payload of a PATCH must be an object or an op list; got "
                         f"{type(payload).__name__}")
        fields = _object_fields(payload)
        model = self._model(template, "PATCH")
        if model is not None:
            self._validate(model, fields, template, required=False)
        # Nested objects are replaced whole and customFields go as the whole array: ConnectWise
        # ignores (with a 200) a patch of a path inside an object.
        return [{"op": "replace", "path": name, "value": value} for name, value in fields.items()]

    # -- requests --------------------------------------------------------------------------------
    def build(self, item: PublishItem, method: str, template: str, path: dict[str, t.Any]) -> Request:
        url = self.connection.base_url + render_path(template, path)
        body = None
        if method in ("POST", "PUT", "PATCH"):
            body = self.body(item, method, template)
        return Request(method=method, url=url, params=dict(item.query), json=body)

    def lookup(self, item: PublishItem, send: t.Callable[[Request], requests.Response]) -> t.Any:
        payload = item.payload if isinstance(item.payload, dict) else {}
        collection, path = self.collection_path(item)
        base = self.connection.base_url + render_path(collection, path)
        # The same request reads the fields the record sends, to PATCH only what differs.
        names = sorted(_object_fields(payload))
        fields = ",".join(["id", *names])
        if payload.get("id") is not None and not item.mapping.match:
            response = send(Request("GET", f"{base}/{payload['id']}", params={"fields": fields}))
            if response.status_code == 404:
                return None
            self.expect_ok(response, "looking up id " + str(payload["id"]))
            found = response.json()
        else:
            if not item.mapping.match:
                return None
            wanted = match_values(item, payload)
            conditions = " and ".join(f"{m} = {_literal(v)}" for m, v in wanted.items())
            response = send(Request("GET", base, params={"conditions": conditions, "fields": fields,
                                                         "pageSize": 2}))
            self.expect_ok(response, f"looking up {conditions}")
            found = single_match(response.json(), conditions, collection)
            if found is None:
                return None
        return FoundObject(found.get("id"), found, frozenset(names))

    # -- comparing (UPSERT sends only what differs) ------------------------------------------------
    def update_fields(self, item: PublishItem, template: str,
                      path: dict[str, t.Any]) -> dict[str, t.Any] | None:
        if not isinstance(item.payload, dict):
            return None  # an op list is sent as given
        # A reference's _info (its href, ...) is ConnectWise's metadata, not a value to compare.
        return {op["path"]: _without_info(op["value"]) for op in self._patch_ops(item, template)}

    def comparable(self, item: PublishItem, path: tuple[str, ...], value: t.Any) -> t.Any:
        if isinstance(value, str):
            model = self._model(self.collection_path(item)[0], "POST")
            if model is not None and is_datetime(model, path):
                moment = parse_datetime(value)
                if moment is not None:
                    # ConnectWise's date-times are UTC ("…Z"); one written without offset too.
                    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        return super().comparable(item, path, value)

    def find_created(self, item: PublishItem, request: Request,
                     send: t.Callable[[Request], requests.Response]) -> t.Any:
        """The newest object equal to the POST body on its plain fields (strings, numbers, flags)."""
        body = request.json if isinstance(request.json, dict) else {}
        template = item.mapping.entity if item.method == "POST" else self.collection_path(item)[0]
        model = self._model(template, "POST")
        properties = self.entities()["definitions"][model]["properties"] if model else {}
        fields = {name: value for name, value in body.items()
                  if isinstance(value, (str, int, float, bool)) and name in properties
                  and properties[name].get("format") != "date-time"}
        if not fields:
            return super().find_created(item, request, send)
        conditions = " and ".join(f"{name} = {_literal(value)}" for name, value in sorted(fields.items()))
        response = send(Request("GET", request.url, params={"conditions": conditions, "fields": "id",
                                                            "orderBy": "id desc", "pageSize": 1}))
        self.expect_ok(response, f"looking up {conditions} after an interrupted POST")
        found = response.json()
        return found[0]["id"] if found else None


@lru_cache(maxsize=1024)
def _validator(model: str, required: bool) -> Draft7Validator:
    definitions = ConnectWiseDialect.entities()["definitions"]
    root = dict(definitions[model])
    if not required:
        root["required"] = []
    return Draft7Validator({**root, "definitions": definitions})


def _object_fields(payload: dict) -> dict:
    """The payload's fields that belong in a body: not ``id``/``_info``, nor the columns
    tap-connectwise adds, nor Singer metadata."""
    return {k: v for k, v in payload.items()
            if k not in ADDED_COLUMNS and k not in READ_ONLY and not k.startswith("_sdc_")}


def _without_info(value: t.Any) -> t.Any:
    """``value`` less the ``_info`` of the objects nested in it."""
    if isinstance(value, dict):
        return {k: _without_info(v) for k, v in value.items() if k != "_info"}
    if isinstance(value, list):
        return [_without_info(v) for v in value]
    return value


def _literal(value: t.Any) -> str:
    """A value in ConnectWise's conditions grammar."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _describe(error: t.Any, model: str) -> str:
    where = "/".join(str(p) for p in error.path) or model
    if error.validator == "required":
        return f"{model}: {error.message}"
    return f"{where}: {error.message}"
