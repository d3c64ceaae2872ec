"""Every vendor tap's base: :class:`VendorTap`.

A vendor tap subclasses it once (``class TapAcme(VendorTap[AcmeConnection])``), names itself,
sets ``connection_class`` and its ``config_jsonschema``, and says where its streams come from:
:meth:`~VendorTap.catalog_streams` (the generated catalog's) and :meth:`~VendorTap.custom_stream`
(one checked ``custom_streams`` entry). The rest is the same for every vendor: one clear error
line (:class:`~connector_core.cli.OneLineErrorsMixin`), settings checked in every mode, the
connection built once from the config (a setting it finds wrong is a config error naming it),
log redaction, Singer output through msgspec, ``page_size`` and ``start_date``.
"""

from __future__ import annotations

import typing as t
from datetime import datetime
from functools import cached_property

from singer_sdk import Stream, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter

from connector_core.cli import OneLineErrorsMixin
from connector_core.connection import BaseConnection
from connector_core.custom_streams import CustomStreamEntry, CustomStreamsMixin, declared_custom_streams
from connector_core.redaction import install_log_redaction
from connector_core.settings import ValidatedSettingsMixin, aware_datetime

ConnT = t.TypeVar("ConnT", bound=BaseConnection)
S = t.TypeVar("S", bound=Stream)


class VendorTap(OneLineErrorsMixin, ValidatedSettingsMixin, CustomStreamsMixin, Tap, t.Generic[ConnT]):
    """A tap of the suite: one vendor connection per run, catalog streams plus declared ones."""

    message_writer_class = MsgSpecWriter
    #: The vendor's connection (settings, session, retries, limiter), one per run.
    connection_class: type[ConnT]

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        install_log_redaction()
        super().__init__(*args, **kwargs)

    # -- config ----------------------------------------------------------------------------------
    def check_settings(self) -> None:
        """The connection's settings make sense (extend for the vendor's own)."""
        self.connection  # noqa: B018 - builds it: a setting it finds wrong is a config error

    @cached_property
    def connection(self) -> ConnT:
        """The run's one connection, shared by every stream."""
        return self.connection_class.for_plugin(self)

    @property
    def page_size(self) -> int:
        """The ``page_size`` setting, else the default its schema declares."""
        declared = self.config_jsonschema.get("properties", {}).get("page_size", {})
        return int(self.config.get("page_size", declared.get("default")))

    @cached_property
    def start_date(self) -> datetime | None:
        """The ``start_date`` setting as an aware datetime (UTC when written without a zone)."""
        return aware_datetime(self.config.get("start_date"))

    # -- streams ---------------------------------------------------------------------------------
    def discover_streams(self) -> list[Stream]:
        """The catalog's streams, then one per ``custom_streams`` entry (checked first)."""
        streams: list[Stream] = list(self.catalog_streams())
        taken = {stream.name for stream in streams}
        return streams + [self.custom_stream(declared) for declared in declared_custom_streams(self.config, taken)]

    def catalog_streams(self) -> t.Sequence[Stream]:
        """The streams of the vendor's generated catalog (override)."""
        raise NotImplementedError

    def custom_stream(self, declared: CustomStreamEntry) -> Stream:
        """The stream of one checked ``custom_streams`` entry (override)."""
        raise NotImplementedError

    def spec_streams(self, base: type[S], specs: t.Iterable[t.Any],
                     schema_of: t.Callable[[t.Any], dict[str, t.Any]]) -> list[S]:
        """One stream per spec, each of its own subclass of ``base`` named for it (``service_tickets``:
        ``ServiceTicketsStream``), a child's class wired to its parent's (``parent_stream_type``).
        ``specs`` (with ``name`` and ``parent``) list a parent before its children."""
        classes: dict[str, type[S]] = {}
        streams: list[S] = []
        for spec in specs:
            attrs: dict[str, t.Any] = {}
            if spec.parent:
                attrs["parent_stream_type"] = classes[spec.parent]
            cls = type(stream_class_name(spec.name), (base,), attrs)
            classes[spec.name] = cls
            streams.append(cls(self, spec, schema_of(spec)))  # type: ignore[call-arg]
        return streams


def stream_class_name(stream_name: str) -> str:
    """``service_tickets`` -> ``ServiceTicketsStream``."""
    return "".join(part.title() for part in stream_name.split("_")) + "Stream"
