"""SuperOffice's publish dialect: entities, methods, JSON Patch updates and filtered look-ups.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §1.6. Endpoints, methods and
models come from ``entities.json`` (``scripts/generators/superoffice.py``, from the Swagger files):

* POST ``/Contact`` creates (the answer is the entity with its new ``ContactId``), PUT
  ``/Contact/{id}`` replaces, PATCH ``/Contact/{id}`` takes a JSON Patch (RFC 6902,
  ``application/json-patch+json``, "the preferred structure") of the fields the record carries,
  DELETE answers 204. PATCH is not in the Swagger files; the docs say every entity item takes it.
* Field names are the entity's (``OrgNr``); a record from tap-superoffice, whose columns are the
  archive provider's (``orgnr``, ``contactId``), is accepted as it is: a name that differs from a
  property only in case is that property. The tap's row fields (``PrimaryKey``, ``EntityName``,
  ``_sdc_*``) and the read-only properties are left out.
* UPSERT by id reads ``GET /Contact/{id}`` (the whole entity, so only what differs is sent); by
  ``match`` fields (``OrgNr``, ``Number1``, ...) it asks the list endpoint with a ``$filter`` on
  their provider columns and ``$select``s the columns of the record's other fields in the same
  request: one look-up, then a PATCH of what differs or a POST.
"""

from __future__ import annotations

import typing as t
from datetime import datetime, timezone
from functools import lru_cache

import requests
from jsonschema import Draft7Validator

from connector_core.catalog import packaged_json
from connector_core.params import render_path, template_params
from connector_core.publish import FoundObject, PublishDialect, PublishItem, Reject, Request
from superoffice_client import SuperOfficeConnection

#: Fields a tap-superoffice row carries that are no entity property.
ROW_FIELDS = frozenset({"PrimaryKey", "EntityName"})
JSON_PATCH = "application/json-patch+json"


def entities() -> dict[str, t.Any]:
    return packaged_json(__package__, "entities.json")


@lru_cache(maxsize=128)
def _validator(model: str) -> Draft7Validator:
    return Draft7Validator(entities()["models"][model])


@lru_cache(maxsize=128)
def _properties_by_lower_name(model: str) -> dict[str, str]:
    return {name.lower(): name for name in entities()["models"][model]["properties"]}


def odata_literal(value: t.Any) -> str:
    """A ``$filter`` value: strings quoted with ``'`` doubled, numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


class SuperOfficeDialect(PublishDialect):
    update_method = "PATCH"
    entities_package = __package__
    api_name = "the SuperOffice REST API"

    def __init__(self, connection: SuperOfficeConnection) -> None:
        self.connection = connection

    # -- the entity of an item -------------------------------------------------------------------
    def _collection(self, item: PublishItem) -> tuple[str, dict[str, t.Any]]:
        collection, _ = self.collection_path(item)
        return self.endpoint(collection)

    def _model(self, item: PublishItem) -> str:
        _, endpoint = self.endpoint(item.mapping.entity)
        return str(endpoint["model"])

    def _key_property(self, item: PublishItem) -> str | None:
        collection, endpoint = self._collection(item)
        item_template = endpoint.get("item")
        if item_template is None:
            return None
        return entities()["endpoints"][item_template].get("key")

    def fields(self, item: PublishItem) -> dict[str, t.Any]:
        """The record's fields by the entity's property names; unknown names are a Reject."""
        if not isinstance(item.payload, dict):
            raise Reject(f"the payload must be an object; got {type(item.payload).__name__}")
        model = self._model(item)
        by_lower = _properties_by_lower_name(model)
        read_only = set(entities()["read_only"].get(model, ()))
        out: dict[str, t.Any] = {}
        unknown = []
        for name, value in item.payload.items():
            if name in ROW_FIELDS or name.startswith("_sdc_"):
                continue
            prop = by_lower.get(name.lower())
            if prop is None:
                unknown.append(name)
            elif prop not in read_only:
                out[prop] = value
        if unknown:
            raise Reject(f"field{'s' if len(unknown) > 1 else ''} {', '.join(sorted(unknown))} "
                         f"{'are' if len(unknown) > 1 else 'is'} not in {model} ({item.mapping.entity})")
        return out

    def object_id(self, item: PublishItem) -> t.Any:
        key = self._key_property(item)
        fields = self.fields(item)
        value = fields.get(key) if key else None
        return value if value not in (None, 0, "") else None  # SuperOffice's new objects have id 0

    # -- checks before anything is sent ----------------------------------------------------------
    def check(self, item: PublishItem) -> None:
        if item.method == "UPSERT":
            collection, endpoint = self._collection(item)
            if "POST" not in endpoint["methods"]:
                raise Reject(f"UPSERT needs POST on {collection}, which allows {', '.join(endpoint['methods'])}")
            columns = (endpoint.get("lookup") or {}).get("columns", {})
            unfiltered = [m for m in item.mapping.match if m not in columns]
            if unfiltered:
                raise Reject(f"UPSERT matches on {', '.join(unfiltered)}, which {collection} cannot filter on "
                             f"(it filters on {', '.join(sorted(columns)) or 'nothing'})")
            self.item_path(item, 0)
            self._body(item, "PATCH")
            return
        template, endpoint = self.endpoint(item.mapping.entity)
        if item.method not in endpoint["methods"]:
            raise Reject(f"{item.method} is not allowed on {template}; it allows {', '.join(endpoint['methods'])}")
        missing = [p for p in template_params(item.mapping.entity) if item.path.get(p) is None]
        if missing:
            raise Reject(f"path parameter {', '.join(missing)} of {item.mapping.entity} has no value: the "
                         f"record needs the field {', '.join(item.mapping.field_for(p) for p in missing)}")
        if item.method in ("POST", "PUT", "PATCH"):
            self._body(item, item.method)

    def _body(self, item: PublishItem, method: str) -> dict[str, t.Any]:
        """The record's fields, checked against the entity's model (types, enums)."""
        body = self.fields(item)
        if method != "POST":
            key = self._key_property(item)
            body.pop(key, None) if key else None  # the id is in the URL
        model = self._model(item)
        errors = sorted(_validator(model).iter_errors(body), key=lambda e: list(e.path))
        if errors:
            raise Reject("; ".join(f"{'/'.join(map(str, e.path)) or model}: {e.message}" for e in errors[:5]))
        return body

    # -- requests --------------------------------------------------------------------------------
    def build(self, item: PublishItem, method: str, template: str, path: dict[str, t.Any]) -> Request:
        url = self.connection.base_url + render_path(template, path)
        if method == "PATCH":
            patch = [{"op": "replace", "path": "/" + name, "value": value}
                     for name, value in self._body(item, method).items()]
            return Request(method=method, url=url, params=dict(item.query), json=patch,
                           headers={"Content-Type": JSON_PATCH})
        body = self._body(item, method) if method in ("POST", "PUT") else None
        return Request(method=method, url=url, params=dict(item.query), json=body)

    def lookup(self, item: PublishItem, send: t.Callable[[Request], requests.Response]) -> t.Any:
        collection, path = self.collection_path(item)
        _, endpoint = self.endpoint(collection)
        base = self.connection.base_url + render_path(collection, path)
        fields = self.fields(item)
        if not item.mapping.match:
            object_id = self.object_id(item)
            if object_id is None:
                return None
            response = send(Request("GET", f"{base}/{object_id}"))
            if response.status_code == 404:
                return None
            self._expect_ok(response, f"looking up {collection}/{object_id}")
            return FoundObject(object_id, response.json())  # the whole entity
        lookup = endpoint["lookup"]
        columns: dict[str, str] = lookup["columns"]
        missing = [m for m in item.mapping.match if fields.get(m) is None]
        if missing:
            raise Reject(f"UPSERT matches on {', '.join(item.mapping.match)}, but the record has no "
                         f"{', '.join(missing)}")
        wanted = {m: fields[m] for m in item.mapping.match}
        compared = [name for name in fields if name in columns and name not in wanted]
        select = [lookup["key_column"], *(columns[name] for name in compared)]
        response = send(Request("GET", base, params={
            "$select": ",".join(dict.fromkeys(select)),
            "$filter": " and ".join(f"{columns[m]} eq {odata_literal(v)}" for m, v in wanted.items()),
            "$top": 2}))
        self._expect_ok(response, f"looking up {wanted}")
        rows = response.json().get("value") or []
        if len(rows) > 1:
            raise Reject(f"UPSERT match {wanted} finds more than one object in {collection}")
        if not rows:
            return None
        row = rows[0]
        values = {name: row.get(columns[name]) for name in compared}
        return FoundObject(row[lookup["key_column"]], {**wanted, **values}, frozenset([*wanted, *compared]))

    def update_fields(self, item: PublishItem, template: str, path: dict[str, t.Any]) -> dict[str, t.Any] | None:
        return self._body(item, "PATCH")

    def comparable(self, item: PublishItem, path: tuple[str, ...], value: t.Any) -> t.Any:
        """Date-times as instants (SuperOffice's have no zone: UTC), numbers by value."""
        if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return value
            return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
        return super().comparable(item, path, value)

    def written_object(self, item: PublishItem, request: Request,
                       response: requests.Response) -> t.Mapping[str, t.Any] | None:
        """POST, PUT and PATCH answer the whole entity."""
        try:
            body = response.json() if response.content else None
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def remote_id(self, item: PublishItem, response: requests.Response) -> t.Any:
        if response.status_code == 204 or not response.content:  # DELETE: the id in the URL
            segment = requests.utils.urlparse(response.url).path.rstrip("/").rsplit("/", 1)[-1]
            return int(segment) if segment.isdigit() else segment
        body = self.written_object(item, Request("GET", response.url), response) or {}
        key = self._key_property(item)
        return body.get(key) if key else None

    def _expect_ok(self, response: requests.Response, what: str) -> None:
        if response.status_code != 200:
            vendor = self.vendor_error(response)
            raise Reject(f"{what} answered {response.status_code}" + (f": {vendor}" if vendor else ""),
                         status=response.status_code, vendor_message=vendor)
