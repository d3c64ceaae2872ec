"""singer-sdk's standard tap tests against the Sales Layer emulator.

The emulator serves its export connector's four tables (catalogue, products, product_formats and the
custom table brands) with their multilingual, image and file columns; product 3 is deleted before
the suite runs, so that the sync's answer is a full one (a first run has no ``last_update``: Sales
Layer then sends the rows, never a ``D`` row). A module-scoped check after the tests: every call
was answered without an ``error`` code other than 0 (the emulator logs errors as HTTP 200, so the
request log's statuses are read together with its error counter).
"""

from __future__ import annotations

import atexit

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_saleslayer.tap import TapSalesLayer
from tests.saleslayer.tap.helpers import start_sandbox, tap_config

pytestmark = pytest.mark.xdist_group("saleslayer_tap_standard")

SANDBOX = start_sandbox(seed=7, sizes={"catalogue": 5, "products": 30, "product_formats": 20, "brands": 4})
atexit.register(SANDBOX.stop)
assert SANDBOX.delete("products", 3)

TestTapSalesLayer = get_tap_test_class(
    TapSalesLayer,
    config=tap_config(SANDBOX, page_size=500),
    suite_config=SuiteConfig(max_records_limit=100),
)


def test_every_call_was_answered_without_an_error():
    assert all(entry["status"] == 200 for entry in SANDBOX.request_log())
    assert SANDBOX.counters["temporary_errors"] == 0
