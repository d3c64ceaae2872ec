"""The two target-connectwise jobs of meltano.yml, end to end through `meltano run`.

- `connectwise-round-trip`: tap-connectwise--companies (company_companies, stream map appending
  " (synced)" to each name) -> target-connectwise (UPSERT by id, i.e. PATCH);
- `csv-to-connectwise`: tap-spreadsheets--prospects (samples/connectwise/prospects.csv, stream map
  renaming and casting the columns) -> target-connectwise (UPSERT into /company/companies, matched
  on identifier).

Each test has its own in-process sandbox (port 0), its own Meltano system database (so its own
state) and its own results and rejects files, all through environment variables.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from connector_sandbox.connectwise import (
    DEFAULT_CLIENT_ID,
    DEFAULT_COMPANY_ID,
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    ConnectWiseSandbox,
)
from tests.meltano_env import own_meltano

# Meltano runs share the project's .meltano/ (plugin venvs, `meltano install`): one xdist worker
# runs every test of the group "meltano" (scripts/test.sh runs pytest with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("meltano")

ROOT = Path(__file__).resolve().parents[3]
MELTANO = [str(ROOT / ".venv" / "bin" / "meltano")]
COMPANIES = "/company/companies"
PROSPECTS_CSV = ROOT / "samples" / "connectwise" / "prospects.csv"
SUFFIX = " (synced)"



@pytest.fixture(scope="module")
def installed():
    env = {**os.environ}
    subprocess.run([*MELTANO, "install"], cwd=ROOT, env=env, check=True, capture_output=True,
                   timeout=600)


@pytest.fixture
def sandbox():
    sandbox = ConnectWiseSandbox()
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def meltano_env(tmp_path, sandbox, installed) -> dict[str, str]:
    credentials = {"SITE": sandbox.url, "COMPANY_ID": DEFAULT_COMPANY_ID,
                   "PUBLIC_KEY": DEFAULT_PUBLIC_KEY, "PRIVATE_KEY": DEFAULT_PRIVATE_KEY,
                   "CLIENT_ID": DEFAULT_CLIENT_ID}
    return {
        **os.environ,
        **own_meltano(tmp_path),  # own state and run files, not the project's
        **{f"TAP_CONNECTWISE_{k}": v for k, v in credentials.items()},
        **{f"TARGET_CONNECTWISE_{k}": v for k, v in credentials.items()},
        "TARGET_CONNECTWISE_RESULTS_PATH": str(tmp_path / "results.jsonl"),
        "TARGET_CONNECTWISE_REJECTS_PATH": str(tmp_path / "rejects.jsonl"),
    }


def meltano_run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([*MELTANO, "run", *args], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return proc


def results(env: dict[str, str]) -> list[dict]:
    """The results file's record lines (checkpoint lines left out)."""
    path = Path(env["TARGET_CONNECTWISE_RESULTS_PATH"])
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [line for line in lines if "checkpoint" not in line]


def rejects(env: dict[str, str]) -> list[dict]:
    path = Path(env["TARGET_CONNECTWISE_REJECTS_PATH"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def companies(sandbox) -> dict[int, dict]:
    """Every company in the sandbox, by id (created ids follow the seeded ones)."""
    out, rid = {}, 1
    while len(out) < sandbox.count(COMPANIES):
        record = sandbox.get(COMPANIES, rid)
        if record is not None:
            out[rid] = record
        rid += 1
    return out


def writes(sandbox) -> dict[str, int]:
    """Requests other than GETs since the last reset, by route."""
    return {route: n for route, n in sandbox.stats()["by_route"].items()
            if not route.startswith("GET ")}


def without_info(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "_info"}


def own_fields(record: dict) -> dict:
    """The record less _info, and less the names of the companies it refers to (parentCompany,
    billToCompany: the sandbox expands a reference with the referred object's current name)."""
    def strip(value):
        if isinstance(value, dict) and "company_href" in (value.get("_info") or {}):
            return {k: v for k, v in value.items() if k != "name"}
        return value
    return {k: strip(v) for k, v in without_info(record).items()}


def test_round_trip_renames_every_company_and_creates_none(sandbox, meltano_env):
    before = companies(sandbox)
    assert len(before) == 50 and not any(c["name"].endswith(SUFFIX) for c in before.values())

    sandbox.reset_stats()
    meltano_run(meltano_env, "connectwise-round-trip")
    after = companies(sandbox)
    assert sorted(after) == sorted(before)                      # same objects, none created
    for rid, company in before.items():
        assert after[rid]["name"] == company["name"] + SUFFIX
        # only the name changed: every other field is as it was (the PATCH replaced name alone)
        assert own_fields({**after[rid], "name": company["name"]}) == own_fields(company)
    assert writes(sandbox) == {"PATCH /company/companies/{id}": 50}
    published = results(meltano_env)
    assert len(published) == 50 and {r["method"] for r in published} == {"PATCH"}
    assert {r["remote_id"] for r in published} == set(before)
    assert rejects(meltano_env) == []

    # Rerun: the tap reads again the 50 companies the PATCHes changed (incremental on
    # lastUpdated), and the stream map's __filter__ drops them all: nothing is sent.
    sandbox.reset_stats()
    meltano_run(meltano_env, "connectwise-round-trip")
    assert writes(sandbox) == {}
    assert companies(sandbox) == after

    # Someone renames company 7 in ConnectWise: the next run marks that one again, and only it.
    renamed = sandbox.touch(COMPANIES, [7], field="name")[0]["name"]
    sandbox.reset_stats()
    meltano_run(meltano_env, "connectwise-round-trip")
    assert writes(sandbox) == {"PATCH /company/companies/{id}": 1}
    final = companies(sandbox)
    assert final[7]["name"] == renamed + SUFFIX
    assert {rid: c["name"] for rid, c in final.items() if rid != 7} == \
        {rid: c["name"] for rid, c in after.items() if rid != 7}
    assert len(final) == 50 and rejects(meltano_env) == []


def expected_prospects() -> dict[str, dict]:
    """samples/connectwise/prospects.csv as the stream map in meltano.yml shapes each row."""
    with PROSPECTS_CSV.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = {}
    for row in rows:
        record = {
            "identifier": row["Identifier"], "name": row["Company Name"],
            "addressLine1": row["Address Line 1"], "addressLine2": row["Address Line 2"] or None,
            "city": row["City"], "state": row["State"], "zip": row["Zip"],
            "phoneNumber": row["Phone"], "website": row["Website"] or None,
            "numberOfEmployees": int(row["Employees"]) if row["Employees"] else None,
            "leadFlag": row["Lead"].strip().lower() in ("yes", "true", "1"),
        }
        out[record["identifier"]] = {k: v for k, v in record.items() if v is not None}
    return out


def test_csv_job_creates_the_file_rows_once(sandbox, meltano_env):
    expected = expected_prospects()
    assert len(expected) == 6
    before = companies(sandbox)

    sandbox.reset_stats()
    meltano_run(meltano_env, "csv-to-connectwise")
    after = companies(sandbox)
    assert len(after) == len(before) + len(expected)
    assert all(after[rid] == company for rid, company in before.items())   # nothing else changed
    created = {c["identifier"]: c for rid, c in after.items() if rid not in before}
    assert set(created) == set(expected)
    for identifier, fields in expected.items():
        company = without_info(created[identifier])
        assert {k: company.get(k) for k in fields} == fields
        assert "addressLine2" in fields or company.get("addressLine2") is None
    # strings stay strings (zip keeps its leading zero), the two casts made a number and a boolean
    assert created["CedarAcctLLC"]["zip"] == "04101"
    assert created["OrbitFoodsMW"]["numberOfEmployees"] == 260
    assert created["CedarAcctLLC"]["leadFlag"] is False
    assert "numberOfEmployees" not in created["SummitLegal"]
    assert writes(sandbox) == {"POST /company/companies": 6}
    published = results(meltano_env)
    assert sorted(r["key"][0] for r in published) == sorted(expected)
    assert {r["method"] for r in published} == {"POST"} and rejects(meltano_env) == []

    # Rerun, file unchanged: tap-spreadsheets skips a file not newer than its bookmark.
    sandbox.reset_stats()
    meltano_run(meltano_env, "csv-to-connectwise")
    assert sandbox.stats()["total"] == 0
    assert companies(sandbox) == after

    # Rerun from scratch (--full-refresh ignores the bookmark): every row is found by its
    # identifier, already with the file's values: nothing is written, nothing created.
    sandbox.reset_stats()
    meltano_run(meltano_env, "--full-refresh", "csv-to-connectwise")
    assert writes(sandbox) == {}
    assert sandbox.stats()["by_route"] == {"GET /login/companyinfo/{companyId}": 1,
                                           "GET /company/companies": 6}  # the 6 look-ups
    rerun = results(meltano_env)[len(published):]
    assert sorted(r["key"][0] for r in rerun) == sorted(expected)
    assert {(r["skipped"], r["method"], r["status"]) for r in rerun} == {("unchanged", None, None)}
    assert {r["remote_id"] for r in rerun} == set(after) - set(before)
    again = companies(sandbox)
    assert sorted(again) == sorted(after)
    assert {rid: without_info(c) for rid, c in again.items()} == \
        {rid: without_info(c) for rid, c in after.items()}
    assert rejects(meltano_env) == []


def test_meltano_yml_jobs_use_target_connectwise():
    """The two jobs of this file (the settings of every plugin: tests/test_meltano_plugins.py)."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    jobs = {job["name"]: job["tasks"] for job in project["jobs"]}
    assert jobs["connectwise-round-trip"] == ["tap-connectwise--companies target-connectwise"]
    assert jobs["csv-to-connectwise"] == ["tap-spreadsheets--prospects target-connectwise"]
