"""target-superoffice: publish records to any SuperOffice CRM Online entity, with method mapping.

POST, PUT, PATCH (a JSON Patch of the record's fields), DELETE and UPSERT (by id, or by match fields
through one filtered look-up) through the shared publish engine; see :mod:`target_superoffice.dialect`.
The connection (tenant host, tokens, the 10-a-second rule) is the tap's: ``superoffice-client``.
"""

from __future__ import annotations

from singer_sdk import typing as th

from connector_core.publish import PUBLISH_SETTINGS, PublishTarget
from superoffice_client import CONNECTION_SETTINGS, SuperOfficeConnection
from target_superoffice.dialect import SuperOfficeDialect


class TargetSuperOffice(PublishTarget):
    """Writes each stream to a SuperOffice entity with POST, PUT, PATCH, DELETE or UPSERT."""

    name = "target-superoffice"
    connection_class = SuperOfficeConnection
    dialect_class = SuperOfficeDialect
    config_jsonschema = th.PropertiesList(*CONNECTION_SETTINGS, *PUBLISH_SETTINGS).to_dict()


if __name__ == "__main__":
    TargetSuperOffice.cli()
