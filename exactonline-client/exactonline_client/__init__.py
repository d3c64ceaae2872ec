"""Exact Online REST API connection shared by tap-exactonline and target-exactonline."""

from exactonline_client.connection import (
    CONNECTION_SETTINGS,
    REGIONS,
    DivisionLimiter,
    ExactConfigError,
    ExactOnlineConnection,
    error_hint,
    origin_of,
    parse_exact_date,
    results_of,
)

__all__ = ["CONNECTION_SETTINGS", "REGIONS", "DivisionLimiter", "ExactConfigError",
           "ExactOnlineConnection", "error_hint", "origin_of", "parse_exact_date", "results_of"]
