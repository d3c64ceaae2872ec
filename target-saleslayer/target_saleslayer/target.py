"""target-saleslayer: publish records to any Sales Layer (PIM) entity, with method mapping.

TODO(saleslayer): scaffolded by ``scripts/dev/new_vendor.py``; add the vendor's own target
settings (read ``shared/vendors/superoffice-lightspeed-saleslayer.md`` for Sales Layer (PIM)) next to the
connection's and the engine's.
"""

from __future__ import annotations

from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecReader

from connector_core.publish import PUBLISH_SETTINGS, PublishTarget
from saleslayer_client import CONNECTION_SETTINGS, SalesLayerConnection
from target_saleslayer.dialect import SalesLayerDialect


class TargetSalesLayer(PublishTarget):
    """Writes each stream to a Sales Layer (PIM) entity with POST, PUT, PATCH, DELETE or UPSERT."""

    name = "target-saleslayer"
    message_reader_class = MsgSpecReader
    connection_class = SalesLayerConnection
    dialect_class = SalesLayerDialect
    config_jsonschema = th.PropertiesList(*CONNECTION_SETTINGS, *PUBLISH_SETTINGS).to_dict()


if __name__ == "__main__":
    TargetSalesLayer.cli()
