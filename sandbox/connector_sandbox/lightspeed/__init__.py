"""Lightspeed Retail X-Series API emulator (``shared/vendors/superoffice-lightspeed-saleslayer.md`` §2)."""

from .emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TOKEN, LightspeedSandbox

__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "DEFAULT_TOKEN", "LightspeedSandbox"]
