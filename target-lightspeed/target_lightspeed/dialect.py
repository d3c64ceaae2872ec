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

import requests

from connector_core.params import render_path, template_params
from connector_core.publish import EntitiesDialect, FoundObject, PublishItem, Reject, Request
from connector_core.publish.dialect import check_schema, id_in_url, match_values, refuse_unknown, single_match
from lightspeed_client import LightspeedConnection


class LightspeedDialect(EntitiesDialect):
    update_method = "PUT"
    entities_package = __package__
    api_name = "the Lightspeed Retail X-Series API"
    connection: LightspeedConnection

    def _fields_of(self, item: PublishItem, payload: t.Any) -> dict[str, t.Any]:
        if not isinstance(payload, dict):
            raise Reject(f"the payload must be an object; got {type(payload).__name__}")
        model = self.model_of(item.mapping.entity)
        properties = self.entities()["models"][model]["properties"]
        read_only = set(self.entities()["read_only"].get(model, ()))
        # The fields that fill the path (``customer_id`` of ``/customers/{customer_id}``) are no body field.
        path_fields = {item.mapping.field_for(p) for p in template_params(item.mapping.entity)}
        out: dict[str, t.Any] = {}
        unknown = []
        for name, value in payload.items():
            if name in properties:
                out[name] = value
            elif name not in read_only and name not in path_fields and not name.startswith("_sdc_"):
                unknown.append(name)
        refuse_unknown(unknown, model, item.mapping.entity)
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
    def check_upsert(self, item: PublishItem) -> None:
        collection, endpoint = self.collection_endpoint(item)
        if "POST" not in endpoint["methods"] or not endpoint.get("item"):
            raise Reject(f"UPSERT needs POST on {collection} and PUT on its item; {collection} has "
                         f"{', '.join(endpoint['methods']) or 'no write'}")
        lookup = endpoint.get("lookup") or {}
        unfiltered = [m for m in item.mapping.match if m not in lookup.get("fields", ())]
        if unfiltered:
            raise Reject(f"UPSERT matches on {', '.join(unfiltered)}, which Lightspeed cannot look up "
                         f"{collection} by (it can by {', '.join(lookup.get('fields', ())) or 'id only'})")
        self.body(item, "PUT")

    def body(self, item: PublishItem, method: str, template: str = "") -> dict[str, t.Any]:
        """The record's fields, checked against the request model of its entity (whichever
        ``template`` the request goes to)."""
        body = self.fields(item)
        model = self.model_of(item.mapping.entity)
        schema = self.entities()["models"][model]
        check_schema(self.validator(model, required=False), body, model)  # required: on creates, below
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
            body = self.body(item, method)
            if method != "POST":
                # An update sends what changed, plus the required fields the record gives.
                original = self._fields_of(item, _payload(item.record))
                for name in self.entities()["models"][self.model_of(item.mapping.entity)].get("required", ()):
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
            self.expect_ok(response, f"looking up {collection}/{object_id}")
            body = response.json()
            data = body.get("data") if isinstance(body, dict) else None
            return FoundObject(object_id, data if isinstance(data, dict) else None)
        wanted = match_values(item, self.fields(item), missing=(None, ""))
        lookup = endpoint["lookup"]
        response = send(Request("GET", self.connection.api_url(lookup["path"]),
                                params={**lookup["params"], **wanted}))
        self.expect_ok(response, f"looking up {wanted}")
        row = single_match([row for row in (response.json().get("data") or []) if isinstance(row, dict)
                            and all(str(row.get(k)) == str(v) for k, v in wanted.items())  # search may match loosely
                            and not row.get("deleted_at")], wanted, collection)
        return FoundObject(row["id"], row) if row else None

    def update_fields(self, item: PublishItem, template: str, path: dict[str, t.Any]) -> dict[str, t.Any] | None:
        body = self.body(item, "PUT")
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
        return id_in_url(response, numeric=False)  # DELETE (204) or an answer without the object

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
