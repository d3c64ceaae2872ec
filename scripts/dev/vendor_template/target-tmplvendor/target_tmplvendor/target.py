"""target-tmplvendor: publish records to any TMPL_SYSTEM entity, with method mapping.

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``; add the vendor's own target
settings (read
``TMPL_DOC`` for TMPL_SYSTEM) next to the connection's and the engine's.
"""

from __future__ import annotations

from singer_sdk import typing as th
from tmplvendor_client import CONNECTION_SETTINGS, TmplVendorConnection

from connector_core.publish import PUBLISH_SETTINGS, PublishTarget
from target_tmplvendor.dialect import TmplVendorDialect


class TargetTmplVendor(PublishTarget):
    """Writes each stream to a TMPL_SYSTEM entity with POST, PUT, PATCH, DELETE or UPSERT."""

    name = "target-tmplvendor"
    connection_class = TmplVendorConnection
    dialect_class = TmplVendorDialect
    config_jsonschema = th.PropertiesList(*CONNECTION_SETTINGS, *PUBLISH_SETTINGS).to_dict()


if __name__ == "__main__":
    TargetTmplVendor.cli()
