"""ConnectWise Manage REST API client shared by tap-connectwise and target-connectwise."""

from connectwise_client.connection import (
    AUTH_HINT,
    CLIENT_ID_HINT,
    CONNECTION_SETTINGS,
    ConnectWiseAuth,
    ConnectWiseConfigError,
    ConnectWiseConnection,
    error_hint,
    resolve_base_url,
    site_origin,
)

__all__ = [
    "AUTH_HINT",
    "CLIENT_ID_HINT",
    "CONNECTION_SETTINGS",
    "ConnectWiseAuth",
    "ConnectWiseConfigError",
    "ConnectWiseConnection",
    "error_hint",
    "resolve_base_url",
    "site_origin",
]
