"""singer-sdk's standard tap tests against the SuperOffice emulator.

They run over the tap's default selection (the 12 core CRM streams: contact, person, sale,
project, appointment, document, ticket, ticket_message, product, price_list, user, selection) plus
a custom stream on an archive provider (``/Archive/Person`` with a ``$select`` and a ``$filter``,
its schema declared): over all 62 catalog streams the generated per-attribute tests would number
in the thousands, and every stream is the same ``SuperOfficeStream`` class.

The emulator holds 30 contacts, 60 persons and 12 rows of every other table; contact 3 and person
3 are soft-deleted before the suite runs, so ``deletedDate`` / ``personDeletedDate`` and the tap's
``_sdc_deleted_at`` are filled on one row each (a first run, without a bookmark, reads deleted rows
like the others) and the schema tests see those columns used.

The suite runs the tap in-process several times (discovery, the connection test, one sync, the
CLI prints) on one token store seeded from ``sandbox.issue_tokens()`` (an access token lives
3600 s: no refresh is needed). Two of those runs send requests, back to back, each with a fresh
rate limiter: SuperOffice's rule (10 calls a second per app and tenant, which the emulator
enforces on a sliding second) counts both, the tap's limiter only its own instance's. The config
therefore sets ``requests_per_second: 5``, so the two runs together stay within 10 a second, and a
module-scoped fixture checks after the tests that every request was answered 200 (no 429, no
401) and that the token store still holds the seeded access token.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_superoffice.tap import TapSuperOffice
from tests.superoffice.tap.helpers import start_sandbox, tap_config, write_store

# One worker runs the whole module under `pytest -n 2 --dist loadgroup`: the class-scoped sync
# (and the module's emulator) is then made once, not once per worker.
pytestmark = pytest.mark.xdist_group("superoffice_tap_standard")

DEFAULT_SELECTION = {"contact", "person", "sale", "project", "appointment", "document", "ticket",
                     "ticket_message", "product", "price_list", "user", "selection"}
CUSTOM = "persons_of_contact_5"
CUSTOM_SCHEMA = {"type": "object", "properties": {
    "PrimaryKey": {"type": "string"}, "EntityName": {"type": ["string", "null"]},
    "personId": {"type": "integer"}, "firstName": {"type": ["string", "null"]},
    "contactId": {"type": ["integer", "null"]}}}

SANDBOX = start_sandbox(seed=7, sizes={"Contact": 30, "Person": 60}, default_size=12)
atexit.register(SANDBOX.stop)
for entity in ("Contact", "Person"):
    assert SANDBOX.delete(entity, 3)
TMP = Path(tempfile.mkdtemp(prefix="tap-so-standard-"))
atexit.register(shutil.rmtree, TMP, True)
STORE = write_store(TMP / "tokens.json", SANDBOX.issue_tokens())  # for the instances made at collection

CONFIG = tap_config(
    SANDBOX, STORE,
    requests_per_second=5,
    custom_streams=[{"name": CUSTOM, "endpoint": "/Archive/{provider}", "path": {"provider": "Person"},
                     "query": {"$select": "personId,firstName,contactId", "$filter": "contactId eq 5"},
                     "primary_keys": ["personId"], "schema": CUSTOM_SCHEMA}],
)


class TapSuperOfficeDefaultSelection(TapSuperOffice):
    """The tap with only its default-selected streams (and the custom one) discovered."""

    def discover_streams(self):
        return [s for s in super().discover_streams() if s.selected_by_default]


TestTapSuperOffice = get_tap_test_class(
    TapSuperOfficeDefaultSelection,
    config=CONFIG,
    suite_config=SuiteConfig(max_records_limit=100),
)


def test_the_discovered_streams_are_the_default_selection_and_the_custom_one():
    tap = TapSuperOfficeDefaultSelection(config=CONFIG, parse_env_config=False)
    assert set(tap.streams) == DEFAULT_SELECTION | {CUSTOM}


@pytest.fixture(scope="module", autouse=True)
def no_token_refresh_and_no_error():
    """Fresh tokens when the module's tests start (collection may be minutes earlier in a full
    run); after them (whichever ran): no refresh, and every request answered 200 (no 401, no 429)."""
    write_store(STORE, SANDBOX.issue_tokens())
    seeded = json.loads(STORE.read_text())["access_token"]
    SANDBOX.reset_stats()
    yield
    assert json.loads(STORE.read_text())["access_token"] == seeded
    counters = SANDBOX.stats()["superoffice"]
    assert counters["token_requests"] == 0 and counters["throttled"] == 0, counters
    log = SANDBOX.request_log()
    assert all(e["status"] == 200 for e in log), [(e["route"], e["status"]) for e in log if e["status"] != 200]
