"""tap-superoffice: a Singer tap for SuperOffice CRM Online (REST WebAPI v1).

Every list entity and archive provider of the specs is a stream (``catalog.json``), plus the
endpoints a user declares in ``custom_streams``. ``tap-superoffice authorize --config CONFIG.json``
grants access once (the browser's consent, PKCE, the tokens written to ``token_store``).
"""

from __future__ import annotations

import copy
import typing as t

from singer_sdk import typing as th

from connector_core.custom_streams import CustomStreamEntry, custom_streams_setting
from connector_core.oauth.command import oauth_plugin_main
from connector_core.settings import config_error
from connector_core.tap import VendorTap
from superoffice_client import CONNECTION_SETTINGS, SuperOfficeConnection
from tap_superoffice import catalog
from tap_superoffice.client import SuperOfficeStream

CUSTOM_STREAMS = custom_streams_setting(
    endpoint="Endpoint template below `{Api}/v1`, e.g. `/Contact/{id}/Persons` or `/Archive/FindSale`.",
    query="Query parameters sent with the request, e.g. `{\"$filter\": \"saleId gt 100\"}`; on a "
          "catalog list endpoint they are added to the stream's own ($filter joined with `and`).",
    primary_keys="Default: the catalog stream's key, else `PrimaryKey` when the answer has rows.",
    replication_key="A date-time column for an incremental read (catalog list endpoints only).",
)


class TapSuperOffice(VendorTap[SuperOfficeConnection]):
    """Reads every SuperOffice stream of the catalog, plus endpoints declared in config."""

    name = "tap-superoffice"
    connection_class = SuperOfficeConnection

    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS,
        th.Property("start_date", th.DateTimeType,
                    description="Earliest change (`updatedDate`, `personUpdatedDate`, `lastChanged`) "
                                "to read on a first incremental run; date columns compare by day."),
        th.Property("page_size", th.IntegerType(minimum=1, maximum=catalog.max_page_size()),
                    default=catalog.max_page_size(),
                    description=f"Rows per page (`$top`), 1 to {catalog.max_page_size()}."),
        th.Property("extra_columns", th.ObjectType(additional_properties=th.ArrayType(th.StringType)),
                    description="More provider columns to `$select` per stream, e.g. user-defined "
                                "and extra fields: `{\"contact\": [\"contactUdef/SuperOffice:1\", "
                                "\"contactExtra/x_region\"]}` (emitted as strings)."),
        CUSTOM_STREAMS,
    ).to_dict()

    def check_settings(self) -> None:
        super().check_settings()
        known = {s.name for s in catalog.stream_specs() if s.is_provider}
        for stream, columns in (self.config.get("extra_columns") or {}).items():
            if stream not in known:
                raise config_error(f"extra_columns.{stream}: not a provider stream of the catalog "
                                   f"(e.g. contact, person, sale)")
            bad = [c for c in columns if not c or "," in c]
            if bad:
                raise config_error(f"extra_columns.{stream}: column names may not be empty or hold a comma: {bad}")

    def extra_columns(self, stream: str) -> list[str]:
        return list((self.config.get("extra_columns") or {}).get(stream) or [])

    def _schema(self, spec: catalog.StreamSpec, schema: dict[str, t.Any]) -> dict[str, t.Any]:
        schema = copy.deepcopy(schema)
        properties = schema.setdefault("properties", {})
        for column in self.extra_columns(spec.name):
            properties.setdefault(column, {"type": ["string", "null"]})
        if spec.deleted_column:
            properties["_sdc_deleted_at"] = {"type": ["string", "null"], "format": "date-time"}
        return schema

    def catalog_streams(self) -> list[SuperOfficeStream]:
        return [SuperOfficeStream(self, spec, self._schema(spec, catalog.json_schema(spec.schema_name or spec.name)))
                for spec in catalog.stream_specs()]

    def custom_stream(self, declared: CustomStreamEntry) -> SuperOfficeStream:
        entry = declared.entry
        listed = catalog.stream_for_path(declared.endpoint)
        known = catalog.schema_for_endpoint(declared.endpoint)
        if entry.get("schema"):
            schema, rows = entry["schema"], bool(known and known[1])
        elif listed is not None:
            schema, rows = catalog.json_schema(listed.name), True
        elif known is not None:
            schema, rows = known
        else:
            raise declared.not_in_catalog("is not a GET endpoint of the SuperOffice REST API")
        replication_key = declared.datetime_cursor(schema, "is not a date-time column of a catalog list endpoint",
                                                   allowed=listed is not None)
        keys = declared.primary_keys(listed.primary_keys if listed else (["PrimaryKey"] if rows else []))
        if listed is not None:
            spec = catalog.StreamSpec(
                name=declared.name, path=declared.endpoint, primary_keys=keys,
                replication_key=replication_key,
                replication_restriction="datetime" if replication_key and replication_key != listed.replication_key
                else listed.replication_restriction,
                deleted_column=listed.deleted_column, columns=listed.columns,
                selected_by_default=True, paging=listed.paging)
        else:
            spec = catalog.StreamSpec(name=declared.name, path=declared.endpoint, primary_keys=keys,
                                      selected_by_default=True, paging="next_link" if rows else "none")
        return SuperOfficeStream(self, spec, self._schema(spec, schema))


def main() -> None:
    """Console script: the Singer CLI, plus ``authorize``."""
    oauth_plugin_main(TapSuperOffice, SuperOfficeConnection)


if __name__ == "__main__":
    main()
