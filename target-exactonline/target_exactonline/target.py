"""target-exactonline: publishes Singer streams to Exact Online entities."""

from __future__ import annotations

import threading
import typing as t
from functools import cached_property

import requests
from connector_core import RetryPolicy
from connector_core.publish import PublishTarget, publish_settings
from exactonline_client import CONNECTION_SETTINGS, ExactOnlineConnection
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecReader

from target_exactonline.dialect import ExactDialect, entities


class TargetExactOnline(PublishTarget):
    """Writes each stream to an Exact Online endpoint with POST, PUT, DELETE or UPSERT."""

    name = "target-exactonline"
    message_reader_class = MsgSpecReader
    config_jsonschema = th.PropertiesList(
        *CONNECTION_SETTINGS,
        th.Property("division", th.IntegerType,
                    description="Division to write to. Default: each record's `Division` field "
                                "(as tap-exactonline emits it), else the user's current division."),
        th.Property("error_allowance", th.IntegerType(minimum=1), default=8,
                    description="Errors (400/401/403/404) an endpoint may answer in an hour before "
                                "this run stops sending records to it (they are rejected unsent). "
                                "Exact blocks the endpoint for an hour after 10."),
        # Exact asks for sequential requests per division (§2.4); its 60-a-minute budget leaves
        # nothing to gain from more.
        *publish_settings(default_concurrency=1),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._current_division: int | None = None
        self._division_lock = threading.Lock()

    @cached_property
    def connection(self) -> ExactOnlineConnection:
        return ExactOnlineConnection.for_plugin(self)

    @property
    def session(self) -> requests.Session:
        return self.connection.session

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.connection.retry_policy

    def check_settings(self) -> None:
        super().check_settings()
        self.connection  # noqa: B018 - region/base_url and server_timezone make sense

    def default_division(self) -> int:
        if self.config.get("division") is not None:
            return int(self.config["division"])
        with self._division_lock:
            if self._current_division is None:
                self._current_division = self.connection.current_division()
                self.logger.info("Writing to the user's current division %s", self._current_division)
            return self._current_division

    def make_dialect(self) -> ExactDialect:
        return ExactDialect(self.connection, division=self.default_division,
                            fixed_division=self.config.get("division") is not None,
                            error_allowance=int(self.config.get("error_allowance", 8)),
                            logger=self.logger)

    def default_mapping(self, stream: str) -> t.Mapping[str, t.Any] | None:
        # A stream named like a tap-exactonline stream (crm_accounts) upserts its entity by key.
        path = entities()["streams"].get(stream)
        return {"entity": path, "method": "UPSERT"} if path else None


if __name__ == "__main__":
    TargetExactOnline.cli()
