"""Exact Online REST API emulator (OAuth, divisions, regular/bulk/sync endpoints, budgets, writes)."""

from .emulator import (
                       DEFAULT_CLIENT_ID,
                       DEFAULT_CLIENT_SECRET,
                       DEFAULT_DIVISIONS,
                       DEFAULT_INACCESSIBLE,
                       ExactOnlineSandbox,
)

__all__ = ["ExactOnlineSandbox", "DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "DEFAULT_DIVISIONS",
           "DEFAULT_INACCESSIBLE"]
