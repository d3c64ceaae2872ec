"""target-lightspeed: publish records to Lightspeed Retail X-Series entities, with method mapping.

POST, PUT, DELETE and UPSERT (by id, or by match fields through Lightspeed's look-ups) through the
shared publish engine; see :mod:`target_lightspeed.dialect`. The connection (store address, token
or OAuth, the 5-minute budget) is the tap's: ``lightspeed-client``.
"""

from __future__ import annotations

from singer_sdk import typing as th

from connector_core.publish import PUBLISH_SETTINGS, PublishTarget
from lightspeed_client import CONNECTION_SETTINGS, LightspeedConnection
from target_lightspeed.dialect import LightspeedDialect


class TargetLightspeed(PublishTarget):
    """Writes each stream to a Lightspeed entity with POST, PUT, DELETE or UPSERT."""

    name = "target-lightspeed"
    connection_class = LightspeedConnection
    dialect_class = LightspeedDialect
    config_jsonschema = th.PropertiesList(*CONNECTION_SETTINGS, *PUBLISH_SETTINGS).to_dict()


if __name__ == "__main__":
    TargetLightspeed.cli()
