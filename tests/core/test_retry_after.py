from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from connector_core import parse_retry_after

NOW = datetime(2025, 3, 14, 12, 0, 0, tzinfo=timezone.utc)


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), ("0", 0.0), (" 7 ", 7.0), ("1.5", 1.5), ("0.25", 0.25)],
)
def test_delay_seconds(value: str, expected: float) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_negative_seconds_never_give_a_negative_wait() -> None:
    assert parse_retry_after("-5", now=NOW) == 0.0


def test_http_date_in_the_future() -> None:
    value = http_date(NOW + timedelta(seconds=90))
    assert value.endswith("GMT")
    assert parse_retry_after(value, now=NOW) == pytest.approx(90.0)


def test_http_date_in_the_past_means_now() -> None:
    assert parse_retry_after(http_date(NOW - timedelta(hours=1)), now=NOW) == 0.0


def test_http_date_without_explicit_now_uses_the_current_time() -> None:
    value = http_date(datetime.now(timezone.utc) + timedelta(seconds=30))
    wait = parse_retry_after(value)
    assert wait is not None
    assert 28.0 <= wait <= 30.0


def test_rfc850_and_asctime_dates_are_accepted() -> None:
    assert parse_retry_after("Friday, 14-Mar-25 12:00:10 GMT", now=NOW) == pytest.approx(10.0)
    assert parse_retry_after("Fri Mar 14 12:00:20 2025", now=NOW) == pytest.approx(20.0)


@pytest.mark.parametrize(
    "value", [None, "", "   ", "soon", "10s", "nan", "inf", "Fri, 99 Foo 2025"]
)
def test_absent_or_garbage_gives_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None
