"""SuperOffice (CRM) API client shared by tap-superoffice and target-superoffice.

TODO(superoffice): scaffolded by ``scripts/dev/new_vendor.py``; read
shared/vendors/superoffice-lightspeed-saleslayer.md.
"""

from superoffice_client.connection import (
    AUTH_HINT,
    CONNECTION_SETTINGS,
    SuperOfficeAuth,
    SuperOfficeConnection,
    error_message,
)

__all__ = ["AUTH_HINT", "CONNECTION_SETTINGS", "SuperOfficeAuth", "SuperOfficeConnection", "error_message"]
