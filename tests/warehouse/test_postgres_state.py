"""Meltano's state in PostgreSQL, shared by two partitioned jobs that run at the same time.

Two workers, each with its own Meltano system directory as on two machines, share one system
database on the PostgreSQL server (MELTANO_DATABASE_URI=postgresql+psycopg://...; Meltano's default
state backend, `systemdb`, keeps the state there) and one warehouse. Each runs a stream-group shard
of tap-connectwise (meltano.yml: tap-connectwise--service, tap-connectwise--crm), both at once.
Afterwards each shard's state ID holds exactly its own streams' bookmarks, nothing lost, nothing of
the other's; a second concurrent run of each, after rows changed, reads from its own bookmarks and
merges only its own changes.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from connector_sandbox.connectwise import ConnectWiseSandbox
from tests.connectwise.tap.helpers import connectwise_env
from tests.warehouse.helpers import (
    START_DATE,
    assert_one_row_per_key,
    at_once,
    meltano,
    meltano_env,
    row_counts,
    states_of,
)

# Meltano runs share the project's plugin venvs: one xdist worker runs the group "meltano".
pytestmark = pytest.mark.xdist_group("meltano")

# shard -> {stream: emulator collection} (meltano.yml's `select` of each shard)
SHARDS = {
    "tap-connectwise--service": {"service_tickets": "/service/tickets",
                                 "service_tickets_notes": None,
                                 "service_boards": "/service/boards"},
    "tap-connectwise--crm": {"company_companies": "/company/companies",
                             "company_companies_sites": None,
                             "company_contacts": "/company/contacts"},
}
CHILDREN = {"service_tickets_notes": ("/service/tickets", "/service/tickets/{}/notes"),
            "company_companies_sites": ("/company/companies", "/company/companies/{}/sites")}
# The incremental streams (cursor lastUpdated): each has a bookmark after a run.
INCREMENTAL = {"tap-connectwise--service": {"service_tickets", "service_boards"},
               "tap-connectwise--crm": {"company_companies", "company_contacts"}}


def state_id(shard: str) -> str:
    return f"sandbox:{shard}-to-target-postgres"


def expected_counts(sandbox: ConnectWiseSandbox) -> dict[str, int]:
    counts = {}
    for streams in SHARDS.values():
        for stream, path in streams.items():
            if path is None:
                parent, child = CHILDREN[stream]
                counts[stream] = sum(sandbox.count(child.format(i))
                                     for i in range(1, sandbox.count(parent) + 1))
            else:
                counts[stream] = sandbox.count(path)
    return counts


def conditions(sandbox: ConnectWiseSandbox, path: str) -> list[str]:
    return [parse_qs(r["query"]).get("conditions", [""])[0] for r in sandbox.request_log()
            if r["path"].endswith(path)]


def run_shards_at_once(envs: dict[str, dict[str, str]]) -> None:
    """`meltano run <shard> target-postgres` of every shard (its worker's env), started together."""
    at_once([(env, ("run", "--no-install", shard, "target-postgres")) for shard, env in envs.items()])


def test_two_shards_at_once_keep_their_own_state_in_postgres(postgres, tmp_path):
    sandbox = ConnectWiseSandbox(sizes={"/service/tickets": 60, "/company/companies": 40})
    sandbox.start()
    try:
        postgres.create_database("meltano")
        warehouse = "shards_warehouse"
        postgres.create_database(warehouse)
        # The shards share the extractor's schema. target-postgres (the SDK's prepare_schema) checks
        # for it, then creates it: two first runs at once could both create it, and one would fail.
        # Created beforehand, as a deployment does once (README).
        postgres.execute(warehouse, "create schema connectwise")
        system_db = postgres.url("meltano", driver="postgresql+psycopg")
        envs = {shard: {**meltano_env(tmp_path / shard, postgres, warehouse,
                                      **connectwise_env(sandbox)),
                        "MELTANO_DATABASE_URI": system_db}
                for shard in SHARDS}
        # Once, before the workers start: Meltano creates the system database's tables on first
        # use, with no lock against a second process doing the same, and the plugins (installed
        # by scripts/setup.sh) are checked, so that the runs need no install (two at once would
        # write the same virtualenvs).
        meltano(next(iter(envs.values())), "install", *SHARDS, "target-postgres")

        run_shards_at_once(envs)

        assert row_counts(postgres, warehouse, "connectwise") == expected_counts(sandbox)
        assert_one_row_per_key(postgres, warehouse, "connectwise")
        # The state lives in PostgreSQL, one row per shard.
        assert sorted(i for (i,) in postgres.query("meltano", "select state_id from state")) == \
            sorted(state_id(shard) for shard in SHARDS)
        # Each shard's state as the *other* worker reads it (its own system dir, the same database).
        shards = list(SHARDS)
        states = states_of([(envs[shards[1]], state_id(shards[0])),
                            (envs[shards[0]], state_id(shards[1]))])
        bookmarks = {shard: state["singer_state"]["bookmarks"] for shard, state in zip(shards, states)}
        for shard in shards:
            # Exactly its own streams (the children's bookmarks are empty: they are read in full).
            assert set(bookmarks[shard]) == set(SHARDS[shard]), (shard, sorted(bookmarks[shard]))
            for stream in INCREMENTAL[shard]:
                assert bookmarks[shard][stream]["replication_key_value"] > START_DATE, (shard, stream)

        # Rows of both groups change; both shards run again at once, each from its own bookmarks.
        sandbox.touch("/service/tickets", [7])
        sandbox.touch("/company/companies", [11])
        sandbox.reset_stats()
        run_shards_at_once(envs)

        for shard, path, stream in zip(shards, ("/service/tickets", "/company/companies"),
                                       ("service_tickets", "company_companies")):
            bookmark = bookmarks[shard][stream]["replication_key_value"]
            assert conditions(sandbox, path) == [f"lastUpdated >= [{bookmark}]"], shard
            # Read from Meltano's table this time (`meltano state get` costs a Meltano start).
            (state,), = postgres.query("meltano", "select completed_state from state "
                                                  "where state_id = %s", state_id(shard))
            after = json.loads(state)["singer_state"]["bookmarks"]  # a JSON text column
            assert set(after) == set(bookmarks[shard])
            assert after[stream]["replication_key_value"] > bookmark  # the touched row's stamp
        # The children of the rows read again, no others: the touched row's, and the row at the
        # bookmark's (the read is inclusive: lastUpdated >= bookmark).
        for child, touched in (("/notes", 7), ("/sites", 11)):
            parents = {int(r["path"].split("/")[-2]) for r in sandbox.request_log()
                       if r["path"].endswith(child)}
            assert touched in parents and len(parents) <= 2, (child, parents)

        assert row_counts(postgres, warehouse, "connectwise") == expected_counts(sandbox)
        assert_one_row_per_key(postgres, warehouse, "connectwise")
        summaries = postgres.query(warehouse, "select summary from connectwise.service_tickets "
                                              "where id = 7")
        names = postgres.query(warehouse, "select name from connectwise.company_companies "
                                          "where id = 11")
        assert summaries == [(sandbox.get("/service/tickets", 7)["summary"],)]
        assert names == [(sandbox.get("/company/companies", 11)["name"],)]
    finally:
        sandbox.stop()
