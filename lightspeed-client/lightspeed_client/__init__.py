"""Lightspeed (retail POS) API client shared by tap-lightspeed and target-lightspeed.

TODO(lightspeed): scaffolded by ``scripts/dev/new_vendor.py``; read shared/vendors/superoffice-lightspeed-saleslayer.md.
"""

from lightspeed_client.connection import (
    AUTH_HINT,
    CONNECTION_SETTINGS,
    LightspeedAuth,
    LightspeedConnection,
    error_message,
)

__all__ = ["AUTH_HINT", "CONNECTION_SETTINGS", "LightspeedAuth", "LightspeedConnection", "error_message"]
