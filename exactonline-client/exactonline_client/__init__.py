"""Exact Online REST API connection shared by tap-exactonline and target-exactonline."""

from exactonline_client.connection import (
    CONNECTION_SETTINGS,
    GUID_RE,
    REGIONS,
    SYNC_TIMESTAMP_ENDPOINTS,
    DivisionLimiter,
    ExactConfigError,
    ExactOnlineConnection,
    SyncTimestampUnavailable,
    error_hint,
    odata_literal,
    origin_of,
    parse_exact_date,
    results_of,
    server_timezone,
    sync_timestamp_endpoint,
    to_server_datetime,
)

__all__ = ["CONNECTION_SETTINGS", "GUID_RE", "REGIONS", "SYNC_TIMESTAMP_ENDPOINTS",
           "DivisionLimiter", "ExactConfigError", "ExactOnlineConnection", "SyncTimestampUnavailable",
           "error_hint", "odata_literal", "origin_of", "parse_exact_date", "results_of",
           "server_timezone", "sync_timestamp_endpoint", "to_server_datetime"]
