"""The scale-out recipe end to end: two Exact Online divisions as two workers at once.

Each worker is a Meltano of its own (its own system directory, as on two machines) running
`meltano run --state-id-suffix <division> tap-exactonline target-postgres` for one division. They
share what the README's recipe shares: Meltano's state in one PostgreSQL system database, the
OAuth tokens in one PostgreSQL token store (`token_store_url`), and the warehouse. Exact rotates
the refresh token on every refresh and kills the chain when a spent one is used again, so the two
workers, both finding the access token expired, must refresh exactly once between them (the one
that comes second takes the token the first stored; two refreshes in flight at once are held apart
by the store's lock, which tests/core/test_oauth.py times); each division's state ID keeps only its
own division's bookmarks, and the rerun of each reads from them.
"""

from __future__ import annotations

import json
import secrets
import time

import pytest

from connector_core.oauth.pgstore import PostgresTokenStore
from tests.exactonline.tap.helpers import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, start_sandbox
from tests.warehouse.helpers import START_DATE, assert_one_row_per_key, at_once, meltano, meltano_env

pytestmark = pytest.mark.xdist_group("meltano")

DIVISIONS = (100001, 100002)
STREAMS = {"crm_accounts": "crm/Accounts", "logistics_items": "logistics/Items"}


def state_id(division: int) -> str:
    return f"sandbox:tap-exactonline-to-target-postgres:{division}"


def test_two_divisions_at_once_share_one_token_chain_and_keep_their_own_state(postgres, tmp_path):
    sandbox = start_sandbox(seed=61, sizes={"crm/Accounts": 30, "logistics/Items": 20})
    try:
        warehouse = "divisions_warehouse"
        postgres.create_database(warehouse)
        postgres.create_database("meltano")
        tokens_url = postgres.create_database("tokens")
        store_key = "exactonline-" + secrets.token_hex(4)
        # The tokens as `authorize` leaves them, ten minutes ago: expired for both workers, and old
        # enough for Exact to refresh them (it refuses before 570 s).
        issued = sandbox.issue_tokens()
        obtained = time.time() - 600
        PostgresTokenStore(tokens_url, store_key).write({
            "access_token": issued["access_token"], "refresh_token": issued["refresh_token"],
            "obtained_at": obtained, "expires_at": obtained + int(issued["expires_in"])})
        sandbox.clock.advance(600)

        envs = {division: meltano_env(
            tmp_path / str(division), postgres, warehouse,
            MELTANO_DATABASE_URI=postgres.url("meltano", driver="postgresql+psycopg"),
            TAP_EXACTONLINE_BASE_URL=sandbox.url,
            TAP_EXACTONLINE_CLIENT_ID=DEFAULT_CLIENT_ID,
            TAP_EXACTONLINE_CLIENT_SECRET=DEFAULT_CLIENT_SECRET,
            TAP_EXACTONLINE_TOKEN_STORE=store_key,
            TAP_EXACTONLINE_TOKEN_STORE_URL=tokens_url,
            TAP_EXACTONLINE_DIVISIONS=json.dumps([division]),
            TAP_EXACTONLINE_START_DATE=START_DATE,
            TAP_EXACTONLINE__SELECT=json.dumps([f"{stream}.*" for stream in STREAMS]),
            # One schema per division: two first runs at once into the same tables would race
            # on creating them (README, scale-out).
            TAP_EXACTONLINE__LOAD_SCHEMA=f"exact_{division}",
        ) for division in DIVISIONS}
        # Once, before the workers start (README): Meltano's tables in the new system database.
        meltano(envs[DIVISIONS[0]], "install", "tap-exactonline", "target-postgres")

        def run_both() -> None:
            at_once([(envs[d], ("run", "--no-install", "--state-id-suffix", str(d),
                                "tap-exactonline", "target-postgres")) for d in DIVISIONS])

        run_both()
        stats = sandbox.stats()["exactonline"]
        assert stats["refreshes"] == 1  # one refresh for both workers; the chain lives on
        assert stats["rate_limited_minutely"] == 0
        for division in DIVISIONS:
            schema = f"exact_{division}"
            for stream, table in STREAMS.items():
                rows = postgres.query(warehouse, f'select distinct "Division" from {schema}.{stream}')
                assert rows == [(division,)], (schema, stream)
                (count,), = postgres.query(warehouse, f"select count(*) from {schema}.{stream}")
                assert count == sandbox.count(table, division), (schema, stream)
            assert_one_row_per_key(postgres, warehouse, schema)
        assert sorted(i for (i,) in postgres.query("meltano", "select state_id from state")) == \
            sorted(state_id(d) for d in DIVISIONS)

        def bookmarks(division: int) -> dict:
            (state,), = postgres.query("meltano", "select completed_state from state "
                                                  "where state_id = %s", state_id(division))
            return json.loads(state)["singer_state"]["bookmarks"]

        first = {d: bookmarks(d) for d in DIVISIONS}
        for division in DIVISIONS:
            for stream in STREAMS:
                partitions = first[division][stream]["partitions"]
                assert [p["context"] for p in partitions] == [{"Division": division}], (division, stream)

        # One account changes in the second division only; both run again at once.
        sandbox.touch("crm/Accounts", [3], DIVISIONS[1])
        refreshes = sandbox.stats()["exactonline"]["refreshes"]
        run_both()
        after = {d: bookmarks(d) for d in DIVISIONS}
        cursor = {d: after[d]["crm_accounts"]["partitions"][0]["replication_key_value"]
                  for d in DIVISIONS}
        before = {d: first[d]["crm_accounts"]["partitions"][0]["replication_key_value"]
                  for d in DIVISIONS}
        assert cursor[DIVISIONS[0]] == before[DIVISIONS[0]]  # nothing changed there
        assert cursor[DIVISIONS[1]] > before[DIVISIONS[1]]  # the touched account's Timestamp
        assert sandbox.stats()["exactonline"]["refreshes"] == refreshes  # the stored token is fresh
        for division in DIVISIONS:
            assert_one_row_per_key(postgres, warehouse, f"exact_{division}")
    finally:
        sandbox.stop()
