"""target-connectwise: publish records to any ConnectWise Manage entity, with method mapping."""

from __future__ import annotations

import typing as t
from functools import cached_property

import requests
from connectwise_client import CONNECTION_SETTINGS, ConnectWiseConnection
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecReader

from connector_core import RateLimiter, RetryPolicy
from connector_core.publish import PUBLISH_SETTINGS, PublishTarget

from target_connectwise.dialect import ConnectWiseDialect, entities


class TargetConnectWise(PublishTarget):
    """Writes each stream to a ConnectWise entity with POST, PUT, PATCH, DELETE or UPSERT."""

    name = "target-connectwise"
    message_reader_class = MsgSpecReader
    config_jsonschema = th.PropertiesList(*CONNECTION_SETTINGS, *PUBLISH_SETTINGS).to_dict()

    @cached_property
    def connection(self) -> ConnectWiseConnection:
        return ConnectWiseConnection.for_plugin(self)

    @property
    def session(self) -> requests.Session:
        return self.connection.session

    @property
    def rate_limiter(self) -> RateLimiter:
        return self.connection.rate_limiter

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.connection.retry_policy

    def check_settings(self) -> None:
        super().check_settings()
        self.connection  # noqa: B018 - the connection settings (site, base_url) make sense

    def make_dialect(self) -> ConnectWiseDialect:
        return ConnectWiseDialect(self.connection)

    def default_mapping(self, stream: str) -> t.Mapping[str, t.Any] | None:
        # A stream named like a tap-connectwise stream (company_companies) upserts its entity.
        path = entities()["streams"].get(stream)
        return {"entity": path, "method": "UPSERT"} if path else None


if __name__ == "__main__":
    TargetConnectWise.cli()
