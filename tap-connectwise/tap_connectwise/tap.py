"""tap-connectwise: a Singer tap for ConnectWise Manage (PSA)."""

from __future__ import annotations

import dataclasses

from singer_sdk import Stream
from singer_sdk import typing as th

from connector_core.custom_streams import CustomStreamEntry, custom_streams_setting, id_key
from connector_core.settings import config_error
from connector_core.tap import VendorTap
from connectwise_client import CONNECTION_SETTINGS, ConnectWiseConnection
from tap_connectwise import catalog
from tap_connectwise.client import ConnectWiseStream

MAX_PAGE_SIZE = 1000  # developer guide, Pagination: "max 1000"

CUSTOM_STREAMS = custom_streams_setting(
    endpoint="Endpoint template below the API base, e.g. `/company/addressFormats/{id}`.",
    query="Query parameters, e.g. `conditions`.",
    primary_keys="Default: `id` if any.",
    replication_key="`lastUpdated` for an incremental read (the endpoint's items need `_info`).",
    extra=[th.Property("paginate", th.BooleanType, default=True, description="Follow pages.")],
)


class TapConnectWise(VendorTap[ConnectWiseConnection]):
    """Reads every ConnectWise Manage list endpoint, plus endpoints declared in config."""

    name = "tap-connectwise"
    connection_class = ConnectWiseConnection

    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS,
        th.Property("start_date", th.DateTimeType,
                    description="Earliest `lastUpdated` to read on a first incremental run."),
        th.Property("page_size", th.IntegerType(minimum=1, maximum=MAX_PAGE_SIZE),
                    default=MAX_PAGE_SIZE,
                    description="Rows per page, 1 to 1000."),
        th.Property("conditions", th.ObjectType(additional_properties=th.StringType),
                    description="Per stream, ConnectWise `conditions` ANDed with the incremental "
                                "filter, e.g. `{\"service_tickets\": \"closedFlag = false\"}`."),
        CUSTOM_STREAMS,
    ).to_dict()

    def stream_conditions(self, stream_name: str) -> str | None:
        return (self.config.get("conditions") or {}).get(stream_name)

    # -- streams ---------------------------------------------------------------------------------
    def discover_streams(self) -> list[Stream]:
        streams = super().discover_streams()
        unknown = sorted(set(self.config.get("conditions") or {}) - {s.name for s in streams})
        if unknown:
            raise config_error(f"conditions names unknown streams: {', '.join(unknown)}")
        return streams

    def catalog_streams(self) -> list[ConnectWiseStream]:
        return self.spec_streams(ConnectWiseStream, catalog.stream_specs(), catalog.json_schema)

    def custom_stream(self, declared: CustomStreamEntry) -> ConnectWiseStream:
        entry = declared.entry
        model = catalog.model_for_endpoint(declared.endpoint)
        replication_key = entry.get("replication_key")
        spec = catalog.StreamSpec(
            name=declared.name,
            path=declared.endpoint,
            model=model,
            replication_key=replication_key,
            paginate=entry.get("paginate", True),
            selected_by_default=True,  # declared by the user, so wanted
            cursor_is_model_field=bool(
                model and replication_key
                and replication_key in catalog.load()["schemas"][model]["properties"]
            ),
        )
        if entry.get("schema"):
            schema = entry["schema"]
        elif model:
            schema = catalog.json_schema(spec)
        else:
            raise declared.not_in_catalog("is not a GET endpoint of the ConnectWise catalog")
        # The incremental condition and start_date compare it as a date-time.
        declared.datetime_cursor(schema, "is not a date-time property of the stream (`lastUpdated` is, for "
                                         "endpoints whose items carry `_info`)")
        spec = dataclasses.replace(spec, primary_keys=declared.primary_keys(id_key(schema)))
        return ConnectWiseStream(self, spec, schema)


if __name__ == "__main__":
    TapConnectWise.cli()
