"""TMPL_SYSTEM API client shared by tap-tmplvendor and target-tmplvendor."""

from tmplvendor_client.connection import (
    AUTH_HINT,
    CONNECTION_SETTINGS,
    TmplVendorAuth,
    TmplVendorConnection,
    error_message,
)

__all__ = ["AUTH_HINT", "CONNECTION_SETTINGS", "TmplVendorAuth", "TmplVendorConnection", "error_message"]
