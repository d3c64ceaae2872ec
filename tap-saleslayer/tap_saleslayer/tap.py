"""tap-saleslayer: a Singer tap for Sales Layer (PIM), through an export connector of the classic API.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §3.1. There is no fixed catalog:
each connector defines its tables and fields and describes them in every answer, so the streams
(one per table: ``catalogue``, ``products``, ``product_formats``, custom tables) and their schemas
are discovered from the connector itself, with two small calls (``test=1`` for the server's clock,
then one page of the changes since that instant: the schemas without the catalogue). A run given a
catalog takes its streams from it.

A sync makes one export for every selected stream (:mod:`tap_saleslayer.export`), incremental with
``last_update`` = the server ``time`` of the previous run's export (never the local clock): the
bookmark, ``saleslayer_time``, is the same on every stream; a run whose streams have different
bookmarks asks from the oldest (a row may come twice, none is missed). ``D`` rows are deletions
(``_sdc_deleted_at``).
"""

from __future__ import annotations

import typing as t
from datetime import datetime, timezone, tzinfo
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.helpers.conform import TypeConformanceLevel

from connector_core.progress import ProgressStreamMixin
from connector_core.settings import aware_datetime, config_error
from connector_core.tap import VendorTap
from saleslayer_client import CONNECTION_SETTINGS, SalesLayerConnection
from tap_saleslayer.export import Export
from tap_saleslayer.schema import EXPORT_TIME, KEY, stream_name, table_schema

DEFAULT_PAGE_SIZE = 5000  # what the official SDK asks (§3.1 "pagination"; the server's default is 1000)

# The export connector's own parameters (§3.1 "Read parameters" [SL-CALL][SL-PDF]): setting -> parameter.
FLAG_PARAMETERS = {
    "group_category_id": "group_category_id",
    "parents_category_tree": "parents_category_tree",
    "same_parent_variants": "same_parent_variants",
    "get_file_references": "get_file_refereneces",  # sic: the API's spelling
    "add_empty_categories": "add_empty_categories",
}
# What the tap sends itself: not settable through `query`.
OWN_PARAMETERS = {"code", "time", "unique", "key256", "key", "ver", "pagination", "last_update", "test",
                  "compression", *FLAG_PARAMETERS.values(), "group_category_delimiter"}


class SalesLayerStream(ProgressStreamMixin, Stream):
    """One table of the connector; its records come from the run's one export.

    Progress and summary lines (:mod:`connector_core.progress`): the export's requests are counted
    against the stream that reads it (the first to sync); the others read their spool (requests=0).
    The export's pages are not the stream's own: no ``pages`` field."""

    replication_method = "INCREMENTAL"
    replication_key = EXPORT_TIME
    is_sorted = True  # every record of a run carries the same export time
    # Records are typed already (schema.RowReader): only top-level properties are conformed. The
    # SDK's recursive conformance was the tap's largest CPU cost (bench/tap_saleslayer_throughput.py).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.ROOT_ONLY

    def __init__(self, tap: TapSalesLayer, table: str, schema: dict[str, t.Any], keys: list[str]) -> None:
        self.table = table
        super().__init__(tap=tap, schema=schema, name=stream_name(table))
        self.primary_keys = keys

    def get_records(self, context: t.Mapping[str, t.Any] | None) -> t.Iterable[dict[str, t.Any]]:
        tap = t.cast(TapSalesLayer, self._tap)
        yield from tap.export.records(self.table)
        # The export's time is this stream's bookmark even when the window held none of its rows:
        # else a quiet table would keep the connector's one bookmark at start_date (or none).
        self._increment_stream_state({EXPORT_TIME: tap.export.export_time}, context=context)


class TapSalesLayer(VendorTap[SalesLayerConnection]):
    """Reads every table of a Sales Layer export connector, in one export a run."""

    name = "tap-saleslayer"
    connection_class = SalesLayerConnection

    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS,
        th.Property("start_date", th.DateTimeType,
                    description="On a run without a bookmark, only what changed since then is read (sent as "
                                "`last_update`); without it the first run reads the whole catalogue."),
        th.Property("page_size", th.IntegerType(minimum=1), default=DEFAULT_PAGE_SIZE,
                    description="Items asked per page (`pagination`, API 1.18); Sales Layer rounds it (under "
                                "1000: 500, up to 1500: 1000, ...)."),
        th.Property("languages", th.ArrayType(th.StringType),
                    description="The language codes whose columns are kept (`[\"en\", \"es\"]`): a multilingual "
                                "field is one column per language (`product_name_en`). Default: every language "
                                "of the connector."),
        th.Property("timezone", th.StringType, default="UTC",
                    description="The zone of Sales Layer's date-times (sent without one), e.g. `Europe/Madrid`; "
                                "they are emitted with it."),
        th.Property("group_category_id", th.BooleanType, default=True,
                    description="One row per product, `ID_catalogue` the list of its categories (the API's "
                                "`group_category_id=1`); off: one row per product and category."),
        th.Property("group_category_delimiter", th.StringType,
                    description="With `group_category_id`, `ID_catalogue` as one text joined by this delimiter."),
        th.Property("parents_category_tree", th.BooleanType, default=False,
                    description="Changed products bring their categories, changed categories their ancestors."),
        th.Property("same_parent_variants", th.BooleanType, default=False,
                    description="A changed variant brings every variant of its product."),
        th.Property("get_file_references", th.BooleanType, default=False,
                    description="Ask for file references (the API's `get_file_refereneces`)."),
        th.Property("add_empty_categories", th.BooleanType, default=False,
                    description="Export categories without products too."),
        th.Property("query", th.ObjectType(additional_properties=th.StringType),
                    description="Other parameters of the connector API sent with the export, as "
                                "`{\"name\": \"value\"}`."),
    ).to_dict()

    def check_settings(self) -> None:
        super().check_settings()
        self.zone  # noqa: B018
        self.export_parameters  # noqa: B018

    @cached_property
    def zone(self) -> tzinfo:
        name = str(self.config.get("timezone") or "UTC")
        if name.upper() == "UTC":
            return timezone.utc
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise config_error(f"timezone must be a zone name such as Europe/Madrid; got {name!r}") from None

    @cached_property
    def languages(self) -> set[str] | None:
        chosen = self.config.get("languages")
        return {str(code).strip() for code in chosen} if chosen else None

    @cached_property
    def export_parameters(self) -> dict[str, str]:
        """The connector API's shaping parameters, from the settings."""
        params = {"ver": self.connection.api_version}
        for setting, parameter in FLAG_PARAMETERS.items():
            if self.config.get(setting):
                params[parameter] = "1"
        if self.config.get("group_category_id") and self.config.get("group_category_delimiter"):
            params["group_category_delimiter"] = str(self.config["group_category_delimiter"])
        for name, value in (self.config.get("query") or {}).items():
            if name in OWN_PARAMETERS:
                raise config_error(f"query.{name} is set by the tap itself (use its own setting, if it has one)")
            params[name] = str(value)
        return params

    # -- discovery ---------------------------------------------------------------------------------
    def discover_streams(self) -> list[Stream]:
        if self.input_catalog is not None:
            return [self._stream_of_catalog_entry(entry) for entry in self.input_catalog.streams]
        return self._streams_of_the_connector()

    def _stream_of_catalog_entry(self, entry: t.Any) -> SalesLayerStream:
        table = entry.tap_stream_id
        schema = entry.schema.to_dict()
        keys = list(entry.key_properties or [KEY])
        return SalesLayerStream(self, table, schema, keys)

    def _streams_of_the_connector(self) -> list[Stream]:
        """One stream per table, from one page of the changes since the server's now (not the catalogue)."""
        now = self.connection.read({"ver": self.connection.api_version, "test": "1"})["time"]
        params = {**self.export_parameters, "last_update": str(now)}
        if self.connection.api_version != "1.17":
            params["pagination"] = "1"
        answer = self.connection.read(params)
        schemas = answer.get("data_schema") or {}
        infos = answer.get("data_schema_info") or {}
        streams: list[Stream] = []
        for table in schemas:
            schema = table_schema(table, schemas[table], infos.get(table) or {}, self.languages)
            keys = [KEY]
            if not self.config.get("group_category_id", True) and "ID_catalogue" in schema["properties"]:
                keys.append("ID_catalogue")  # one row per product and category
            streams.append(SalesLayerStream(self, table, schema, keys))
        names = [s.name for s in streams]
        duplicated = {n for n in names if names.count(n) > 1}
        if duplicated:
            raise config_error(f"the connector's tables {sorted(duplicated)} give the same stream name")
        return streams

    # -- the run's export --------------------------------------------------------------------------
    @cached_property
    def export(self) -> Export:
        selected = [s for s in self.streams.values() if isinstance(s, SalesLayerStream) and s.selected]
        params = dict(self.export_parameters)
        if self.connection.api_version != "1.17":
            params["pagination"] = str(self.config.get("page_size") or DEFAULT_PAGE_SIZE)
        starts = [self._start_of(s) for s in selected]
        if starts and all(starts):
            since = min(t.cast(datetime, start) for start in starts)
            params["last_update"] = str(int(since.timestamp()))
            self.logger.info("Sales Layer export of the changes since %s (last_update=%s)", since.isoformat(),
                             params["last_update"])
        else:
            self.logger.info("Sales Layer export of the whole catalogue")
        keep = {s.table: set(s.schema.get("properties", {})) for s in selected}
        return Export(self.connection, params, keep, self.zone, self.logger)

    def _start_of(self, stream: SalesLayerStream) -> datetime | None:
        """Where ``stream`` starts: its bookmark (an export's server time), else ``start_date``.

        Read from the state as given: singer-sdk sets a stream's starting value only when that
        stream's own sync begins, and the export, made by the first stream, serves them all."""
        bookmark = ((self.state.get("bookmarks") or {}).get(stream.name) or {}).get("replication_key_value")
        return aware_datetime(bookmark or self.config.get("start_date"))


def main() -> None:
    TapSalesLayer.cli()


if __name__ == "__main__":
    main()
