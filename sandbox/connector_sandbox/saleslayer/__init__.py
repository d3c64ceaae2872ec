"""Sales Layer (PIM) classic connector API (1.17 / 1.18) emulator: see :mod:`.emulator`."""

from .emulator import (
    DEFAULT_CONNECTOR_ID,
    DEFAULT_IMPORT_CONNECTOR_ID,
    DEFAULT_IMPORT_PRIVATE_KEY,
    DEFAULT_PRIVATE_KEY,
    SalesLayerSandbox,
)

__all__ = ["DEFAULT_CONNECTOR_ID", "DEFAULT_IMPORT_CONNECTOR_ID", "DEFAULT_IMPORT_PRIVATE_KEY", "DEFAULT_PRIVATE_KEY",
           "SalesLayerSandbox"]
