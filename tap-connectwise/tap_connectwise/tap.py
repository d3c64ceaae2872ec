"""tap-connectwise: a Singer tap for ConnectWise Manage (PSA)."""

from __future__ import annotations

import dataclasses
import typing as t
from functools import cached_property

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter

from connector_core import install_log_redaction
from connector_core.cli import OneLineErrorsMixin
from connector_core.custom_streams import (
    CustomStreamsMixin,
    custom_streams_setting,
    declared_custom_streams,
)
from connector_core.settings import ValidatedSettingsMixin, config_error
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


class TapConnectWise(OneLineErrorsMixin, ValidatedSettingsMixin, CustomStreamsMixin, Tap):
    """Reads every ConnectWise Manage list endpoint, plus endpoints declared in config."""

    name = "tap-connectwise"
    message_writer_class = MsgSpecWriter

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

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        install_log_redaction()
        super().__init__(*args, **kwargs)

    # -- config ----------------------------------------------------------------------------------
    def check_settings(self) -> None:
        self.connection  # noqa: B018 - the connection settings (site, base_url) make sense

    # -- shared by every stream --------------------------------------------------------------------
    @cached_property
    def connection(self) -> ConnectWiseConnection:
        return ConnectWiseConnection.for_plugin(self)

    def stream_conditions(self, stream_name: str) -> str | None:
        return (self.config.get("conditions") or {}).get(stream_name)

    # -- streams ---------------------------------------------------------------------------------
    def discover_streams(self) -> list[ConnectWiseStream]:
        specs = catalog.stream_specs()
        streams: dict[str, ConnectWiseStream] = {}
        classes: dict[str, type[ConnectWiseStream]] = {}
        for spec in specs:
            attrs: dict[str, t.Any] = {}
            if spec.parent:
                attrs["parent_stream_type"] = classes[spec.parent]
            cls = type(_class_name(spec.name), (ConnectWiseStream,), attrs)
            classes[spec.name] = cls
            streams[spec.name] = cls(self, spec, catalog.json_schema(spec))
        for stream in self._custom_streams(set(streams)):
            streams[stream.name] = stream
        unknown = sorted(set(self.config.get("conditions") or {}) - set(streams))
        if unknown:
            raise config_error(f"conditions names unknown streams: {', '.join(unknown)}")
        return list(streams.values())

    def _custom_streams(self, taken: set[str]) -> list[ConnectWiseStream]:
        out = []
        for declared in declared_custom_streams(self.config, taken):
            where, name, endpoint, entry = (declared.where, declared.name, declared.endpoint,
                                            declared.entry)
            model = catalog.model_for_endpoint(endpoint)
            replication_key = entry.get("replication_key")
            spec = catalog.StreamSpec(
                name=name,
                path=endpoint,
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
                raise config_error(
                    f"{where}.endpoint {endpoint!r} is not a GET endpoint of the ConnectWise "
                    f"catalog; give its JSON schema in {where}.schema"
                )
            if replication_key:
                column = schema.get("properties", {}).get(replication_key)
                if column is None or column.get("format") != "date-time":
                    # The incremental condition and start_date compare it as a date-time.
                    raise config_error(
                        f"{where}.replication_key {replication_key!r} is not a date-time "
                        "property of the stream (`lastUpdated` is, for endpoints whose items "
                        "carry `_info`)"
                    )
            keys = entry.get("primary_keys")
            if keys is None:
                keys = ["id"] if "id" in schema.get("properties", {}) else []
            spec = dataclasses.replace(spec, primary_keys=tuple(keys))
            out.append(ConnectWiseStream(self, spec, schema))
        return out


def _class_name(stream_name: str) -> str:
    return "".join(part.title() for part in stream_name.split("_")) + "Stream"


if __name__ == "__main__":
    TapConnectWise.cli()
