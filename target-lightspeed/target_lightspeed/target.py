"""target-lightspeed: publish records to any Lightspeed (retail POS) entity, with method mapping.

TODO(lightspeed): scaffolded by ``scripts/dev/new_vendor.py``; add the vendor's own target
settings (read ``shared/vendors/superoffice-lightspeed-saleslayer.md`` for Lightspeed (retail POS)) next to the
connection's and the engine's.
"""

from __future__ import annotations

from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecReader

from connector_core.publish import PUBLISH_SETTINGS, PublishTarget
from lightspeed_client import CONNECTION_SETTINGS, LightspeedConnection
from target_lightspeed.dialect import LightspeedDialect


class TargetLightspeed(PublishTarget):
    """Writes each stream to a Lightspeed (retail POS) entity with POST, PUT, PATCH, DELETE or UPSERT."""

    name = "target-lightspeed"
    message_reader_class = MsgSpecReader
    connection_class = LightspeedConnection
    dialect_class = LightspeedDialect
    config_jsonschema = th.PropertiesList(*CONNECTION_SETTINGS, *PUBLISH_SETTINGS).to_dict()


if __name__ == "__main__":
    TargetLightspeed.cli()
