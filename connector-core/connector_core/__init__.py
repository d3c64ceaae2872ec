"""Mechanisms shared by every connector of the suite.

* :mod:`connector_core.connection` - ``BaseConnection``, every vendor connection's base
  (settings, session, retry policy, timeout, limiter, error texts);
* :mod:`connector_core.retry` - retry policy (Retry-After, 429/5xx, network
  errors);
* :mod:`connector_core.streams` - ``VendorStream``, every tap's stream base (spec and
  connection wired once), and the singer-sdk mixin that applies the retry policy;
* :mod:`connector_core.ratelimit` - proactive rate limiter fed by the published
  budget and by the vendor's remaining/reset headers;
* :mod:`connector_core.progress` - a tap run's progress lines and end-of-run summary
  (records, requests, 429s and waits per stream);
* :mod:`connector_core.redaction` - secret masking for logs, errors and crashes;
* :mod:`connector_core.params` - request parameters and URL path templates;
* :mod:`connector_core.oauth` - OAuth with rotating refresh tokens: crash-safe
  token store, single-flight refresh across processes, interactive consent.
"""

from __future__ import annotations

from connector_core.connection import BaseConnection, ConnectionConfigError
from connector_core.oauth import (
    AuthorizationError,
    BearerAuth,
    OAuthError,
    OAuthRefresher,
    OAuthTokens,
    ReauthorizationRequired,
    TokenEndpointError,
    TokenStore,
    TokenStoreError,
    authorize,
    build_consent_url,
    default_is_dead_chain,
    default_is_too_early,
)
from connector_core.params import (
    InvalidRequestParamsError,
    MissingPathParameterError,
    RequestParams,
    UnknownPathParameterError,
    render_path,
    template_params,
)
from connector_core.progress import ProgressStreamMixin, RunProgress
from connector_core.ratelimit import BudgetExhausted, HeaderReader, RateLimiter, make_header_reader
from connector_core.redaction import (
    MASK,
    REDACTOR,
    RedactingFilter,
    SecretRedactor,
    install_log_redaction,
    redact,
    redact_exception,
    register_config_secrets,
)
from connector_core.retry import (
    RETRIABLE_EXCEPTIONS,
    RetriableHTTPError,
    RetriesExhaustedError,
    RetryPolicy,
    UnreachableError,
    UrlSetting,
    default_vendor_error,
    describe_request,
    parse_retry_after,
    unreachable_reason,
)
from connector_core.streams import ResilientRESTStreamMixin, VendorStream

__all__ = [
    "BaseConnection",
    "ConnectionConfigError",
    "BudgetExhausted",
    "MASK",
    "REDACTOR",
    "RETRIABLE_EXCEPTIONS",
    "AuthorizationError",
    "BearerAuth",
    "HeaderReader",
    "InvalidRequestParamsError",
    "MissingPathParameterError",
    "OAuthError",
    "OAuthRefresher",
    "OAuthTokens",
    "ProgressStreamMixin",
    "RateLimiter",
    "ReauthorizationRequired",
    "RedactingFilter",
    "RunProgress",
    "RequestParams",
    "ResilientRESTStreamMixin",
    "VendorStream",
    "RetriableHTTPError",
    "RetriesExhaustedError",
    "RetryPolicy",
    "SecretRedactor",
    "TokenEndpointError",
    "TokenStore",
    "TokenStoreError",
    "UnknownPathParameterError",
    "UnreachableError",
    "UrlSetting",
    "authorize",
    "build_consent_url",
    "default_is_dead_chain",
    "default_is_too_early",
    "default_vendor_error",
    "describe_request",
    "install_log_redaction",
    "make_header_reader",
    "parse_retry_after",
    "redact",
    "redact_exception",
    "register_config_secrets",
    "render_path",
    "template_params",
    "unreachable_reason",
]
