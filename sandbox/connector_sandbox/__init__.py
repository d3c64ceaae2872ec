"""Vendor emulators (real HTTP servers on loopback) for testing the connector suite offline."""

from .quota import Quota, Window
from .server import Clock, Faults, SandboxServer

__all__ = ["Clock", "Faults", "Quota", "SandboxServer", "Window"]
