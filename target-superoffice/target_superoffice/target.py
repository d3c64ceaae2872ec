"""target-superoffice: publish records to any SuperOffice (CRM) entity, with method mapping.

TODO(superoffice): scaffolded by ``scripts/dev/new_vendor.py``; add the vendor's own target
settings (read ``shared/vendors/superoffice-lightspeed-saleslayer.md`` for SuperOffice (CRM)) next to the
connection's and the engine's.
"""

from __future__ import annotations

from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecReader

from connector_core.publish import PUBLISH_SETTINGS, PublishTarget
from superoffice_client import CONNECTION_SETTINGS, SuperOfficeConnection
from target_superoffice.dialect import SuperOfficeDialect


class TargetSuperOffice(PublishTarget):
    """Writes each stream to a SuperOffice (CRM) entity with POST, PUT, PATCH, DELETE or UPSERT."""

    name = "target-superoffice"
    message_reader_class = MsgSpecReader
    connection_class = SuperOfficeConnection
    dialect_class = SuperOfficeDialect
    config_jsonschema = th.PropertiesList(*CONNECTION_SETTINGS, *PUBLISH_SETTINGS).to_dict()


if __name__ == "__main__":
    TargetSuperOffice.cli()
