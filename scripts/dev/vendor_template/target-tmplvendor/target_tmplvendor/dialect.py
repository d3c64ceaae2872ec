"""TMPL_SYSTEM's publish dialect: which methods each endpoint allows, bodies and look-ups.

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``. Read the vendor's write contract in
``TMPL_DOC`` and replace what this scaffold assumes: POST on a collection creates (th
e
object with its id), PUT on ``{collection}/{id}`` replaces the whole object, PATCH takes the
changed fields as a JSON object, DELETE answers 204; a collection's list endpoint filters on the
fields its catalog names (``?code=X``), which UPSERT's ``match`` uses. Endpoints, methods and
models come from ``entities.json``, written by ``scripts/generators/tmplvendor.py``.
"""

from __future__ import annotations

import typing as t

import requests
from tmplvendor_client import TmplVendorConnection

from connector_core.params import render_path
from connector_core.publish import EntitiesDialect, FoundObject, PublishItem, Reject, Request
from connector_core.publish.dialect import check_schema, match_values, refuse_unknown, single_match


class TmplVendorDialect(EntitiesDialect):
    update_method = "PATCH"
    entities_package = __package__
    api_name = "the TMPL_SYSTEM API"
    answers_object = True  # POST, PUT and PATCH answer the whole object
    connection: TmplVendorConnection

    # -- checks before anything is sent ----------------------------------------------------------
    def check_upsert(self, item: PublishItem) -> None:
        collection, endpoint = self.upsert_collection(item)
        unfiltered = [m for m in item.mapping.match if m not in endpoint.get("filters", ())]
        if unfiltered:
            raise Reject(f"UPSERT matches on {', '.join(unfiltered)}, which {collection} cannot filter on "
                         f"(it filters on {', '.join(endpoint.get('filters', ())) or 'nothing'})")
        self.item_path(item, 0)
        # POST or PATCH is known after the look-up; a POST's required fields are checked then.
        self.body(item, "PATCH", collection)

    def body(self, item: PublishItem, method: str, template: str) -> dict[str, t.Any]:
        """The request body for ``method``, checked against the entity's model."""
        if not isinstance(item.payload, dict):
            raise Reject(f"the payload of a {method} must be an object; got {type(item.payload).__name__}")
        model = self.model_of(template)
        read_only = set(self.entities()["read_only"].get(model, ()))
        body = {k: v for k, v in item.payload.items() if k not in read_only and not k.startswith("_sdc_")}
        refuse_unknown(set(body) - set(self.entities()["models"][model]["properties"]), model, template)
        check_schema(self.validator(model, required=method in ("POST", "PUT")), body, model)
        return body

    # -- requests --------------------------------------------------------------------------------
    def build(self, item: PublishItem, method: str, template: str, path: dict[str, t.Any]) -> Request:
        body = self.body(item, method, template) if method in ("POST", "PUT", "PATCH") else None
        return Request(method=method, url=self.connection.base_url + render_path(template, path),
                       params=dict(item.query), json=body)

    def lookup(self, item: PublishItem, send: t.Callable[[Request], requests.Response]) -> t.Any:
        payload = item.payload if isinstance(item.payload, dict) else {}
        collection, path = self.collection_path(item)
        base = self.connection.base_url + render_path(collection, path)
        if not item.mapping.match:
            if payload.get("id") is None:
                return None
            response = send(Request("GET", f"{base}/{payload['id']}"))
            if response.status_code == 404:
                return None
            self.expect_ok(response, f"looking up id {payload['id']}")
            found = response.json()
        else:
            wanted = match_values(item, payload)
            response = send(Request("GET", base, params={**wanted, "per_page": 2}))
            self.expect_ok(response, f"looking up {wanted}")
            found = single_match(response.json()["data"], wanted, collection)
            if found is None:
                return None
        return FoundObject(found["id"], found)  # the whole object: every field is known

    def update_fields(self, item: PublishItem, template: str, path: dict[str, t.Any]) -> dict[str, t.Any] | None:
        return self.body(item, "PATCH", template)
