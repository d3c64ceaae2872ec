"""ConnectWise Manage (PSA) REST API 3.0 emulator."""

from .emulator import DEFAULT_CLIENT_ID, DEFAULT_COMPANY_ID, DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY, ConnectWiseSandbox

__all__ = ["ConnectWiseSandbox", "DEFAULT_CLIENT_ID", "DEFAULT_COMPANY_ID", "DEFAULT_PRIVATE_KEY",
           "DEFAULT_PUBLIC_KEY"]
