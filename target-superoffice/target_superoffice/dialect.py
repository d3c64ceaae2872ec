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

from connector_core.params import render_path
from connector_core.publish import EntitiesDialect, FoundObject, PublishItem, Reject, Request
from connector_core.publish.dialect import check_schema, match_values, refuse_unknown, single_match
from superoffice_client import SuperOfficeConnection

#: Fields a tap-superoffice row carries that are no entity property.
ROW_FIELDS = frozenset({"PrimaryKey", "EntityName"})
JSON_PATCH = "application/json-patch+json"


@lru_cache(maxsize=128)
def _properties_by_lower_name(model: str) -> dict[str, str]:
    return {name.lower(): name for name in SuperOfficeDialect.entities()["models"][model]["properties"]}


def odata_literal(value: t.Any) -> str:
    """A ``$filter`` value: strings quoted with ``'`` doubled, numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


class SuperOfficeDialect(EntitiesDialect):
    update_method = "PATCH"
    entities_package = __package__
    api_name = "the SuperOffice REST API"
    answers_object = True  # POST, PUT and PATCH answer the whole entity
    connection: SuperOfficeConnection

    # -- the entity of an item -------------------------------------------------------------------
    def _key_property(self, item: PublishItem) -> str | None:
        _, endpoint = self.collection_endpoint(item)
        item_template = endpoint.get("item")
        if item_template is None:
            return None
        return self.entities()["endpoints"][item_template].get("key")

    def fields(self, item: PublishItem) -> dict[str, t.Any]:
        """The record's fields by the entity's property names; unknown names are a Reject."""
        if not isinstance(item.payload, dict):
            raise Reject(f"the payload must be an object; got {type(item.payload).__name__}")
        model = self.model_of(item.mapping.entity)
        by_lower = _properties_by_lower_name(model)
        read_only = set(self.entities()["read_only"].get(model, ()))
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
        refuse_unknown(unknown, model, item.mapping.entity)
        return out

    def object_id(self, item: PublishItem) -> t.Any:
        key = self._key_property(item)
        fields = self.fields(item)
        value = fields.get(key) if key else None
        return value if value not in (None, 0, "") else None  # SuperOffice's new objects have id 0

    # -- checks before anything is sent ----------------------------------------------------------
    def check_upsert(self, item: PublishItem) -> None:
        collection, endpoint = self.upsert_collection(item)
        columns = (endpoint.get("lookup") or {}).get("columns", {})
        unfiltered = [m for m in item.mapping.match if m not in columns]
        if unfiltered:
            raise Reject(f"UPSERT matches on {', '.join(unfiltered)}, which {collection} cannot filter on "
                         f"(it filters on {', '.join(sorted(columns)) or 'nothing'})")
        self.item_path(item, 0)
        self.body(item, "PATCH")

    def body(self, item: PublishItem, method: str, template: str = "") -> dict[str, t.Any]:
        """The record's fields, checked against its entity's model (types, enums), whichever
        ``template`` the request goes to."""
        body = self.fields(item)
        if method != "POST":
            key = self._key_property(item)
            body.pop(key, None) if key else None  # the id is in the URL
        model = self.model_of(item.mapping.entity)
        check_schema(self.validator(model), body, model)
        return body

    # -- requests --------------------------------------------------------------------------------
    def build(self, item: PublishItem, method: str, template: str, path: dict[str, t.Any]) -> Request:
        url = self.connection.base_url + render_path(template, path)
        if method == "PATCH":
            patch = [{"op": "replace", "path": "/" + name, "value": value}
                     for name, value in self.body(item, method).items()]
            return Request(method=method, url=url, params=dict(item.query), json=patch,
                           headers={"Content-Type": JSON_PATCH})
        body = self.body(item, method) if method in ("POST", "PUT") else None
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
            self.expect_ok(response, f"looking up {collection}/{object_id}")
            return FoundObject(object_id, response.json())  # the whole entity
        lookup = endpoint["lookup"]
        columns: dict[str, str] = lookup["columns"]
        wanted = match_values(item, fields)
        compared = [name for name in fields if name in columns and name not in wanted]
        select = [lookup["key_column"], *(columns[name] for name in compared)]
        response = send(Request("GET", base, params={
            "$select": ",".join(dict.fromkeys(select)),
            "$filter": " and ".join(f"{columns[m]} eq {odata_literal(v)}" for m, v in wanted.items()),
            "$top": 2}))
        self.expect_ok(response, f"looking up {wanted}")
        row = single_match(response.json().get("value") or [], wanted, collection)
        if row is None:
            return None
        values = {name: row.get(columns[name]) for name in compared}
        return FoundObject(row[lookup["key_column"]], {**wanted, **values}, frozenset([*wanted, *compared]))

    def update_fields(self, item: PublishItem, template: str, path: dict[str, t.Any]) -> dict[str, t.Any] | None:
        return self.body(item, "PATCH")

    def comparable(self, item: PublishItem, path: tuple[str, ...], value: t.Any) -> t.Any:
        """Date-times as instants (SuperOffice's have no zone: UTC), numbers by value."""
        if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return value
            return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
        return super().comparable(item, path, value)

    def id_field(self, item: PublishItem) -> str | None:
        return self._key_property(item)  # ContactId, ...
