"""Lightspeed Retail X-Series' publish dialect: entities, methods, checks and look-ups.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §2.1. Endpoints, methods and body
models come from ``entities.json`` (``scripts/generators/lightspeed.py``, from the OpenAPI document):

* POST on a collection (``/customers``) creates; PUT on its item (``/customers/{customer_id}``)
  updates; DELETE removes. Products are created with POST 2.0 and updated with PUT 2.1
  (``/api/2.1/products/{id}``); sales are created with POST ``/api/register_sales`` (0.9).
* A body holds the record's fields of the entity's request model; the fields of the row the tap
  reads that the model has not (``id``, ``version``, ``created_at``, balances, ...) are read-only
  and left out, so tap-lightspeed rows can be written back as they are. Any other field is a
  Reject naming it, as is a wrong type, a required field missing on a create, or both
  ``price_including_tax`` and ``price_excluding_tax`` given.
* An update sends the fields that differ from the object (a write that changes nothing is not
  sent), plus the model's required fields the record carries.
* UPSERT by id reads ``GET {item}`` (``{"data": {...}}``); by match fields it asks the entity's
  look-up (customers: ``/search?type=customers&email=…``; products: ``/products?sku=…``).
* 422 answers are rejected with Lightspeed's message.
"""

from __future__ import annotations

import typing as t
from functools import lru_cache

import requests
from jsonschema import Draft7Validator

from connector_core.catalog import packaged_json
from connector_core.params import render_path, template_params
from connector_core.publish import FoundObject, PublishDialect, PublishItem, Reject, Request
from lightspeed_client import LightspeedConnection


def entities() -> dict[str, t.Any]:
    return packaged_json(__package__, "entities.json")


@lru_cache(maxsize=64)
def _validator(model: str) -> Draft7Validator:
    schema = dict(entities()["models"][model])
    schema.pop("required", None)  # checked on creates only, by _check_required_fields
    return Draft7Validator(schema)


class LightspeedDialect(PublishDialect):
    update_method = "PUT"
    entities_package = __package__
    api_name = "the Lightspeed Retail X-Series API"

    def __init__(self, connection: LightspeedConnection) -> None:
        self.connection = connection

    # -- the entity of an item -------------------------------------------------------------------
    def _collection(self, item: PublishItem) -> tuple[str, dict[str, t.Any]]:
        collection, _ = self.collection_path(item)
        return self.endpoint(collection)

    def _model(self, item: PublishItem) -> str:
        _, endpoint = self.endpoint(item.mapping.entity)
        return str(endpoint["model"])

    def _fields_of(self, item: PublishItem, payload: t.Any) -> dict[str, t.Any]:
        if not isinstance(payload, dict):
            raise Reject(f"the payload must be an object; got {type(payload).__name__}")
        model = self._model(item)
        properties = entities()["models"][model]["properties"]
        read_only = set(entities()["read_only"].get(model, ()))
        # The fields that fill the path (``customer_id`` of ``/customers/{customer_id}``) are no body field.
        path_fields = {item.mapping.field_for(p) for p in template_params(item.mapping.entity)}
        out: dict[str, t.Any] = {}
        unknown = []
        for name, value in payload.items():
            if name in properties:
                out[name] = value
            elif name not in read_only and name not in path_fields and not name.startswith("_sdc_"):
                unknown.append(name)
        if unknown:
            raise Reject(f"field{'s' if len(unknown) > 1 else ''} {', '.join(sorted(unknown))} "
                         f"{'are' if len(unknown) > 1 else 'is'} not in {model} ({item.mapping.entity})")
        return out

    def fields(self, item: PublishItem) -> dict[str, t.Any]:
        """The record's fields of the entity's model; unknown names are a Reject."""
        return self._fields_of(item, item.payload)

    def object_id(self, item: PublishItem) -> t.Any:
        payload = item.payload if isinstance(item.payload, dict) else {}
        value = payload.get("id")
        if value in (None, ""):
            template, _ = self.endpoint(item.mapping.entity)
            params = template_params(template)
            value = item.path.get(params[-1]) if params else None
        return value if value not in (None, "") else None

    # -- checks before anything is sent ----------------------------------------------------------
    def check(self, item: PublishItem) -> None:
        if item.method == "UPSERT":
            collection, endpoint = self._collection(item)
            if "POST" not in endpoint["methods"] or not endpoint.get("item"):
                raise Reject(f"UPSERT needs POST on {collection} and PUT on its item; {collection} has "
                             f"{', '.join(endpoint['methods']) or 'no write'}")
            lookup = endpoint.get("lookup") or {}
            unfiltered = [m for m in item.mapping.match if m not in lookup.get("fields", ())]
            if unfiltered:
                raise Reject(f"UPSERT matches on {', '.join(unfiltered)}, which Lightspeed cannot look up "
                             f"{collection} by (it can by {', '.join(lookup.get('fields', ())) or 'id only'})")
            self._body(item, "PUT")
            return
        template, endpoint = self.endpoint(item.mapping.entity)
        if item.method not in endpoint["methods"]:
            raise Reject(f"{item.method} is not allowed on {template}; it allows "
                         f"{', '.join(endpoint['methods']) or 'no write'}")
        missing = [p for p in template_params(item.mapping.entity) if item.path.get(p) is None]
        if missing:
            raise Reject(f"path parameter {', '.join(missing)} of {item.mapping.entity} has no value: the "
                         f"record needs the field {', '.join(item.mapping.field_for(p) for p in missing)}")
        if item.method in ("POST", "PUT", "PATCH"):
            self._body(item, item.method)

    def _body(self, item: PublishItem, method: str) -> dict[str, t.Any]:
        """The record's fields, checked against the entity's request model."""
        body = self.fields(item)
        model = self._model(item)
        schema = entities()["models"][model]
        errors = sorted(_validator(model).iter_errors(body), key=lambda e: list(e.path))
        if errors:
            raise Reject("; ".join(f"{'/'.join(map(str, e.path)) or model}: {e.message}" for e in errors[:5]))
        if method == "POST":
            missing = [name for name in schema.get("required", ()) if body.get(name) in (None, "")]
            if missing:
                raise Reject(f"{', '.join(missing)} missing: creating {item.mapping.entity} needs "
                             f"{', '.join(schema['required'])}")
        _, endpoint = self.endpoint(item.mapping.entity)
        for group in endpoint.get("exclusive_fields", ()):
            given = [name for name in group if body.get(name) is not None]
            if len(given) > 1:
                raise Reject(f"give one of {' or '.join(group)}, not both: Lightspeed derives the other "
                             "from the product's tax")
        return body

    # -- requests --------------------------------------------------------------------------------
    def _url(self, item: PublishItem, method: str, template: str, path: dict[str, t.Any]) -> str:
        known, endpoint = self.endpoint(template)
        if method == "PUT" and endpoint.get("put_url"):
            return self.connection.api_url(render_path(endpoint["put_url"], {"id": path[template_params(known)[-1]]}))
        return self.connection.api_url(render_path(template, path))

    def build(self, item: PublishItem, method: str, template: str, path: dict[str, t.Any]) -> Request:
        url = self._url(item, method, template, path)
        body = None
        if method in ("POST", "PUT", "PATCH"):
            body = self._body(item, method)
            if method != "POST":
                # An update sends what changed, plus the required fields the record gives.
                original = self._fields_of(item, _payload(item.record))
                for name in entities()["models"][self._model(item)].get("required", ()):
                    if name not in body and original.get(name) is not None:
                        body[name] = original[name]
        _, endpoint = self.endpoint(template)
        if method == "PUT" and endpoint.get("put_url") and body is not None:
            body = _product_update({k: v for k, v in body.items() if _product_updatable(k)})
        return Request(method=method, url=url, params=dict(item.query), json=body)

    def lookup(self, item: PublishItem, send: t.Callable[[Request], requests.Response]) -> t.Any:
        collection, path = self.collection_path(item)
        _, endpoint = self.endpoint(collection)
        if not item.mapping.match:
            object_id = self.object_id(item)
            if object_id is None:
                return None
            template, values = self.item_path(item, object_id)
            response = send(Request("GET", self.connection.api_url(render_path(template, values))))
            if response.status_code == 404:
                return None
            body = self._expect_ok(response, f"looking up {collection}/{object_id}")
            data = body.get("data") if isinstance(body, dict) else None
            return FoundObject(object_id, data if isinstance(data, dict) else None)
        fields = self.fields(item)
        missing = [m for m in item.mapping.match if fields.get(m) in (None, "")]
        if missing:
            raise Reject(f"UPSERT matches on {', '.join(item.mapping.match)}, but the record has no "
                         f"{', '.join(missing)}")
        wanted = {m: fields[m] for m in item.mapping.match}
        lookup = endpoint["lookup"]
        response = send(Request("GET", self.connection.api_url(lookup["path"]),
                                params={**lookup["params"], **wanted}))
        body = self._expect_ok(response, f"looking up {wanted}")
        rows = [row for row in (body.get("data") or []) if isinstance(row, dict)
                and all(str(row.get(k)) == str(v) for k, v in wanted.items())  # search may match loosely
                and not row.get("deleted_at")]
        if len(rows) > 1:
            raise Reject(f"UPSERT match {wanted} finds more than one object in {collection}")
        return FoundObject(rows[0]["id"], rows[0]) if rows else None

    def update_fields(self, item: PublishItem, template: str, path: dict[str, t.Any]) -> dict[str, t.Any] | None:
        body = self._body(item, "PUT")
        _, endpoint = self.endpoint(template)
        if endpoint.get("put_url"):  # products: what PUT 2.1 can change (sku, handle, ... it cannot)
            body = {k: v for k, v in body.items() if _product_updatable(k)}
        return body

    def written_object(self, item: PublishItem, request: Request,
                       response: requests.Response) -> t.Mapping[str, t.Any] | None:
        """A write's answer ``{"data": {...}}`` (an object; a product create answers ids only)."""
        data = self._data(response)
        return data if isinstance(data, dict) and len(data) > 1 else None

    def remote_id(self, item: PublishItem, response: requests.Response) -> t.Any:
        data = self._data(response)
        if isinstance(data, list) and data:  # POST /products: {"data": [ids]}
            first = data[0]
            return first.get("id") if isinstance(first, dict) else first
        if isinstance(data, dict) and data.get("id") is not None:
            return data["id"]
        if isinstance(data, str) and data:  # POST /brands, /tags, /suppliers: {"data": "<id>"}
            return data
        # DELETE (204) or an answer without the object: the id in the URL
        return requests.utils.urlparse(response.url).path.rstrip("/").rsplit("/", 1)[-1]

    @staticmethod
    def _data(response: requests.Response) -> t.Any:
        try:
            body = response.json() if response.content else None
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        if "register_sale" in body:  # 0.9 answers name their object
            return body["register_sale"]
        payload = body.get("payload")
        return (payload or {}).get("data") if isinstance(payload, dict) else body.get("data")

    def _expect_ok(self, response: requests.Response, what: str) -> t.Any:
        if response.status_code != 200:
            vendor = self.vendor_error(response)
            raise Reject(f"{what} answered {response.status_code}" + (f": {vendor}" if vendor else ""),
                         status=response.status_code, vendor_message=vendor)
        return response.json()


#: §2.1 [XS-PM]: ``PUT /api/2.1/products/{id}`` takes ``{"common": {...}, "details": {...}}``, with the
#: fields of the Postman collection's example in each group; 2.0's ``is_active``/``active`` and
#: ``dimensions_unit`` are 2.1's ``is_active`` and ``dimension_unit``. Other fields (``sku``,
#: ``handle``, ``supply_price``, ...) have no place in the update.
PRODUCT_COMMON = frozenset({"name", "description", "brand_id", "product_category_id", "tag_ids", "track_inventory",
                            "variant_attributes", "account_code_sale", "account_code_purchase", "product_suppliers"})
PRODUCT_DETAILS = frozenset({"is_active", "product_codes", "loyalty_amount", "price_excluding_tax",
                             "price_including_tax", "all_outlet_tax", "outlet_taxes", "variant_attribute_values",
                             "weight", "weight_unit", "length", "width", "height", "dimension_unit", "inventory",
                             "packaging"})
PRODUCT_RENAMED = {"active": "is_active", "dimensions_unit": "dimension_unit"}


def _product_updatable(name: str) -> bool:
    name = PRODUCT_RENAMED.get(name, name)
    return name in PRODUCT_COMMON or name in PRODUCT_DETAILS


def _product_update(fields: dict[str, t.Any]) -> dict[str, t.Any]:
    """The 2.1 body of an update; fields the 2.1 body has no place for are not compared nor sent
    (:meth:`LightspeedDialect.update_fields`)."""
    renamed = {PRODUCT_RENAMED.get(k, k): v for k, v in fields.items()}
    common = {k: v for k, v in renamed.items() if k in PRODUCT_COMMON}
    details = {k: v for k, v in renamed.items() if k in PRODUCT_DETAILS}
    return {group: values for group, values in (("common", common), ("details", details)) if values}


def _payload(record: dict) -> t.Any:
    """The record's payload: an envelope's ``payload``, else the record itself."""
    return record["payload"] if isinstance(record.get("payload"), dict) else record
