"""singer-sdk's standard tap tests against the Exact Online sandbox.

They run over the streams meltano.yml selects for tap-exactonline (crm_accounts, crm_contacts,
financial_glaccounts, financial_transactionlines, logistics_items, salesinvoice_salesinvoices,
deleted) plus a custom stream on a read/ function (``/read/financial/ReceivablesList``): over
all 286 catalog streams (7,271 properties) the generated per-stream and per-attribute tests would
number in the thousands, and every stream is the same ``ExactStream`` class. This selection reads
sync endpoints and a read/ function; regular and bulk endpoints are read by
test_streams.py and its neighbours.

The suite runs the tap in-process many times (discovery, connection test, one sync, the CLI
prints) on one token store seeded from ``sandbox.issue_tokens()``. The access token lives 600 s
on the emulator's clock and the tap refreshes it only when less than 30 s are left, i.e. from
570 s on, exactly when the emulator allows a refresh (``min_refresh_age``): the suite takes far
less, so no refresh is needed, and if one were, it would be allowed and its rotated refresh token
kept in the store for the next tap instance. A module-scoped fixture seeds the store again when
the module's tests start (in a full run, collection can be minutes earlier) and checks after them
that no refresh happened and that every request was answered 200: no 401, and no 429 (the
suite's 16 requests, a connection test and a sync of 8 streams, stay within the emulator's 60 a
minute).

``sync/Deleted`` only has rows after deletions, so one row of each selected stream that Exact
tracks deletions of (accounts, contacts, GL accounts, transaction lines, items) is deleted before
the suite runs: ``deleted`` returns records like every other stream (no stream is excused from
``returns_record``), and each of those streams also gets its ``{Division, ID, _sdc_deleted_at}``
mark, so the standard schema tests see that column filled and the marks checked against the
stream's schema and primary keys. ``salesinvoice_salesinvoices`` has no entity type in
``sync/Deleted`` and so no ``_sdc_deleted_at`` column.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_exactonline.tap import TapExactOnline
from tests.exactonline.tap.helpers import start_sandbox, tap_config, write_store

SELECTED = {"crm_accounts", "crm_contacts", "financial_glaccounts", "financial_transactionlines",
            "logistics_items", "salesinvoice_salesinvoices", "deleted"}
CUSTOM = "receivables"
DIVISION = 100001

SANDBOX = start_sandbox(seed=5, sizes={"crm/Accounts": 12, "crm/Contacts": 10,
                                       "financial/GLAccounts": 8, "financial/TransactionLines": 15,
                                       "logistics/Items": 9, "salesinvoice/SalesInvoices": 4,
                                       "read/financial/ReceivablesList": 7})
atexit.register(SANDBOX.stop)
DELETED_TABLES = ("crm/Accounts", "crm/Contacts", "financial/GLAccounts",
                  "financial/TransactionLines", "logistics/Items")
for table in DELETED_TABLES:
    assert SANDBOX.delete(table, SANDBOX.key_of(table, 1, DIVISION), DIVISION)
TMP = Path(tempfile.mkdtemp(prefix="tap-eo-standard-"))
atexit.register(shutil.rmtree, TMP, True)
STORE = TMP / "tokens.json"
write_store(STORE, SANDBOX.issue_tokens())  # for the tap instances made at collection (no request)

CONFIG = tap_config(
    SANDBOX, STORE,
    divisions=[DIVISION],
    custom_streams=[{"name": CUSTOM, "endpoint": "/read/financial/ReceivablesList"}],
)


class TapExactOnlineMeltanoSelection(TapExactOnline):
    """The tap with only meltano.yml's selection (and the custom stream) discovered."""

    def discover_streams(self):
        return [s for s in super().discover_streams() if s.name in SELECTED | {CUSTOM}]


TestTapExactOnline = get_tap_test_class(
    TapExactOnlineMeltanoSelection,
    config=CONFIG,
    suite_config=SuiteConfig(max_records_limit=200),
)


def test_the_discovered_streams_are_meltanos_selection_and_the_custom_one():
    tap = TapExactOnlineMeltanoSelection(config=CONFIG, parse_env_config=False)
    assert set(tap.streams) == SELECTED | {CUSTOM}


@pytest.fixture(scope="module", autouse=True)
def no_token_refresh_and_no_error():
    """Fresh tokens when the module's tests start (collection may be minutes earlier in a full
    run); after them (whichever ran): every tap instance used that access token (no refresh) and
    every request was answered 200 (no 401, no 429)."""
    write_store(STORE, SANDBOX.issue_tokens())
    seeded = json.loads(STORE.read_text())["access_token"]
    SANDBOX.reset_stats()
    yield
    assert json.loads(STORE.read_text())["access_token"] == seeded
    counters = SANDBOX.stats()["exactonline"]
    assert counters["token_requests"] == 0, counters
    assert counters["rate_limited_minutely"] == counters["rate_limited_daily"] == 0, counters
    log = SANDBOX.request_log()
    assert all(e["status"] == 200 for e in log), [e for e in log if e["status"] != 200]
