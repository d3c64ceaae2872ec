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
from functools import lru_cache

import requests
from jsonschema import Draft7Validator
from tmplvendor_client import TmplVendorConnection

from connector_core.catalog import packaged_json
from connector_core.params import render_path, template_params
from connector_core.publish import FoundObject, PublishDialect, PublishItem, Reject, Request


def entities() -> dict[str, t.Any]:
    return packaged_json(__package__, "entities.json")


@lru_cache(maxsize=64)
def _validator(model: str, required: bool) -> Draft7Validator:
    schema = dict(entities()["models"][model])
    if not required:
        schema["required"] = []
    return Draft7Validator(schema)


class TmplVendorDialect(PublishDialect):
    update_method = "PATCH"
    entities_package = __package__
    api_name = "the TMPL_SYSTEM API"

    def __init__(self, connection: TmplVendorConnection) -> None:
        self.connection = connection

    # -- checks before anything is sent ----------------------------------------------------------
    def check(self, item: PublishItem) -> None:
        if item.method == "UPSERT":
            collection, _ = self.collection_path(item)
            _, endpoint = self.endpoint(collection)
            if "POST" not in endpoint["methods"]:
                raise Reject(f"UPSERT needs POST on {collection}, which allows {', '.join(endpoint['methods'])}")
            unfiltered = [m for m in item.mapping.match if m not in endpoint.get("filters", ())]
            if unfiltered:
                raise Reject(f"UPSERT matches on {', '.join(unfiltered)}, which {collection} cannot filter on "
                             f"(it filters on {', '.join(endpoint.get('filters', ())) or 'nothing'})")
            self.item_path(item, 0)
            # POST or PATCH is known after the look-up; a POST's required fields are checked then.
            self._body(item, "PATCH", collection)
            return
        template, endpoint = self.endpoint(item.mapping.entity)
        if item.method not in endpoint["methods"]:
            raise Reject(f"{item.method} is not allowed on {template}; it allows {', '.join(endpoint['methods'])}")
        missing = [p for p in template_params(item.mapping.entity) if item.path.get(p) is None]
        if missing:
            raise Reject(f"path parameter {', '.join(missing)} of {item.mapping.entity} has no value: the "
                         f"record needs the field {', '.join(item.mapping.field_for(p) for p in missing)}")
        if item.method in ("POST", "PUT", "PATCH"):
            self._body(item, item.method, item.mapping.entity)

    def _body(self, item: PublishItem, method: str, template: str) -> dict[str, t.Any]:
        """The request body for ``method``, checked against the entity's model."""
        if not isinstance(item.payload, dict):
            raise Reject(f"the payload of a {method} must be an object; got {type(item.payload).__name__}")
        _, endpoint = self.endpoint(template)
        model = endpoint["model"]
        read_only = set(entities()["read_only"].get(model, ()))
        body = {k: v for k, v in item.payload.items() if k not in read_only and not k.startswith("_sdc_")}
        unknown = sorted(set(body) - set(entities()["models"][model]["properties"]))
        if unknown:
            raise Reject(f"field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                         f"{'are' if len(unknown) > 1 else 'is'} not in {model} ({template})")
        errors = sorted(_validator(model, method in ("POST", "PUT")).iter_errors(body), key=lambda e: list(e.path))
        if errors:
            raise Reject("; ".join(f"{'/'.join(map(str, e.path)) or model}: {e.message}" for e in errors[:5]))
        return body

    # -- requests --------------------------------------------------------------------------------
    def build(self, item: PublishItem, method: str, template: str, path: dict[str, t.Any]) -> Request:
        body = self._body(item, method, template) if method in ("POST", "PUT", "PATCH") else None
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
            self._expect_ok(response, f"looking up id {payload['id']}")
            found = response.json()
        else:
            missing = [m for m in item.mapping.match if payload.get(m) is None]
            if missing:
                raise Reject(f"UPSERT matches on {', '.join(item.mapping.match)}, but the record has no "
                             f"{', '.join(missing)}")
            wanted = {m: payload[m] for m in item.mapping.match}
            response = send(Request("GET", base, params={**wanted, "per_page": 2}))
            self._expect_ok(response, f"looking up {wanted}")
            rows = response.json()["data"]
            if len(rows) > 1:
                raise Reject(f"UPSERT match {wanted} finds more than one object in {collection}")
            if not rows:
                return None
            found = rows[0]
        return FoundObject(found["id"], found)  # the whole object: every field is known

    def update_fields(self, item: PublishItem, template: str, path: dict[str, t.Any]) -> dict[str, t.Any] | None:
        return self._body(item, "PATCH", template)

    def written_object(self, item: PublishItem, request: Request,
                       response: requests.Response) -> t.Mapping[str, t.Any] | None:
        """POST, PUT and PATCH answer the whole object."""
        body = response.json() if response.content else None
        return body if isinstance(body, dict) else None

    def remote_id(self, item: PublishItem, response: requests.Response) -> t.Any:
        if response.status_code == 204 or not response.content:  # DELETE: the id in the URL
            segment = requests.utils.urlparse(response.url).path.rstrip("/").rsplit("/", 1)[-1]
            return int(segment) if segment.isdigit() else segment
        body = response.json()
        return body.get("id") if isinstance(body, dict) else None

    def _expect_ok(self, response: requests.Response, what: str) -> None:
        if response.status_code != 200:
            vendor = self.vendor_error(response)
            raise Reject(f"{what} answered {response.status_code}" + (f": {vendor}" if vendor else ""),
                         status=response.status_code, vendor_message=vendor)

