"""TMPL_SYSTEM API client shared by tap-tmplvendor and target-tmplvendor.

TODO(tmplvendor): scaffolded by ``scripts/dev/new_vendor.py``; read
TMPL_DOC.
"""

from tmplvendor_client.connection import (
    AUTH_HINT,
    CONNECTION_SETTINGS,
    TmplVendorConnection,
    error_message,
)

__all__ = ["AUTH_HINT", "CONNECTION_SETTINGS", "TmplVendorConnection", "error_message"]
