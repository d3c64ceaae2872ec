"""target-connectwise: publish records to any ConnectWise Manage entity, with method mapping."""

from __future__ import annotations

from singer_sdk import typing as th

from connector_core.publish import PUBLISH_SETTINGS, PublishTarget
from connectwise_client import CONNECTION_SETTINGS, ConnectWiseConnection
from target_connectwise.dialect import ConnectWiseDialect


class TargetConnectWise(PublishTarget):
    """Writes each stream to a ConnectWise entity with POST, PUT, PATCH, DELETE or UPSERT."""

    name = "target-connectwise"
    connection_class = ConnectWiseConnection
    dialect_class = ConnectWiseDialect
    config_jsonschema = th.PropertiesList(*CONNECTION_SETTINGS, *PUBLISH_SETTINGS).to_dict()


if __name__ == "__main__":
    TargetConnectWise.cli()
