"""tap-tmplvendor: a Singer tap for TMPL_SYSTEM.

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``. Read
``TMPL_DOC`` for
TMPL_SYSTEM and add the vendor's own settings (filters, tenants) next to the connection's.
"""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from tmplvendor_client import CONNECTION_SETTINGS, TmplVendorConnection

from connector_core import install_log_redaction
from connector_core.cli import OneLineErrorsMixin
from connector_core.custom_streams import CustomStreamsMixin, custom_streams_setting, declared_custom_streams
from connector_core.settings import ValidatedSettingsMixin, config_error
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


class TapTmplVendor(OneLineErrorsMixin, ValidatedSettingsMixin, CustomStreamsMixin, Tap):
    """Reads every TMPL_SYSTEM stream of the catalog, plus endpoints declared in config."""

    name = "tap-tmplvendor"
    message_writer_class = MsgSpecWriter

    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS,
        th.Property("start_date", th.DateTimeType,
                    description="Earliest `updated_at` to read on a first incremental run."),
        th.Property("page_size", th.IntegerType(minimum=1, maximum=catalog.max_page_size()),
                    default=catalog.max_page_size(),
                    description=f"Rows per page, 1 to {catalog.max_page_size()}."),
        CUSTOM_STREAMS,
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        install_log_redaction()
        super().__init__(*args, **kwargs)

    def check_settings(self) -> None:
        self.connection  # noqa: B018 - the connection's settings (base_url) make sense

    @cached_property
    def connection(self) -> TmplVendorConnection:
        return TmplVendorConnection.for_plugin(self)

    @property
    def page_size(self) -> int:
        return int(self.config.get("page_size", catalog.max_page_size()))

    def discover_streams(self) -> list[TmplVendorStream]:
        streams = [TmplVendorStream(self, spec, catalog.json_schema(spec.model))
                   for spec in catalog.stream_specs() if spec.model]
        return streams + self._custom_streams({s.name for s in streams})

    def _custom_streams(self, taken: set[str]) -> list[TmplVendorStream]:
        out = []
        for declared in declared_custom_streams(self.config, taken):
            where, entry = declared.where, declared.entry
            model = catalog.model_for_endpoint(declared.endpoint)
            if entry.get("schema"):
                schema = entry["schema"]
            elif model:
                schema = catalog.json_schema(model)
            else:
                raise config_error(f"{where}.endpoint {declared.endpoint!r} is not a GET endpoint of the "
                                   f"TMPL_SYSTEM catalog; give its JSON schema in {where}.schema")
            replication_key = entry.get("replication_key")
            if replication_key:
                column = schema.get("properties", {}).get(replication_key)
                if column is None or column.get("format") != "date-time":
                    raise config_error(f"{where}.replication_key {replication_key!r} is not a date-time "
                                       "property of the stream")
            keys = entry.get("primary_keys")
            if keys is None:
                keys = ["id"] if "id" in schema.get("properties", {}) else []
            spec = catalog.StreamSpec(name=declared.name, path=declared.endpoint, model=model,
                                      primary_keys=tuple(keys), replication_key=replication_key,
                                      selected_by_default=True, paginate=entry.get("paginate", True))
            out.append(TmplVendorStream(self, spec, schema))
        return out


if __name__ == "__main__":
    TapTmplVendor.cli()
