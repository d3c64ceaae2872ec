"""The publish engine shared by every target: mapping, checks, upsert, results and rejects."""

from connector_core.publish.dialect import EntitiesDialect
from connector_core.publish.engine import (
    FoundObject,
    PublishDialect,
    Publisher,
    PublishError,
    PublishItem,
    Reject,
    Request,
    parse_datetime,
)
from connector_core.publish.journal import Journal, canonical_json, fingerprint
from connector_core.publish.mapping import METHODS, MappingError, StreamMapping
from connector_core.publish.target import PUBLISH_SETTINGS, PublishSink, PublishTarget, publish_settings

__all__ = [
    "METHODS",
    "EntitiesDialect",
    "FoundObject",
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
    "parse_datetime",
    "publish_settings",
]
