"""singer-sdk integration of the publish engine: a Target base class and its sink.

A vendor target subclasses :class:`PublishTarget` (Singer input read with msgspec), names itself
and sets two class attributes: ``connection_class`` (its
:class:`~connector_core.connection.BaseConnection`) and ``dialect_class`` (its
:class:`~connector_core.publish.engine.PublishDialect`). Records that
fail the stream's JSON schema or lack a key property are rejected (with the reason) instead of
stopping the run; each new STATE drains the sinks and is passed on as soon as the records before
it are published or rejected, and each STATE passed on is also a checkpoint in the results file.
"""

from __future__ import annotations

import copy
import threading
import typing as t
from functools import cached_property
from pathlib import Path

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecReader
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import BatchSink
from singer_sdk.sinks.core import JSONSchemaValidator

from connector_core.cli import OneLineErrorsMixin
from connector_core.connection import BaseConnection, request_settings
from connector_core.publish.engine import PublishDialect, Publisher, PublishItem
from connector_core.publish.journal import Journal
from connector_core.publish.mapping import MappingError, StreamMapping
from connector_core.redaction import install_log_redaction
from connector_core.settings import ValidatedSettingsMixin, config_error

REJECT_REASON = "__publish_reject_reason__"


def publish_settings(*, default_concurrency: int = 4) -> th.PropertiesList:
    """The settings every publishing target has; ``default_concurrency`` per vendor."""
    return th.PropertiesList(
        th.Property(
            "mappings",
            th.ObjectType(additional_properties=th.ObjectType(
                th.Property("entity", th.StringType),
                th.Property("method", th.StringType),
                th.Property("path", th.ObjectType(additional_properties=th.StringType)),
                th.Property("match", th.CustomType({"type": ["array", "string"],
                                                     "items": {"type": "string"}})),
                th.Property("query", th.ObjectType()),
                th.Property("required", th.CustomType({"type": ["array", "string"],
                                                        "items": {"type": "string"}})),
            )),
            description="Per stream: `entity` (endpoint template), `method` (POST, PUT, PATCH, DELETE "
                        "or UPSERT), `path` ({param: record field}), `match` (fields that find an "
                        "existing object for UPSERT), static `query` values and `required` (fields "
                        "a record needs to create an object; a record without them is rejected "
                        "before its POST is sent).",
        ),
        th.Property("dry_run", th.BooleanType, default=False,
                    description="Log the writes that would be sent and send none (UPSERT look-ups still read)."),
        th.Property("concurrency", th.IntegerType(minimum=1), default=default_concurrency,
                    description="Requests in flight at once (within the rate limit)."),
        th.Property("results_path", th.StringType, default="output/publish/results.jsonl",
                    description="JSON Lines file: one line per published record."),
        th.Property("rejects_path", th.StringType, default="output/publish/rejects.jsonl",
                    description="JSON Lines file: each rejected record with the reason."),
        request_settings()[0],  # max_retries: the connection's, also for a vendor whose settings lack it
    )


PUBLISH_SETTINGS = publish_settings()


class _MarkingValidator(JSONSchemaValidator):
    """Marks an invalid record with the reason instead of stopping the run."""

    def validate(self, record: dict[str, t.Any]) -> None:
        try:
            super().validate(record)
        except InvalidRecord as exc:
            record[REJECT_REASON] = f"record does not match the stream's schema: {exc}"


class PublishSink(BatchSink):
    """Collects a batch of records, then has the engine publish them."""

    def __init__(self, target: PublishTarget, *args: t.Any, **kwargs: t.Any) -> None:
        self.publish_target = target
        super().__init__(target, *args, **kwargs)

    def get_validator(self) -> JSONSchemaValidator | None:
        if not self.config.get("validate_records", True):
            return None
        return _MarkingValidator(self.schema)

    def _singer_validate_message(self, record: dict) -> None:
        # singer-sdk raises on a missing key property; here it is a reject like any bad record.
        missing = [k for k in self.key_properties if record.get(k) is None]
        if missing and REJECT_REASON not in record:
            record[REJECT_REASON] = f"key propert{'y' if len(missing) == 1 else 'ies'} " \
                                    f"{', '.join(missing)} missing"

    def _parse_timestamps_in_record(self, record: dict, schema: dict, treatment: t.Any) -> None:
        # singer-sdk turns date-time strings into datetimes here; a publisher sends the values as
        # they came (ConnectWise wants its own "2019-02-11T15:42:38Z" strings back).
        return

    @cached_property
    def mapping(self) -> StreamMapping:
        return self.publish_target.mapping_for(self.stream_name)

    def process_record(self, record: dict, context: dict) -> None:
        context.setdefault("records", []).append(record)

    def process_batch(self, context: dict) -> None:
        publisher = self.publish_target.publisher
        items = []
        for record in context.get("records", []):
            reason = record.pop(REJECT_REASON, None)
            if reason:
                key = [record.get(k) for k in self.key_properties] or None
                publisher.journal.reject(stream=self.stream_name, key=key, reason=reason,
                                         record=record)
                self.logger.warning("Rejected a record of %s (key %s): %s", self.stream_name,
                                    key, reason)
                continue
            items.append(PublishItem.from_record(self.stream_name, record, self.mapping,
                                                 self.key_properties))
        publisher.publish(items)


class PublishTarget(OneLineErrorsMixin, ValidatedSettingsMixin, Target):
    """Base for the suite's vendor targets: settings, mappings, journal and publisher.

    The settings, ``mappings`` included, are checked before the first message is read; a bad
    one ends the run with one line naming it (``mappings.companies.method must be one of ...``).
    """

    default_sink_class = PublishSink
    message_reader_class = MsgSpecReader
    #: The vendor's connection (settings, session, retries, limiter), one per run.
    connection_class: t.ClassVar[type[BaseConnection]]
    #: The vendor's dialect; built with :meth:`PublishDialect.for_target`.
    dialect_class: t.ClassVar[type[PublishDialect]]
    _connection: BaseConnection | None
    _publisher_lock: threading.RLock

    @property
    def connection(self) -> BaseConnection:
        """The run's one connection (sinks drain in threads: built once, under the lock)."""
        with self._publisher_lock:
            if self._connection is None:
                self._connection = self.connection_class.for_plugin(self)
            return self._connection

    def make_dialect(self) -> PublishDialect:
        return self.dialect_class.for_target(self)

    def default_mapping(self, stream: str) -> t.Mapping[str, t.Any] | None:
        """The mapping of a stream the config doesn't map (e.g. named like a tap's stream)."""
        return self.dialect_class.default_mapping(stream)

    def check_settings(self) -> None:
        """Every configured mapping makes sense (after the schema checked the types), and so do
        the connection's settings."""
        for stream, obj in (self.config.get("mappings") or {}).items():
            self._parse_mapping(stream, obj)
        self.connection  # noqa: B018 - builds it: a setting it finds wrong is a config error

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        install_log_redaction()
        self._publisher: Publisher | None = None
        self._connection: BaseConnection | None = None
        self._publisher_lock = threading.RLock()
        super().__init__(*args, **kwargs)

    def _parse_mapping(self, stream: str, obj: t.Mapping[str, t.Any]) -> StreamMapping:
        try:
            return StreamMapping.from_config(stream, obj, where=f"mappings.{stream}")
        except MappingError as exc:
            raise config_error(str(exc)) from None

    def mapping_for(self, stream: str) -> StreamMapping:
        configured = (self.config.get("mappings") or {}).get(stream)
        obj = configured if configured is not None else self.default_mapping(stream)
        if obj is None:
            raise config_error(
                f"stream {stream!r} has no mapping: add mappings.{stream} with an `entity` and a "
                "`method` to the target's config"
            )
        return self._parse_mapping(stream, obj)

    @cached_property
    def journal(self) -> Journal:
        return Journal(Path(self.config.get("results_path", "output/publish/results.jsonl")),
                       Path(self.config.get("rejects_path", "output/publish/rejects.jsonl")))

    @property
    def publisher(self) -> Publisher:
        """The one publisher of the run (and through it the one connection and rate limiter).

        singer-sdk drains sinks in parallel threads, and since Python 3.12 ``cached_property`` no
        longer locks: without the lock, two sinks draining at once would each build a publisher,
        a connection and a limiter, splitting the request budget.
        """
        with self._publisher_lock:
            if self._publisher is None:
                connection = self.connection
                self._publisher = Publisher(
                    self.make_dialect(), self.journal, session=connection.session,
                    retry_policy=connection.retry_policy,
                    rate_limiter=connection.rate_limiter(),
                    concurrency=int(self.config.get("concurrency", 4)),
                    dry_run=bool(self.config.get("dry_run", False)), logger=self.logger,
                    timeout=float(connection.timeout),
                )
            return self._publisher

    # singer-sdk marks add_sink final; a stream's mapping is checked here, at its SCHEMA.
    def add_sink(self, stream_name: str, schema: dict,  # type: ignore[misc]
                 key_properties: t.Sequence[str] | None = None):
        self.mapping_for(stream_name)  # an unmapped stream fails at its SCHEMA, before any record
        return super().add_sink(stream_name, schema, key_properties)

    def _process_state_message(self, message_dict: dict) -> None:
        previous = self._latest_state
        super()._process_state_message(message_dict)
        if self._latest_state != previous:
            # Publish what came before this STATE and pass it on now. Left to a later drain, the
            # STATE (and its checkpoint) would also cover the records that came after it, and a
            # tap resending those after a crash would have them created twice.
            self.drain_all()

    def _write_state_message(self, state: dict) -> None:
        if state == self.__dict__.get("_last_written_state"):
            return  # a drain with no new STATE (end of input, a full batch): no new checkpoint
        super()._write_state_message(state)
        self.journal.checkpoint(state)
        self._last_written_state = copy.deepcopy(state)

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        journal = self.__dict__.get("journal")
        if journal is not None:
            self.logger.info("Published %d records, %d unchanged (not sent), rejected %d "
                             "(results: %s, rejects: %s)", journal.published,
                             journal.unchanged_count, journal.rejected, journal.results_path,
                             journal.rejects_path)
            journal.close()

