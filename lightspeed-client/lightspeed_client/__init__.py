"""Lightspeed Retail X-Series API client shared by tap-lightspeed and target-lightspeed."""

from lightspeed_client.connection import (
    CONNECTION_SETTINGS,
    LightspeedConnection,
    PersonalTokenAuth,
    api_root_of,
    error_message,
)

__all__ = ["CONNECTION_SETTINGS", "LightspeedConnection", "PersonalTokenAuth", "api_root_of", "error_message"]
