"""tap-lightspeed: a Singer tap for Lightspeed Retail X-Series (formerly Vend), API 2.0.

Every 2.0 list endpoint of the OpenAPI document is a stream (``catalog.json``), read with the
``version`` cursor and incremental on it, plus the endpoints a user declares in ``custom_streams``
(0.9, 2.1, 3.0 and date-versioned paths, ``/search``). ``tap-lightspeed authorize --config C.json``
grants an OAuth app access once; a personal ``token`` needs nothing of the kind.
"""

from __future__ import annotations

import copy
import typing as t

from singer_sdk import typing as th

from connector_core.custom_streams import CustomStreamEntry, custom_streams_setting, id_key
from connector_core.oauth.command import oauth_plugin_main
from connector_core.settings import config_error
from connector_core.tap import VendorTap
from lightspeed_client import CONNECTION_SETTINGS, LightspeedConnection
from tap_lightspeed import catalog
from tap_lightspeed.client import LightspeedStream

# What /search finds (the API 2.0 document's `type` values).
SEARCH_TYPES = ("sales", "products", "customers")

CUSTOM_STREAMS = custom_streams_setting(
    endpoint="Endpoint template below the API root (`/customers/{customer_id}`), or a path from the store's "
             "origin for other versions: `/api/2.1/products`, `/api/3.0/price_books`, `/api/2026-07/products`.",
    query="Query parameters sent with every page, e.g. `{\"type\": \"sales\", \"status\": \"CLOSED\"}` for `/search`.",
    primary_keys="Default: `id` if the schema has it.",
    replication_key="`version` on a version-paged endpoint (`after` from the bookmark); nothing else.",
    extra=[th.Property("paging", th.StringType, allowed_values=["version", "page_info", "offset", "single"],
                       description="`version` (default for a catalog list endpoint: `after`/`page_size` "
                                   "until an empty page), `page_info`, `offset` (default for `/search`: "
                                   "`offset`/`page_size` until `total_count`), or `single` (one answer).")],
)


class TapLightspeed(VendorTap[LightspeedConnection]):
    """Reads every Lightspeed Retail X-Series stream of the catalog, plus endpoints declared in config."""

    name = "tap-lightspeed"
    connection_class = LightspeedConnection

    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS,
        th.Property("start_date", th.DateTimeType,
                    description="On a run without a bookmark, rows whose `updated_at` is older are skipped "
                                "(the cursor is `version`, never a date: every page is still read once)."),
        th.Property("page_size", th.IntegerType(minimum=1, maximum=catalog.max_page_size()),
                    default=catalog.max_page_size(),
                    description=f"Rows asked per page, 1 to {catalog.max_page_size()}; the server may answer fewer."),
        CUSTOM_STREAMS,
    ).to_dict()

    def _schema(self, spec: catalog.StreamSpec, schema: dict[str, t.Any]) -> dict[str, t.Any]:
        schema = copy.deepcopy(schema)
        if spec.deleted:
            schema.setdefault("properties", {})["_sdc_deleted_at"] = {"type": ["string", "null"], "format": "date-time"}
        return schema

    def catalog_streams(self) -> list[LightspeedStream]:
        specs = sorted(catalog.stream_specs(), key=lambda s: s.parent is not None)  # parents first
        return self.spec_streams(LightspeedStream, specs,
                                 lambda spec: self._schema(spec, catalog.json_schema(spec.schema_name)))

    def custom_stream(self, declared: CustomStreamEntry) -> LightspeedStream:
        where, entry = declared.where, declared.entry
        listed = catalog.stream_for_path(declared.endpoint)
        model = catalog.model_for_endpoint(declared.endpoint)
        searched = None
        if declared.endpoint == "/search":
            # /search answers rows of its `type` (sales, products, customers): their list's schema.
            kind = str((entry.get("query") or {}).get("type") or "")
            searched = catalog.stream_for_path(f"/{kind}") if kind in SEARCH_TYPES else None
            if searched is None and not entry.get("schema"):
                raise config_error(f"{where}.query.type must be one of {', '.join(SEARCH_TYPES)} for /search; "
                                   f"got {kind or 'none'}")
        if entry.get("schema"):
            schema = entry["schema"]
        elif listed is not None:
            schema = catalog.json_schema(listed.schema_name)
        elif searched is not None:
            schema = catalog.json_schema(searched.schema_name)
        elif model is not None:
            schema = catalog.json_schema(model)
        else:
            raise declared.not_in_catalog("is not a GET endpoint of the Lightspeed API 2.0 document")
        paging = entry.get("paging") or (listed.paging if listed else "offset" if searched else "single")
        replication_key = entry.get("replication_key")
        if replication_key and (replication_key != "version" or paging != "version"):
            raise config_error(f"{where}.replication_key {replication_key!r}: only `version`, on a "
                               "version-paged endpoint (`paging: version`)")
        spec = catalog.StreamSpec(
            name=declared.name, path=declared.endpoint, schema_name=listed.schema_name if listed else "",
            records=listed.records if listed else "data", paging=paging,
            page_size=listed.page_size if listed else paging in ("version", "offset"),
            deleted=bool(listed and listed.deleted), primary_keys=declared.primary_keys(id_key(schema)),
            replication_key=replication_key, selected_by_default=True)
        return LightspeedStream(self, spec, self._schema(spec, schema))


def main() -> None:
    """Console script: the Singer CLI, plus ``authorize`` (OAuth apps)."""
    oauth_plugin_main(TapLightspeed, LightspeedConnection)


if __name__ == "__main__":
    main()
