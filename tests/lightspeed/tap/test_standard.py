"""singer-sdk's standard tap tests against the Lightspeed Retail X-Series emulator.

They run over the tap's default selection (the retail core: products, customers, sales,
inventory, outlets, registers) plus a custom stream on ``/search`` (closed sales, one page, its
schema the sale's): over all 26 catalog streams the per-attribute tests would number in the
thousands, and every stream is the same ``LightspeedStream`` class.

The emulator holds 30 products, 40 customers, 25 sales and 8 rows of every other table; product 3
and customer 3 are soft-deleted before the suite runs, so the tap's ``deleted=true`` pages bring
them with ``deleted_at`` set (a first run reads deleted rows like the others) and the schema tests
see that column used.

The suite runs the tap in-process several times (discovery, the connection test, one sync, the CLI
prints). A module-scoped fixture checks after the tests that every request was answered 200: no
401 (the token is right) and no 429 (the emulator's budget, 300 × registers + 50 per 5 minutes,
was never spent).
"""

from __future__ import annotations

import atexit

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_lightspeed.tap import TapLightspeed
from tests.lightspeed.tap.helpers import start_sandbox, tap_config

# One worker runs the whole module under `pytest -n 2 --dist loadgroup`: the class-scoped sync
# (and the module's emulator) is then made once, not once per worker.
pytestmark = pytest.mark.xdist_group("lightspeed_tap_standard")

DEFAULT_SELECTION = {"products", "customers", "sales", "inventory", "outlets", "registers"}
CUSTOM = "closed_sales"

SANDBOX = start_sandbox(seed=7, sizes={"/products": 30, "/customers": 40, "/sales": 25}, default_size=8)
atexit.register(SANDBOX.stop)
for table in ("/products", "/customers"):
    third = SANDBOX.store.row_id(table, 3)
    assert SANDBOX.delete(table, third), (table, third)

CONFIG = tap_config(
    SANDBOX,
    custom_streams=[{"name": CUSTOM, "endpoint": "/search", "query": {"type": "sales", "status": "CLOSED"},
                     "paging": "single"}],
)


class TapLightspeedDefaultSelection(TapLightspeed):
    """The tap with only its default-selected streams (and the custom one) discovered."""

    def discover_streams(self):
        return [s for s in super().discover_streams() if s.selected_by_default]


TestTapLightspeed = get_tap_test_class(
    TapLightspeedDefaultSelection,
    config=CONFIG,
    suite_config=SuiteConfig(max_records_limit=100),
)


def test_the_discovered_streams_are_the_default_selection_and_the_custom_one():
    tap = TapLightspeedDefaultSelection(config=CONFIG, parse_env_config=False)
    assert set(tap.streams) == DEFAULT_SELECTION | {CUSTOM}


@pytest.fixture(scope="module", autouse=True)
def every_request_answered_200():
    SANDBOX.reset_stats()
    yield
    log = SANDBOX.request_log()
    assert log, "no request reached the emulator"
    assert all(e["status"] == 200 for e in log), [(e["route"], e["status"]) for e in log if e["status"] != 200]
