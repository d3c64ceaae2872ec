"""The publish engine shared by every target: mapping, checks, upsert, results and rejects."""

from connector_core.publish.engine import (
    PublishDialect,
    Publisher,
    PublishError,
    PublishItem,
    Reject,
    Request,
)
from connector_core.publish.journal import Journal, canonical_json, fingerprint
from connector_core.publish.mapping import METHODS, MappingError, StreamMapping
from connector_core.publish.target import PUBLISH_SETTINGS, PublishSink, PublishTarget, publish_settings

__all__ = [
    "METHODS",
    "PUBLISH_SETTINGS",
    "Journal",
    "MappingError",
    "PublishDialect",
    "PublishError",
    "PublishItem",
    "PublishSink",
    "PublishTarget",
    "Publisher",
    "Reject",
    "Request",
    "StreamMapping",
    "canonical_json",
    "fingerprint",
    "publish_settings",
]
