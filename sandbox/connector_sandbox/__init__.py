"""Vendor emulators (real HTTP servers on loopback) for testing the connector suite offline.

The kit every emulator is built on (see the README's "Adding a vendor's emulator"): the server, the
seeded lazy store, the control plane, the OAuth authorization server, quotas and the registry of
emulators the command line runs. The vendors' emulators are the subpackages.
"""

from .clock import Clock
from .control import Rows
from .faults import Faults
from .oauth import AuthorizationServer, OAuthControl, OAuthError, TokenRules
from .quota import ErrorAllowance, Quota, Window
from .registry import Emulator
from .server import SandboxServer
from .store import LazyStore, Listing, Overlay

__all__ = ["AuthorizationServer", "Clock", "Emulator", "ErrorAllowance", "Faults", "LazyStore", "Listing",
           "OAuthControl", "OAuthError", "Overlay", "Quota", "Rows", "SandboxServer", "TokenRules", "Window"]
