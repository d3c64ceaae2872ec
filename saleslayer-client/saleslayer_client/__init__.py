"""Sales Layer (PIM) API client shared by tap-saleslayer and target-saleslayer.

TODO(saleslayer): scaffolded by ``scripts/dev/new_vendor.py``; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""

from saleslayer_client.connection import (
    AUTH_HINT,
    CONNECTION_SETTINGS,
    SalesLayerAuth,
    SalesLayerConnection,
    error_message,
)

__all__ = ["AUTH_HINT", "CONNECTION_SETTINGS", "SalesLayerAuth", "SalesLayerConnection", "error_message"]
