"""Settings validation: every plugin's config checked against its own schema before anything runs.

:class:`ValidatedSettingsMixin` replaces singer-sdk's config validation in a tap or target:

* it validates in every mode: singer-sdk skips validation for ``--discover`` (``validate_config=
  cls.dynamic_catalog``, False), so a bad value used to surface later as a traceback
  (``page_size: "abc"`` ended in ``TypeError: '<=' not supported``);
* formats are checked: a ``date-time`` must be one (``rfc3339-validator``, the checker
  jsonschema itself uses), so ``"yesterday"`` is refused. A date (``2024-01-31``) and a date-time
  without offset (what Meltano passes for a ``date_iso8601`` setting given as ``yesterday``) are
  accepted and read as UTC: the setting is rewritten with its ``Z``, so that every reader agrees;
* ranges (``minimum``/``maximum``) and allowed values come from the schema itself;
* the plugin's own checks (:meth:`ValidatedSettingsMixin.check_settings`) run next, on values
  that already have the right types;
* each problem is one sentence naming the setting (``mappings.companies.method``), the value
  (masked for settings marked secret) and what is expected, e.g.
  ``page_size must be between 1 and 1000; got 5000``. All problems go in one line.
"""

from __future__ import annotations

import ast
import json
import re
import typing as t
from datetime import date, datetime, timezone

import jsonschema
from dateutil.parser import isoparse
from rfc3339_validator import validate_rfc3339
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR, extend_validator_with_defaults

from connector_core.redaction import MASK, REDACTOR, redact, register_config_secrets

__all__ = [
    "ValidatedSettingsMixin",
    "aware_datetime",
    "config_error",
    "config_problems",
    "describe_value",
    "setting_date_time",
]

_MAX_VALUE_CHARS = 80

_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}

_FORMAT_NAMES = {
    "date-time": "an ISO 8601 date-time such as 2024-01-31T00:00:00Z (a date, or a date-time "
                 "without offset, is read as UTC)",
    "date": "a date such as 2024-01-31",
    "email": "an e-mail address",
    "uri": "a URL",
}


def config_error(message: str) -> ConfigValidationError:
    """A config error whose message the CLI prints (singer-sdk logs ``errors``, not the message)."""
    return ConfigValidationError(message, errors=[message])


_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}:\d{2})$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def setting_date_time(value: str) -> str | None:
    """``value`` as an RFC 3339 date-time, or None when it is not a date-time at all.

    ``2024-01-31T10:00:00+02:00`` stays as it is; a date-time without offset
    (``2024-01-31T10:00:00.5``, as Meltano passes a ``date_iso8601`` setting it parsed) and a
    date (``2024-01-31``) are read as UTC and get their ``Z``. ``yesterday`` gives None.
    """
    if _DATE_ONLY.match(value):
        try:
            date.fromisoformat(value)
        except ValueError:
            return None
        return f"{value}T00:00:00Z"
    candidate = value if _OFFSET.search(value) else value + "Z"
    return candidate if validate_rfc3339(candidate) else None


def aware_datetime(value: t.Any) -> datetime | None:
    """A date-time setting or bookmark (``2024-01-31T10:00:00Z``) as an aware datetime: UTC when
    written without a zone; None when there is none (None or empty)."""
    if not value:
        return None
    moment = isoparse(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _format_checker(validator_class: type) -> jsonschema.FormatChecker:
    """The schema draft's format checks, with ``date-time`` as :func:`setting_date_time` reads it."""
    base = getattr(validator_class, "FORMAT_CHECKER", None) or jsonschema.FormatChecker()
    checker = jsonschema.FormatChecker(formats=base.checkers)  # a copy: the global one is kept
    checker.checks("date-time")(lambda v: not isinstance(v, str) or setting_date_time(v) is not None)
    return checker


def _normalize_date_times(config: dict[str, t.Any], schema: t.Mapping[str, t.Any]) -> None:
    """Give each top-level date-time setting its explicit offset (a date or naive value: UTC)."""
    for key, prop in (schema.get("properties") or {}).items():
        value = config.get(key)
        if isinstance(prop, t.Mapping) and prop.get("format") == "date-time" and \
                isinstance(value, str):
            config[key] = setting_date_time(value) or value


def describe_value(value: t.Any, *, secret: bool = False) -> str:
    """``value`` as the user wrote it in JSON, shortened; ``***`` for a secret."""
    if secret:
        return MASK
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 1] + "…"
    return redact(text)


def _subschema(schema: t.Mapping[str, t.Any], path: t.Sequence[t.Any]) -> list[t.Mapping]:
    """The schemas met walking ``path`` down from ``schema`` (the root first)."""
    met = [schema]
    node: t.Any = schema
    for part in path:
        if not isinstance(node, t.Mapping):
            break
        if isinstance(part, int):
            node = node.get("items")
        else:
            props = node.get("properties") or {}
            if part in props:
                node = props[part]
            elif isinstance(node.get("additionalProperties"), t.Mapping):
                node = node["additionalProperties"]
            else:
                node = None
        if not isinstance(node, t.Mapping):
            break
        met.append(node)
    return met


def _is_secret(schemas: t.Sequence[t.Mapping]) -> bool:
    return any(s.get("secret") or s.get("writeOnly") for s in schemas)


def _setting_name(path: t.Sequence[t.Any]) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _types(schema: t.Mapping[str, t.Any]) -> list[str]:
    kind = schema.get("type")
    kinds = [kind] if isinstance(kind, str) else list(kind or [])
    return [k for k in kinds if k != "null"]


def _expected(schema: t.Mapping[str, t.Any]) -> str:
    """What a value of ``schema`` looks like: ``an integer between 1 and 1000``."""
    kinds = _types(schema)
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"] if v is not None)
    if schema.get("format") in _FORMAT_NAMES:
        return _FORMAT_NAMES[schema["format"]]
    text = " or ".join(_TYPE_NAMES.get(k, k) for k in kinds) or "a value"
    bounds = _bounds(schema)
    return f"{text} {bounds}" if bounds else text


def _bounds(schema: t.Mapping[str, t.Any]) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"between {low} and {high}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    if schema.get("exclusiveMinimum") is not None:
        return f"above {schema['exclusiveMinimum']}"
    if schema.get("exclusiveMaximum") is not None:
        return f"below {schema['exclusiveMaximum']}"
    return ""


def _missing_property(error: jsonschema.ValidationError) -> str:
    """The property a ``required`` error is about (jsonschema: ``'name' is a required property``)."""
    quoted = error.message.rsplit(" is a required property", 1)[0]
    try:
        return str(ast.literal_eval(quoted))
    except (ValueError, SyntaxError):
        return quoted.strip("'\"")


def describe_error(error: jsonschema.ValidationError, root_schema: t.Mapping[str, t.Any]) -> str:
    """One sentence for one schema violation: the setting, what it must be, the value."""
    path = list(error.absolute_path)
    if error.validator == "required":
        name = _missing_property(error)
        schemas = _subschema(root_schema, [*path, name])
        described = schemas[-1].get("description") if len(schemas) > len(path) + 1 else None
        about = f" ({described.rstrip('.')})" if described else ""
        return f"{_setting_name([*path, name])} is required but not set{about}"
    schemas = _subschema(root_schema, path)
    schema = schemas[-1] if len(schemas) == len(path) + 1 else error.schema
    setting = _setting_name(path) or "the config"
    got = describe_value(error.instance, secret=_is_secret(schemas))
    keyword = error.validator
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{setting} must be {_bounds(schema) or _bounds(error.schema)}; got {got}"
    if keyword == "format":
        return f"{setting} must be {_FORMAT_NAMES.get(error.validator_value, error.validator_value)}; got {got}"
    if keyword == "enum":
        return f"{setting} must be {_expected(error.schema)}; got {got}"
    if keyword == "type":
        return f"{setting} must be {_expected(schema)}; got {got}"
    if keyword == "additionalProperties":
        allowed = ", ".join(error.schema.get("properties") or {})
        unknown = sorted(set(error.instance) - set(error.schema.get("properties") or {}))
        return (f"{setting} has unknown key(s) {', '.join(unknown)}"
                + (f"; expected {allowed}" if allowed else ""))
    # Anything else (pattern, minItems, ...): jsonschema's own words, the value masked if secret.
    detail = error.message if not _is_secret(schemas) else f"{keyword} {error.validator_value!r}"
    return f"{setting} is not valid: {redact(detail)}"


def config_problems(config: t.Mapping[str, t.Any], schema: t.Mapping[str, t.Any], *,
                    fill_defaults: bool = False) -> list[str]:
    """Every way ``config`` breaks ``schema`` (types, formats, ranges, required), one sentence each.

    Formats are checked (``date-time`` with ``rfc3339-validator``). Sorted by setting name so the
    same config always gives the same message. With ``fill_defaults`` the schema's defaults are
    written into ``config`` as singer-sdk's own validation does (``self.config`` has them then).
    """
    validator_class = DEFAULT_JSONSCHEMA_VALIDATOR
    if fill_defaults:
        validator_class = extend_validator_with_defaults(validator_class)
    validator = validator_class(schema, format_checker=_format_checker(DEFAULT_JSONSCHEMA_VALIDATOR))
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    problems: list[str] = []
    for error in errors:
        # A value of the wrong type also breaks its other keywords: say the type once.
        text = describe_error(error, schema)
        if text not in problems:
            problems.append(text)
    return problems


class ValidatedSettingsMixin:
    """Put it before ``Tap``/``Target``: the config is validated in every mode, one clear line.

    Override :meth:`check_settings` for checks a JSON schema cannot say (a mapping's semantics, a
    connection's URL); raise :func:`config_error` there.
    """

    config_jsonschema: t.ClassVar[dict]
    _config: dict

    def check_settings(self) -> None:
        """The plugin's own checks, after the schema passed; raise :func:`config_error`."""

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:  # noqa: ARG002
        # singer-sdk passes raise_errors=False for --discover; bad settings fail there too.
        schema = self.config_jsonschema
        self.append_builtin_config(schema)  # type: ignore[attr-defined]
        # Secrets are known before any message can echo them.
        register_config_secrets(self._config, schema, REDACTOR)
        problems = config_problems(self._config, schema, fill_defaults=True)
        if problems:
            message = problems[0] if len(problems) == 1 else f"{len(problems)} problems: " + \
                " ".join(f"({n}) {problem};" for n, problem in enumerate(problems, 1))[:-1]
            raise ConfigValidationError(message, errors=[message], schema=schema)
        _normalize_date_times(self._config, schema)
        self.check_settings()
        return []
