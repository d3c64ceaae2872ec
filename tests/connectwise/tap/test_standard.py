"""singer-sdk's standard tap tests against the ConnectWise sandbox.

They run over the default selection (19 streams, with child streams) plus a custom stream: the
generated per-stream and per-attribute tests would number in the tens of thousands over all 631
catalog streams; every catalog stream is exercised by test_catalog.py instead.
"""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_connectwise.tap import TapConnectWise
from tests.connectwise.tap.helpers import start_sandbox, tap_config

SANDBOX = start_sandbox(sizes={"/service/tickets": 60, "/company/companies": 20})
atexit.register(SANDBOX.stop)

CONFIG = tap_config(
    SANDBOX,
    start_date="2000-01-01T00:00:00Z",
    custom_streams=[
        {"name": "address_format_2", "endpoint": "/company/addressFormats/{id}", "path": {"id": 2},
         "paginate": False},
    ],
)


class TapConnectWiseDefaultSelection(TapConnectWise):
    """The tap with only its default-selected streams (and the custom one) discovered."""

    def discover_streams(self):
        return [s for s in super().discover_streams() if s.selected_by_default]


TestTapConnectWise = get_tap_test_class(
    TapConnectWiseDefaultSelection,
    config=CONFIG,
    suite_config=SuiteConfig(max_records_limit=200),
)
