"""Settings validation: one sentence per problem naming the setting, the value and what is expected."""

from __future__ import annotations

import pytest
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from connector_core.settings import (
    ValidatedSettingsMixin,
    config_error,
    config_problems,
    setting_date_time,
)

SCHEMA = th.PropertiesList(
    th.Property("company_id", th.StringType, required=True, description="The login company."),
    th.Property("private_key", th.StringType, required=True, secret=True),
    th.Property("start_date", th.DateTimeType),
    th.Property("page_size", th.IntegerType(minimum=1, maximum=1000), default=1000),
    th.Property("region", th.StringType, allowed_values=["nl", "be"]),
    th.Property("mappings", th.ObjectType(additional_properties=th.ObjectType(
        th.Property("method", th.StringType),
        th.Property("path", th.ObjectType(additional_properties=th.StringType)),
    ))),
).to_dict()

GOOD = {"company_id": "acme", "private_key": "k3y-value"}


def problems(**settings) -> list[str]:
    return config_problems({**GOOD, **settings}, SCHEMA)


def test_a_good_config_has_no_problems():
    assert problems(start_date="2024-01-31T00:00:00Z", page_size=5, region="be",
                    mappings={"c": {"method": "POST", "path": {"id": "x"}}}) == []


@pytest.mark.parametrize(("settings", "expected"), [
    ({"page_size": "abc"}, 'page_size must be an integer between 1 and 1000; got "abc"'),
    ({"page_size": 5000}, "page_size must be between 1 and 1000; got 5000"),
    ({"page_size": 0}, "page_size must be between 1 and 1000; got 0"),
    ({"start_date": "yesterday"}, "start_date must be an ISO 8601 date-time such as "
                                  "2024-01-31T00:00:00Z (a date, or a date-time without offset, is "
                                  'read as UTC); got "yesterday"'),
    ({"start_date": 20240131}, "start_date must be an ISO 8601 date-time"),
    ({"region": "xx"}, 'region must be one of nl, be; got "xx"'),
    ({"company_id": None}, "company_id must be a string; got null"),
    ({"mappings": {"c": {"method": 5}}}, "mappings.c.method must be a string; got 5"),
    ({"mappings": {"c": {"path": {"id": 7}}}}, "mappings.c.path.id must be a string; got 7"),
    ({"mappings": {"c": "POST"}}, 'mappings.c must be an object; got "POST"'),
])
def test_each_problem_names_the_setting_the_value_and_what_is_expected(settings, expected):
    found = problems(**settings)
    assert len(found) == 1, found
    assert found[0].startswith(expected), found[0]


def test_a_missing_required_setting_is_named_with_its_description():
    config = {"private_key": "k3y-value"}
    assert config_problems(config, SCHEMA) == [
        "company_id is required but not set (The login company)"]


def test_a_secret_value_is_never_echoed():
    found = problems(private_key=987654321)
    assert found == ["private_key must be a string; got ***"]
    assert "987654321" not in found[0]


def test_every_problem_is_reported_in_setting_order():
    found = config_problems({"private_key": "k3y-value", "page_size": "x", "region": "xx"}, SCHEMA)
    assert [p.split(" ")[0] for p in found] == ["company_id", "page_size", "region"]


@pytest.mark.parametrize(("value", "read_as"), [
    ("2024-01-31T10:00:00Z", "2024-01-31T10:00:00Z"),
    ("2024-01-31T10:00:00+02:00", "2024-01-31T10:00:00+02:00"),
    ("2024-01-31T10:00:00.361143", "2024-01-31T10:00:00.361143Z"),  # Meltano's date_iso8601
    ("2024-01-31", "2024-01-31T00:00:00Z"),
    ("yesterday", None),
    ("2024-13-01", None),
    ("2024-02-30", None),
    ("2024-01-31T25:00:00Z", None),
    ("31/01/2024", None),
    ("", None),
])
def test_date_time_settings(value, read_as):
    assert setting_date_time(value) == read_as


class _Tap(ValidatedSettingsMixin, Tap):
    name = "tap-settings-test"
    config_jsonschema = SCHEMA
    checked: list[str] = []

    def check_settings(self) -> None:
        _Tap.checked.append("checked")
        if self.config.get("company_id") == "forbidden":
            raise config_error("company_id forbidden is not allowed here")

    def discover_streams(self) -> list:
        return []


def test_the_schema_is_enforced_even_when_singer_sdk_would_skip_it():
    """singer-sdk's --discover builds the tap with validate_config=False."""
    with pytest.raises(ConfigValidationError) as info:
        _Tap(config={**GOOD, "page_size": "abc"}, validate_config=False)
    assert info.value.errors == [str(info.value)]
    assert 'page_size must be an integer between 1 and 1000; got "abc"' in str(info.value)


def test_several_problems_make_one_numbered_message():
    with pytest.raises(ConfigValidationError) as info:
        _Tap(config={"private_key": "k3y-value", "page_size": 0, "region": "xx"})
    assert str(info.value).startswith("3 problems: (1) company_id is required but not set")
    assert "(2) page_size must be between 1 and 1000; got 0; (3) region must be" in str(info.value)
    assert "\n" not in str(info.value)


def test_the_plugins_own_checks_run_after_the_schema_passed():
    _Tap.checked.clear()
    with pytest.raises(ConfigValidationError):
        _Tap(config={**GOOD, "page_size": "abc"})
    assert _Tap.checked == []  # wrong types never reach the plugin's checks
    with pytest.raises(ConfigValidationError, match="company_id forbidden"):
        _Tap(config={**GOOD, "company_id": "forbidden"})
    assert _Tap.checked == ["checked"]


def test_a_date_or_naive_date_time_setting_is_read_as_utc():
    assert _Tap(config={**GOOD, "start_date": "2024-01-31"}).config["start_date"] == \
        "2024-01-31T00:00:00Z"
    assert _Tap(config={**GOOD, "start_date": "2024-01-31T10:00:00"}).config["start_date"] == \
        "2024-01-31T10:00:00Z"


def test_the_schemas_defaults_fill_the_config_as_singer_sdk_does():
    assert _Tap(config=dict(GOOD)).config["page_size"] == 1000
