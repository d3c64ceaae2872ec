"""target-exactonline: publishes Singer streams to Exact Online entities."""

from __future__ import annotations

from singer_sdk import typing as th

from connector_core.publish import PublishTarget, publish_settings
from exactonline_client import CONNECTION_SETTINGS, ExactOnlineConnection
from target_exactonline.dialect import ExactDialect


class TargetExactOnline(PublishTarget):
    """Writes each stream to an Exact Online endpoint with POST, PUT, DELETE or UPSERT."""

    name = "target-exactonline"
    connection_class = ExactOnlineConnection
    dialect_class = ExactDialect
    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS,
        th.Property("division", th.IntegerType,
                    description="Division to write to. Default: each record's `Division` field "
                                "(as tap-exactonline emits it), else the user's current division."),
        th.Property("error_allowance", th.IntegerType(minimum=1), default=8,
                    description="Errors (400/401/403/404) an endpoint may answer in an hour before "
                                "this run stops sending records to it (they are rejected unsent). "
                                "Exact blocks the endpoint for an hour after 10."),
        # Exact asks for sequential requests per division (§2.4); its 60-a-minute budget leaves
        # nothing to gain from more.
        *publish_settings(default_concurrency=1),
    ).to_dict()


if __name__ == "__main__":
    TargetExactOnline.cli()
