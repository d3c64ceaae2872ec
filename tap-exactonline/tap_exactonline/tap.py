"""tap-exactonline: a Singer tap for Exact Online."""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import Stream
from singer_sdk import typing as th

from connector_core.custom_streams import CustomStreamEntry, custom_streams_setting
from connector_core.oauth.command import oauth_plugin_main
from connector_core.settings import config_error
from connector_core.tap import VendorTap
from exactonline_client import (
    CONNECTION_SETTINGS,
    ExactOnlineConnection,
)
from tap_exactonline import catalog
from tap_exactonline.catalog import StreamSpec
from tap_exactonline.client import ExactStream

CUSTOM_STREAMS = custom_streams_setting(
    endpoint="Endpoint below `/api/v1/{division}`, e.g. `/read/crm/Documents` or "
             "`/salesinvoice/SalesInvoices({id})`; `{params}` come from `path`.",
    query="Query parameters, e.g. `{\"$filter\": \"Status eq 20\"}`; a `$filter` is ANDed with "
          "the incremental filter.",
    primary_keys="Default: `Division` plus the catalog key, or `Division`, `ID`.",
    replication_key="`Timestamp` (sync endpoints) or `Modified` for an incremental read.",
)


class TapExactOnline(VendorTap[ExactOnlineConnection]):
    """Reads Exact Online entities per division: sync, bulk and regular endpoints."""

    name = "tap-exactonline"
    connection_class = ExactOnlineConnection

    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS,
        th.Property("divisions", th.ArrayType(th.IntegerType),
                    description="Divisions to read; default: the user's current division "
                                "(`current/Me`), or every division with `all_divisions`."),
        th.Property("all_divisions", th.BooleanType, default=False,
                    description="Read every division `system/Divisions` lists."),
        th.Property("start_date", th.DateTimeType,
                    description="Earliest modification to read where there is no bookmark yet: "
                                "the `Modified` filter of regular endpoints; on sync endpoints the "
                                "Timestamp Exact's `SyncTimestamp` answers, or rows with an older "
                                "`Modified` skipped (see Start date)."),
        CUSTOM_STREAMS,
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.marked_streams: set[str] = set()
        super().__init__(*args, **kwargs)

    def sync_all(self) -> None:  # type: ignore[misc]  # final in singer-sdk; extended, not replaced
        super().sync_all()
        # A spent daily budget stops a division's reads cleanly (the connection's run ledger).
        summary = self.connection.ledger.summary()
        if summary:
            self.logger.warning(summary)

    @property
    def server_tz(self) -> t.Any:
        return self.connection.server_tz

    @cached_property
    def divisions(self) -> list[int]:
        if self.config.get("divisions"):
            return [int(d) for d in self.config["divisions"]]
        if self.config.get("all_divisions"):
            found = self.connection.accessible_divisions()
        else:
            found = [self.connection.current_division()]
        self.logger.info("Exact Online divisions: %s", ", ".join(map(str, found)))
        return found

    def load_streams(self) -> list[Stream]:  # type: ignore[misc]  # final in singer-sdk (see below)
        # singer-sdk syncs streams sorted by name; sync/Deleted must run last, since its rows also
        # mark rows of the entity streams, which must have sent their SCHEMA and rows first.
        return sorted(super().load_streams(), key=lambda stream: stream.name == "deleted")

    def catalog_streams(self) -> list[ExactStream]:
        return [ExactStream(self, spec, schema) for spec, schema in catalog.stream_specs()]

    def custom_stream(self, declared: CustomStreamEntry) -> ExactStream:
        entry = declared.entry
        raw = catalog.find_endpoint(declared.endpoint)
        if entry.get("schema"):
            schema = entry["schema"]
            schema.setdefault("properties", {}).setdefault("Division", {"type": ["integer"]})
            columns: tuple[str, ...] = ()
        elif raw:
            columns = tuple(raw["properties"])
            schema = catalog.json_schema(raw["properties"], ())
        else:
            raise declared.not_in_catalog("is not in the Exact Online catalog")
        cursor = entry.get("replication_key")
        if cursor:
            _check_cursor(declared.where, cursor, schema)
        key = raw["entity_key"] if raw else "ID"
        keys = list(declared.primary_keys(["Division", key] if key in schema["properties"] else ["Division"]))
        if "Division" not in keys:
            keys = ["Division", *keys]
        spec = StreamSpec(name=declared.name, path=declared.endpoint, kind="custom", columns=columns,
                          primary_keys=tuple(keys),
                          replication_key=cursor or None,
                          selected_by_default=True)
        return ExactStream(self, spec, schema)


def _check_cursor(where: str, cursor: str, schema: dict) -> None:
    """A custom stream's ``replication_key``: ``Timestamp`` (a sync endpoint's row version) or a
    date-time column (``Modified``), as the incremental filter and ``start_date`` need."""
    column = schema["properties"].get(cursor)
    if column is None:
        raise config_error(f"{where}.replication_key {cursor!r} is not a column of the stream")
    if cursor != "Timestamp" and column.get("format") != "date-time":
        raise config_error(f"{where}.replication_key {cursor!r} is neither Timestamp (sync "
                           f"endpoints) nor a date-time column such as Modified")


def main() -> None:
    """Console script: the Singer CLI, plus the ``authorize`` subcommand."""
    oauth_plugin_main(TapExactOnline, ExactOnlineConnection)


if __name__ == "__main__":
    main()
