"""tap-tmplvendor: a Singer tap for TMPL_SYSTEM.

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``. Read
``TMPL_DOC`` for
TMPL_SYSTEM and add the vendor's own settings (filters, tenants) next to the connection's.
"""

from __future__ import annotations

from singer_sdk import typing as th
from tmplvendor_client import CONNECTION_SETTINGS, TmplVendorConnection

from connector_core.custom_streams import CustomStreamEntry, custom_streams_setting, id_key
from connector_core.tap import VendorTap
from tap_tmplvendor import catalog
from tap_tmplvendor.client import TmplVendorStream

CUSTOM_STREAMS = custom_streams_setting(
    endpoint="Endpoint template below the API base, e.g. `/items/{id}`.",
    query="Query parameters sent with every page, e.g. `{\"status\": \"active\"}`.",
    primary_keys="Default: `id` if the schema has it.",
    replication_key="A date-time property (`updated_at`) for an incremental read.",
    extra=[th.Property("paginate", th.BooleanType, default=True,
                       description="Read `page`/`per_page` pages (false: the endpoint answers one object or a list).")],
)


class TapTmplVendor(VendorTap[TmplVendorConnection]):
    """Reads every TMPL_SYSTEM stream of the catalog, plus endpoints declared in config."""

    name = "tap-tmplvendor"
    connection_class = TmplVendorConnection

    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS,
        th.Property("start_date", th.DateTimeType,
                    description="Earliest `updated_at` to read on a first incremental run."),
        th.Property("page_size", th.IntegerType(minimum=1, maximum=catalog.max_page_size()),
                    default=catalog.max_page_size(),
                    description=f"Rows per page, 1 to {catalog.max_page_size()}."),
        CUSTOM_STREAMS,
    ).to_dict()

    def catalog_streams(self) -> list[TmplVendorStream]:
        return [TmplVendorStream(self, spec, catalog.json_schema(spec.model))
                for spec in catalog.stream_specs() if spec.model]

    def custom_stream(self, declared: CustomStreamEntry) -> TmplVendorStream:
        entry = declared.entry
        model = catalog.model_for_endpoint(declared.endpoint)
        if entry.get("schema"):
            schema = entry["schema"]
        elif model:
            schema = catalog.json_schema(model)
        else:
            raise declared.not_in_catalog("is not a GET endpoint of the TMPL_SYSTEM catalog")
        replication_key = declared.datetime_cursor(schema, "is not a date-time property of the stream")
        spec = catalog.StreamSpec(name=declared.name, path=declared.endpoint, model=model,
                                  primary_keys=declared.primary_keys(id_key(schema)),
                                  replication_key=replication_key, selected_by_default=True,
                                  paginate=entry.get("paginate", True))
        return TmplVendorStream(self, spec, schema)


if __name__ == "__main__":
    TapTmplVendor.cli()
