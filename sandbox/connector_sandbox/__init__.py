"""Vendor emulators (real HTTP servers on loopback) for testing the connector suite offline."""

from .server import Clock, Faults, RateLimiter, SandboxServer

__all__ = ["Clock", "Faults", "RateLimiter", "SandboxServer"]
