"""tap-connectwise: a Singer tap for ConnectWise Manage (PSA)."""

from __future__ import annotations

import dataclasses
import typing as t
from functools import cached_property

import requests
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError

from connector_core import (
    REDACTOR,
    RateLimiter,
    RequestParams,
    RetryPolicy,
    install_log_redaction,
    template_params,
)

from tap_connectwise import catalog
from tap_connectwise.auth import ConnectWiseAuth, resolve_base_url
from tap_connectwise.client import ConnectWiseStream

MAX_PAGE_SIZE = 1000  # developer guide, Pagination: "max 1000"

CUSTOM_STREAM = th.ObjectType(
    th.Property("name", th.StringType, required=True, description="Stream name."),
    th.Property(
        "endpoint",
        th.StringType,
        required=True,
        description="Endpoint template below the API base, e.g. `/company/addressFormats/{id}`.",
    ),
    th.Property("path", th.ObjectType(), description="Values for the endpoint's `{params}`."),
    th.Property("query", th.ObjectType(), description="Query parameters, e.g. `conditions`."),
    th.Property("paginate", th.BooleanType, default=True, description="Follow pages."),
    th.Property("primary_keys", th.ArrayType(th.StringType), description="Default: `id` if any."),
    th.Property(
        "replication_key",
        th.StringType,
        description="`lastUpdated` for an incremental read (the endpoint's items need `_info`).",
    ),
    th.Property("schema", th.ObjectType(), description="JSON schema, for endpoints not in the catalog."),
)


class TapConnectWise(Tap):
    """Reads every ConnectWise Manage list endpoint, plus endpoints declared in config."""

    name = "tap-connectwise"
    message_writer_class = MsgSpecWriter

    config_jsonschema = th.PropertiesList(
        th.Property("company_id", th.StringType, required=True,
                    description="ConnectWise company id (the login company)."),
        th.Property("public_key", th.StringType, required=True, secret=True,
                    description="API member public key."),
        th.Property("private_key", th.StringType, required=True, secret=True,
                    description="API member private key."),
        th.Property("client_id", th.StringType, required=True, secret=True,
                    description="Integration clientId (a GUID from developer.connectwise.com), "
                                "sent as the `clientId` header."),
        th.Property("site", th.StringType, default="api-na.myconnectwise.net",
                    description="`na`, `eu`, `au`, `staging`, a host (`api-eu.myconnectwise.net`, an "
                                "on-premise host) or an origin URL (`http://127.0.0.1:8081`)."),
        th.Property("codebase", th.StringType,
                    description="Codebase such as `v4_6_release/`; default: looked up through "
                                "`/login/companyinfo/{company_id}`."),
        th.Property("base_url", th.StringType,
                    description="Full API base URL (`https://host/v4_6_release/apis/3.0`); "
                                "overrides `site` and `codebase`."),
        th.Property("api_version", th.StringType, default="2025.1",
                    description="API version pinned in the Accept header; empty for the latest."),
        th.Property("start_date", th.DateTimeType,
                    description="Earliest `lastUpdated` to read on a first incremental run."),
        th.Property("page_size", th.IntegerType, default=MAX_PAGE_SIZE,
                    description="Rows per page, 1 to 1000."),
        th.Property("conditions", th.ObjectType(additional_properties=th.StringType),
                    description="Per stream, ConnectWise `conditions` ANDed with the incremental "
                                "filter, e.g. `{\"service_tickets\": \"closedFlag = false\"}`."),
        th.Property("custom_streams", th.ArrayType(CUSTOM_STREAM),
                    description="Extra streams: endpoint template plus `path` and `query` values."),
        th.Property("requests_per_minute", th.IntegerType, default=1000,
                    description="Request budget the tap keeps to (ConnectWise throttles above "
                                "about 1,000 a minute)."),
        th.Property("max_retries", th.IntegerType, default=8,
                    description="Tries per request on 429, 5xx, timeouts and dropped connections."),
        th.Property("request_timeout", th.IntegerType, default=300,
                    description="Seconds to wait for one response."),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        install_log_redaction()
        super().__init__(*args, **kwargs)

    # -- config ----------------------------------------------------------------------------------
    def _validate_extra_config(self) -> None:
        size = self.config.get("page_size", MAX_PAGE_SIZE)
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise _config_error(
                f"page_size must be between 1 and {MAX_PAGE_SIZE} (ConnectWise rejects larger "
                f"pages); got {size}"
            )
        for key in ("requests_per_minute", "max_retries", "request_timeout"):
            if key in self.config and self.config[key] < 1:
                raise _config_error(f"{key} must be at least 1; got {self.config[key]}")

    # -- shared by every stream --------------------------------------------------------------------
    @cached_property
    def auth(self) -> ConnectWiseAuth:
        return ConnectWiseAuth.from_config(self.config)

    @cached_property
    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers["User-Agent"] = self.config.get("user_agent", f"{self.name}/{self.plugin_version}")
        return session

    @cached_property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_tries=int(self.config.get("max_retries", 8)))

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        return RateLimiter(int(self.config.get("requests_per_minute", 1000)), 60.0,
                           name="connectwise", logger=self.logger)

    @cached_property
    def base_url(self) -> str:
        REDACTOR.add(self.config.get("private_key"), self.config.get("client_id"))
        return resolve_base_url(self.config, self.session, self.retry_policy, self.logger)

    def auth_error_hint(self) -> str:
        return (
            "ConnectWise refused the credentials: check the `company_id`, `public_key` and "
            "`private_key` settings (sent as Basic company_id+public_key:private_key, keys of an "
            "active API member) and the `client_id` setting (the integration's clientId); "
            "a 403 means the member's security role lacks access to this endpoint"
        )

    def stream_conditions(self, stream_name: str) -> str | None:
        return (self.config.get("conditions") or {}).get(stream_name)

    def custom_path_values(self, stream_name: str) -> t.Mapping[str, t.Any]:
        params = self._custom_params.get(stream_name)
        return params.path if params else {}

    def custom_query_values(self, stream_name: str) -> t.Mapping[str, t.Any]:
        params = self._custom_params.get(stream_name)
        return params.query if params else {}

    @cached_property
    def _custom_params(self) -> dict[str, RequestParams]:
        return {
            entry["name"]: _request_params(entry, f"custom_streams[{i}]")
            for i, entry in enumerate(self.config.get("custom_streams") or [])
        }

    # -- streams ---------------------------------------------------------------------------------
    def discover_streams(self) -> list[ConnectWiseStream]:
        self._validate_extra_config()
        specs = catalog.stream_specs()
        streams: dict[str, ConnectWiseStream] = {}
        classes: dict[str, type[ConnectWiseStream]] = {}
        for spec in specs:
            attrs: dict[str, t.Any] = {}
            if spec.parent:
                attrs["parent_stream_type"] = classes[spec.parent]
            cls = type(_class_name(spec.name), (ConnectWiseStream,), attrs)
            classes[spec.name] = cls
            streams[spec.name] = cls(self, spec, catalog.json_schema(spec))
        for stream in self._custom_streams(set(streams)):
            streams[stream.name] = stream
        unknown = sorted(set(self.config.get("conditions") or {}) - set(streams))
        if unknown:
            raise _config_error(f"conditions names unknown streams: {', '.join(unknown)}")
        return list(streams.values())

    def _custom_streams(self, taken: set[str]) -> list[ConnectWiseStream]:
        out = []
        for i, entry in enumerate(self.config.get("custom_streams") or []):
            where = f"custom_streams[{i}]"
            name, endpoint = entry["name"], entry["endpoint"]
            if name in taken:
                raise _config_error(f"{where}.name {name!r} is already a stream name")
            taken.add(name)
            if not endpoint.startswith("/"):
                raise _config_error(f"{where}.endpoint must start with '/'; got {endpoint!r}")
            params = _request_params(entry, where)
            missing = [p for p in template_params(endpoint) if p not in params.path]
            if missing:
                raise _config_error(
                    f"{where}.endpoint {endpoint!r} needs path value(s) {', '.join(missing)} in "
                    f"{where}.path"
                )
            model = catalog.model_for_endpoint(endpoint)
            replication_key = entry.get("replication_key")
            spec = catalog.StreamSpec(
                name=name,
                path=endpoint,
                model=model,
                replication_key=replication_key,
                paginate=entry.get("paginate", True),
                selected_by_default=True,  # declared by the user, so wanted
                cursor_is_model_field=bool(
                    model and replication_key
                    and replication_key in catalog.load()["schemas"][model]["properties"]
                ),
            )
            if entry.get("schema"):
                schema = entry["schema"]
            elif model:
                schema = catalog.json_schema(spec)
            else:
                raise _config_error(
                    f"{where}.endpoint {endpoint!r} is not a GET endpoint of the ConnectWise "
                    f"catalog; give its JSON schema in {where}.schema"
                )
            keys = entry.get("primary_keys")
            if keys is None:
                keys = ["id"] if "id" in schema.get("properties", {}) else []
            spec = dataclasses.replace(spec, primary_keys=tuple(keys))
            out.append(ConnectWiseStream(self, spec, schema))
        return out


def _config_error(message: str) -> ConfigValidationError:
    # singer-sdk's CLI logs ``errors``, not the message, of a ConfigValidationError.
    return ConfigValidationError(message, errors=[message])


def _request_params(entry: t.Mapping[str, t.Any], where: str) -> RequestParams:
    try:
        return RequestParams.from_config(
            {k: entry[k] for k in ("path", "query") if entry.get(k) is not None}, where=where
        )
    except ValueError as exc:
        raise _config_error(str(exc)) from None


def _class_name(stream_name: str) -> str:
    return "".join(part.title() for part in stream_name.split("_")) + "Stream"


if __name__ == "__main__":
    TapConnectWise.cli()
