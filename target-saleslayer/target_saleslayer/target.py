"""target-saleslayer: write records into Sales Layer (PIM) through an Import connector of the classic API.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §3.1 "Writes (Import connector)": an
import is a signed POST of ``input_data[<table>]`` lists (and, with API 1.18, ``delete_data``) to the Import
connector (a Custom/Export connector only reads) [SL-IMP][SL-DEL]; its answer's ``input_response`` says
what was done and which items were refused, and its ``status_tracking`` URL when the job ends [SL-TRK].

The suite's publish engine gives the settings, the journal (results, rejects, checkpoints), mappings,
dry run and the record envelope; :mod:`target_saleslayer.dialect` turns records into items and
:mod:`target_saleslayer.publisher` sends them in batches. The connection (signature, retries on the
temporary errors 10/11/14, the clock fix) is the tap's: ``saleslayer-client``.
"""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

from connector_core.publish import PUBLISH_SETTINGS, PublishSink, PublishTarget, StreamMapping
from connector_core.settings import config_error
from saleslayer_client import CONNECTION_SETTINGS
from target_saleslayer.dialect import (
    DEFAULT_TABLES,
    DELETE_DATA_VERSIONS,
    DELETED_AT,
    TABLE_NAME,
    SalesLayerDialect,
    SalesLayerImportConnection,
    table_of,
)
from target_saleslayer.publisher import SalesLayerPublisher

MAPPING_KEYS = ("entity", "method", "required")
METHODS = ("UPSERT", "DELETE")
DEFAULT_BATCH_SIZE = 1000

MAPPINGS = th.Property(
    "mappings",
    th.ObjectType(additional_properties=th.ObjectType(
        th.Property("entity", th.StringType),
        th.Property("method", th.StringType),
        th.Property("required", th.CustomType({"type": ["array", "string"], "items": {"type": "string"}})),
    )),
    description="Per stream: `entity`, the Import connector's table (`products`, `catalogue`, `product_formats` "
                "or a custom table), `method` UPSERT (items by `REF`, or `ID`) or DELETE (`delete_data`, API "
                f"1.18), and `required` (fields every item of the stream must have, else it is rejected before "
                f"sending). Streams named {', '.join(DEFAULT_TABLES)} UPSERT the table of the same name without "
                "a mapping.",
)

TARGET_SETTINGS = th.PropertiesList(
    th.Property("batch_size", th.IntegerType(minimum=1), default=DEFAULT_BATCH_SIZE,
                description="Items per import call (`input_data` and `delete_data` together). Sales Layer does "
                            "not document a limit; the sandbox denies more than 1000 a call, and a call denied "
                            "for its size stops the run naming this setting."),
    th.Property("input_data_directly", th.BooleanType, default=False,
                description="API 1.18: send `input_data_directly=1`, asking Sales Layer to import at once "
                            "instead of through an import job."),
    th.Property("tracking_timeout_seconds", th.IntegerType(minimum=1), default=600,
                description="Seconds to follow an import's `status_tracking` URL until it says `end`; an import "
                            "still running then stops the run without passing its STATE on."),
    th.Property("tracking_poll_seconds", th.CustomType({"type": ["number"], "exclusiveMinimum": 0}), default=5,
                description="Seconds between two reads of the `status_tracking` URL."),
)


class SalesLayerSink(PublishSink):
    """A stream's records; ``_sdc_deleted_at`` is kept (it makes a record a deletion), and a batch is
    published after the records of the streams that came before it (a product may need its category)."""

    def _remove_sdc_metadata_from_record(self, record: dict) -> None:
        deleted_at = record.get(DELETED_AT)
        super()._remove_sdc_metadata_from_record(record)
        if deleted_at is not None:
            record[DELETED_AT] = deleted_at

    def process_batch(self, context: dict) -> None:
        target = self.publish_target
        if isinstance(target, TargetSalesLayer):
            target.drain_before(self)
        super().process_batch(context)


class TargetSalesLayer(PublishTarget):
    """Writes each stream into a table of a Sales Layer Import connector, in batches."""

    name = "target-saleslayer"
    default_sink_class = SalesLayerSink
    connection_class = SalesLayerImportConnection
    dialect_class = SalesLayerDialect
    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS,
        MAPPINGS,
        th.Property("dry_run", th.BooleanType, default=False,
                    description="Log the import calls that would be sent (table, item count) and send none; each "
                                "record gets a result line marked dry_run."),
        *(p for p in PUBLISH_SETTINGS if p.name in ("results_path", "rejects_path")),
        *TARGET_SETTINGS,
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        # One sink drains at a time, in the order the streams came: imports go one after another.
        self.max_parallelism = 1

    def check_settings(self) -> None:
        super().check_settings()
        version = str(self.config.get("api_version") or "1.18")
        if self.config.get("input_data_directly") and version not in DELETE_DATA_VERSIONS:
            raise config_error(f"input_data_directly needs api_version 1.18; api_version is {version}")
        for stream, obj in (self.config.get("mappings") or {}).items():
            if str((obj or {}).get("method", "UPSERT")).upper() == "DELETE" and version not in DELETE_DATA_VERSIONS:
                raise config_error(f"mappings.{stream}.method DELETE needs api_version 1.18 (delete_data); "
                                   f"api_version is {version}")

    def _parse_mapping(self, stream: str, obj: t.Mapping[str, t.Any]) -> StreamMapping:
        where = f"mappings.{stream}"
        if isinstance(obj, t.Mapping):
            for key in obj:
                if key not in MAPPING_KEYS:
                    raise config_error(f"{where}.{key} is not a Sales Layer mapping key; a mapping has "
                                       f"{', '.join(MAPPING_KEYS)} (items are found by their REF or ID)")
            method = obj.get("method", "UPSERT")
            if not isinstance(method, str) or method.upper() not in METHODS:
                raise config_error(f"{where}.method must be UPSERT or DELETE (a Sales Layer import creates or "
                                   f"updates items by REF, or deletes them); got {method!r}")
            if "entity" in obj:
                entity = obj["entity"]
                table = table_of(entity) if isinstance(entity, str) else ""
                if not TABLE_NAME.fullmatch(table):
                    raise config_error(f"{where}.entity must be the name of an import table, such as products; "
                                       f"got {entity!r}")
                obj = {**obj, "entity": f"/{table}"}  # the engine's mappings name endpoints: /products
        return super()._parse_mapping(stream, obj)

    @property
    def publisher(self) -> SalesLayerPublisher:
        with self._publisher_lock:
            if self._publisher is None:
                connection = self.connection
                assert isinstance(connection, SalesLayerImportConnection)
                self._publisher = SalesLayerPublisher(
                    SalesLayerDialect(connection), self.journal, connection=connection,
                    batch_size=int(self.config.get("batch_size", DEFAULT_BATCH_SIZE)),
                    input_data_directly=bool(self.config.get("input_data_directly", False)),
                    tracking_timeout=float(self.config.get("tracking_timeout_seconds", 600)),
                    tracking_poll=float(self.config.get("tracking_poll_seconds", 5)),
                    dry_run=bool(self.config.get("dry_run", False)), logger=self.logger)
            assert isinstance(self._publisher, SalesLayerPublisher)
            return self._publisher

    def drain_before(self, sink: PublishSink) -> None:
        """Publish the records of the streams that came before ``sink``'s (a full sink drains alone)."""
        for other in list(self._sinks_active.values()):
            if other is sink:
                return
            if other.current_size:
                self.drain_one(other)


if __name__ == "__main__":
    TargetSalesLayer.cli()
