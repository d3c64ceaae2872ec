"""Meltano runs into the PostgreSQL warehouse (target-postgres) and what landed there."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.meltano_env import own_meltano
from tests.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[2]
MELTANO = str(ROOT / ".venv" / "bin" / "meltano")
START_DATE = "2018-01-01T00:00:00Z"  # before the emulators' data: a first run reads every row


def meltano_env(tmp: Path, postgres: PostgresServer, warehouse: str, **extra: str) -> dict[str, str]:
    """A Meltano process of its own (tests/meltano_env.py) loading into database ``warehouse``,
    connected by the target's settings as a user sets them (TARGET_POSTGRES_*)."""
    return {
        **os.environ,
        **own_meltano(tmp),
        "TARGET_POSTGRES_HOST": postgres.host,
        "TARGET_POSTGRES_PORT": str(postgres.port),
        "TARGET_POSTGRES_USER": postgres.user,
        "TARGET_POSTGRES_PASSWORD": postgres.password,
        "TARGET_POSTGRES_DATABASE": warehouse,
        **extra,
    }


def meltano(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([MELTANO, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"meltano {' '.join(args)}:\n{proc.stderr[-5000:]}"
    return proc


def start_meltano(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([MELTANO, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 300) -> str:
    """Wait for a process of :func:`start_meltano`; its standard output."""
    stdout, stderr = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(proc.args)}:\n{stderr[-5000:]}"
    return stdout


def at_once(commands: list[tuple[dict[str, str], tuple[str, ...]]], timeout: float = 300) -> list[str]:
    """Meltano ``commands`` ((env, args) each) started together; their standard outputs, in order."""
    procs = [start_meltano(env, *args) for env, args in commands]
    try:
        return [finish(proc, timeout) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def states_of(reads: list[tuple[dict[str, str], str]]) -> list[dict[str, Any]]:
    """`meltano state get` of each (env, state ID), at once: the Singer states Meltano keeps."""
    return [json.loads(out) for out in at_once([(env, ("state", "get", sid)) for env, sid in reads])]


def tables(pg: PostgresServer, db: str, schema: str) -> list[str]:
    return sorted(t for (t,) in pg.query(
        db, "select table_name from information_schema.tables where table_schema = %s", schema))


def row_counts(pg: PostgresServer, db: str, schema: str) -> dict[str, int]:
    return {t: pg.query(db, f'select count(*) from "{schema}"."{t}"')[0][0]
            for t in tables(pg, db, schema)}


def primary_keys(pg: PostgresServer, db: str, schema: str) -> dict[str, list[str]]:
    """Each table's primary key columns (target-postgres declares the stream's key as one)."""
    keys: dict[str, list[str]] = {}
    for table, column in pg.query(db, """
            select tc.table_name, kcu.column_name
            from information_schema.table_constraints tc
            join information_schema.key_column_usage kcu
              on kcu.constraint_schema = tc.constraint_schema
             and kcu.constraint_name = tc.constraint_name
            where tc.constraint_type = 'PRIMARY KEY' and tc.table_schema = %s
            order by tc.table_name, kcu.ordinal_position""", schema):
        keys.setdefault(table, []).append(column)
    return keys


def assert_one_row_per_key(pg: PostgresServer, db: str, schema: str) -> None:
    """Every table has a key and holds each key once: count(distinct key) == count(*)."""
    keys = primary_keys(pg, db, schema)
    assert set(keys) == set(tables(pg, db, schema)), "tables without a key (appended, not merged)"
    for table, columns in keys.items():
        key = ", ".join(f'"{c}"' for c in columns)
        rows, distinct = pg.query(
            db, f'select count(*), count(distinct ({key})) from "{schema}"."{table}"')[0]
        assert rows == distinct, (table, rows, distinct)


def column_types(pg: PostgresServer, db: str, schema: str, table: str) -> dict[str, str]:
    return dict(pg.query(db, "select column_name, data_type from information_schema.columns "
                             "where table_schema = %s and table_name = %s", schema, table))


def utc_wall_clock(iso: str) -> datetime:
    """An ISO 8601 date-time as the naive UTC time a `timestamp without time zone` column holds."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)
