"""`meltano run tap-connectwise target-postgres` and `tap-exactonline target-postgres` into a real
PostgreSQL server (tests/postgres.py), each run twice.

The first run loads every row the emulator holds (start_date is before its data), into the
extractor's `load_schema` (connectwise, exactonline), with the types a warehouse user expects:
bigint keys, numeric amounts, booleans, jsonb objects, timestamps. The warehouse database's time
zone is not UTC (America/New_York), as a server's may be: the timestamps still hold the source's UTC
time. The second run, after rows changed in the emulator, reads only the changes from Meltano's
state and merges them on the key: the same number of rows, each key once, the new values.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs

import pytest

from connector_sandbox.connectwise import ConnectWiseSandbox
from exactonline_client import parse_exact_date, server_timezone
from tests.connectwise.tap.helpers import connectwise_env
from tests.connectwise.tap.test_meltano import expected_counts
from tests.exactonline.tap.helpers import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    data_requests,
    start_sandbox,
    write_store,
)
from tests.warehouse.helpers import (
    START_DATE,
    assert_one_row_per_key,
    column_types,
    meltano,
    meltano_env,
    row_counts,
    utc_wall_clock,
)

# Meltano runs share the project's plugin venvs: one xdist worker runs the group "meltano".
pytestmark = pytest.mark.xdist_group("meltano")

TIMESTAMP = "timestamp without time zone"  # target-postgres 0.8.1's type for format date-time


def new_warehouse(postgres, name: str) -> str:
    postgres.create_database(name)
    postgres.execute("postgres", f"alter database \"{name}\" set timezone to 'America/New_York'")
    return name


def test_connectwise_into_postgres_every_row_typed_then_merged(postgres, tmp_path):
    sandbox = ConnectWiseSandbox(sizes={"/service/tickets": 150})
    sandbox.start()
    try:
        db = new_warehouse(postgres, "connectwise_warehouse")
        env = meltano_env(tmp_path, postgres, db, **connectwise_env(sandbox))
        meltano(env, "run", "tap-connectwise", "target-postgres")

        expected = expected_counts(sandbox)  # meltano.yml's default selection, children included
        assert row_counts(postgres, db, "connectwise") == expected
        assert expected["service_tickets"] == 150 and expected["service_tickets_notes"] > 150
        assert_one_row_per_key(postgres, db, "connectwise")

        types = column_types(postgres, db, "connectwise", "service_tickets")
        assert {c: types[c] for c in ("id", "lagDays", "actualHours", "closedFlag", "board",
                                      "lastUpdated", "_info")} == {
            "id": "bigint", "lagDays": "bigint", "actualHours": "numeric", "closedFlag": "boolean",
            "board": "jsonb", "lastUpdated": TIMESTAMP, "_info": "jsonb"}
        assert column_types(postgres, db, "connectwise", "finance_invoices")["total"] == "numeric"

        def ticket(row_id: int) -> tuple:
            return tuple(postgres.query(
                db, 'select id, summary, "actualHours", "closedFlag", board, "lastUpdated" '
                    "from connectwise.service_tickets where id = %s", row_id)[0])

        def in_sandbox(row_id: int) -> tuple:
            t = sandbox.get("/service/tickets", row_id)
            return (t["id"], t["summary"], Decimal(str(t["actualHours"])), t["closedFlag"], t["board"],
                    utc_wall_clock(t["_info"]["lastUpdated"]))

        assert ticket(3) == in_sandbox(3)

        # Rerun after two tickets changed: read from the bookmark, merged on id.
        sandbox.touch("/service/tickets", [3, 150])
        sandbox.reset_stats()
        meltano(env, "run", "tap-connectwise", "target-postgres")
        conditions = [parse_qs(r["query"]).get("conditions", [""])[0] for r in sandbox.request_log()
                      if r["path"].endswith("/service/tickets")]
        assert len(conditions) == 1 and conditions[0] > f"lastUpdated >= [{START_DATE}]", conditions
        assert row_counts(postgres, db, "connectwise") == expected
        assert_one_row_per_key(postgres, db, "connectwise")
        assert ticket(3) == in_sandbox(3) and ticket(150) == in_sandbox(150)
        assert ticket(3)[1].endswith(" *")  # the emulator's touch reached the warehouse
    finally:
        sandbox.stop()


# meltano.yml's selection for tap-exactonline: stream -> emulator table
EXACT_SELECTED = {
    "crm_accounts": "sync/CRM/Accounts",
    "crm_contacts": "sync/CRM/Contacts",
    "financial_glaccounts": "sync/Financial/GLAccounts",
    "financial_transactionlines": "sync/Financial/TransactionLines",
    "logistics_items": "sync/Logistics/Items",
    "salesinvoice_salesinvoices": "sync/SalesInvoice/SalesInvoices",
    "deleted": "sync/Deleted",
}
DIVISION = 100001  # the emulator's current division, which the tap reads by default


def test_exactonline_into_postgres_every_row_typed_then_merged(postgres, tmp_path):
    sandbox = start_sandbox()
    try:
        store = tmp_path / "tokens.json"
        write_store(store, sandbox.issue_tokens())
        db = new_warehouse(postgres, "exactonline_warehouse")
        env = meltano_env(tmp_path, postgres, db,
                          TAP_EXACTONLINE_BASE_URL=sandbox.url,
                          TAP_EXACTONLINE_CLIENT_ID=DEFAULT_CLIENT_ID,
                          TAP_EXACTONLINE_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
                          TAP_EXACTONLINE_TOKEN_STORE=str(store),
                          TAP_EXACTONLINE_START_DATE=START_DATE)
        meltano(env, "run", "tap-exactonline", "target-postgres")

        expected = {stream: sandbox.count(table) for stream, table in EXACT_SELECTED.items()}
        assert row_counts(postgres, db, "exactonline") == expected
        assert expected["financial_transactionlines"] >= 500 and expected["deleted"] == 0
        assert_one_row_per_key(postgres, db, "exactonline")

        accounts = column_types(postgres, db, "exactonline", "crm_accounts")
        assert {c: accounts[c] for c in ("Division", "Blocked", "CreditLineSales", "Modified",
                                         "Name")} == {
            "Division": "bigint", "Blocked": "boolean", "CreditLineSales": "numeric",
            "Modified": TIMESTAMP, "Name": "text"}
        lines = column_types(postgres, db, "exactonline", "financial_transactionlines")
        assert (lines["AmountDC"], lines["Date"], lines["Timestamp"]) == ("numeric", TIMESTAMP, "bigint")

        account = sandbox.key_of("crm/Accounts", 2, DIVISION)
        line = sandbox.key_of("financial/TransactionLines", 40, DIVISION)

        def account_row() -> tuple:
            return tuple(postgres.query(
                db, 'select "Name", "Blocked", "CreditLineSales", "Modified" '
                    'from exactonline.crm_accounts where "ID" = %s', account)[0])

        def account_in_sandbox() -> tuple:
            a = sandbox.get("crm/Accounts", account, DIVISION)
            # Exact's /Date(ms)/ is Amsterdam's wall clock; the tap emits it as UTC.
            modified = parse_exact_date(f"/Date({a['Modified']})/", server_timezone(None))
            return a["Name"], a["Blocked"], Decimal(str(a["CreditLineSales"])), utc_wall_clock(modified)

        assert account_row() == account_in_sandbox()

        # Rerun after an account and a transaction line changed: read after the bookmarks, merged.
        sandbox.touch("crm/Accounts", [account], DIVISION)
        sandbox.touch("financial/TransactionLines", [line], DIVISION)
        sandbox.reset_stats()
        meltano(env, "run", "tap-exactonline", "target-postgres")
        for stream in ("crm_accounts", "financial_transactionlines"):
            request, = data_requests(sandbox, f"/{DIVISION}/{EXACT_SELECTED[stream]}")
            assert parse_qs(request["query"])["$filter"][0] != "Timestamp gt 0L", request
        assert row_counts(postgres, db, "exactonline") == expected
        assert_one_row_per_key(postgres, db, "exactonline")
        assert account_row() == account_in_sandbox() and account_row()[0].endswith(" *")
    finally:
        sandbox.stop()
