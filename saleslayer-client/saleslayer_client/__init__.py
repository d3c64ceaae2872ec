"""The Sales Layer (PIM) connection shared by tap-saleslayer and target-saleslayer."""

from saleslayer_client.connection import (
    API_VERSIONS,
    CONNECTION_SETTINGS,
    DEFAULT_API_URL,
    ERRORS,
    SalesLayerConnection,
    SalesLayerError,
    SalesLayerRetriableError,
    decode,
    sign,
)

__all__ = ["API_VERSIONS", "CONNECTION_SETTINGS", "DEFAULT_API_URL", "ERRORS", "SalesLayerConnection",
           "SalesLayerError", "SalesLayerRetriableError", "decode", "sign"]
