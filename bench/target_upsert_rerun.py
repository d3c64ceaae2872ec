"""Requests of a rerun: what the targets' UPSERT sends when the input has not changed.

    uv run python bench/target_upsert_rerun.py [--accounts 25]

Runs the Meltano jobs of ``meltano.yml`` against emulators in their own processes (ports chosen
by the OS, a Meltano system database of its own, results and rejects files in a temporary
directory) and counts the API requests each emulator answered, by method:

ConnectWise, ``csv-to-connectwise`` (``samples/connectwise/prospects.csv``, 6 companies UPSERTed
by ``identifier``):

1. ``meltano run --full-refresh csv-to-connectwise``: the first run (creates the 6 companies);
2. the same command again: identical input, every company is found.

Exact Online, ``exactonline-round-trip`` (``--accounts`` accounts, UPSERTed by ``ID``):

1. ``meltano run exactonline-round-trip``: appends " (synced)" to every name;
2. the same command again: the stream map's ``__filter__`` drops the marked names, so this run
   shows nothing either way;
3. ``--full-refresh`` with the filter off (``__filter__: True``) and a map that marks a name
   once (``Name: Name if Name.endswith(' (synced)') else Name + ' (synced)'``), both set through
   Meltano's environment variables: every account goes to the target again, each one already as
   the record says;
4. ``meltano run --full-refresh tap-exactonline target-exactonline`` with only ``crm_accounts``
   selected and no stream map: every field the tap reads (dates, codes padded with spaces, GUIDs,
   numbers) goes back to the account it came from (the target UPSERTs a tap stream by key).

Each run must reject nothing; the figures are the emulator's request counters by method (every
request it answered: the target's ConnectWise ``/login/companyinfo`` and Exact ``current/Me``
look-ups and the tap's reads too; the control plane is not counted). Results go to
``bench/results/target_upsert_rerun.json`` (git-ignored); see bench/README.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import ROOT, BenchError, SandboxProcess, environment, executable, run_bench

RESULTS = ROOT / "bench" / "results" / "target_upsert_rerun.json"
MELTANO = ROOT / ".venv" / "bin" / "meltano"

CW = {"COMPANY_ID": "sandbox", "PUBLIC_KEY": "sandbox-public", "PRIVATE_KEY": "sandbox-private",
      "CLIENT_ID": "00000000-0000-4000-8000-000000000000"}
EO_CLIENT_ID = "5f1d3c2a-7b8e-4f60-9a1b-2c3d4e5f6a7b"   # the emulator's defaults
EO_CLIENT_SECRET = "sandbox-secret"
# tap-exactonline--accounts' stream map with its filter off and a name that is marked once.
IDEMPOTENT_MAP = {"TAP_EXACTONLINE__ACCOUNTS_STREAM_MAPS_CRM_ACCOUNTS___FILTER__": "True",
                  "TAP_EXACTONLINE__ACCOUNTS_STREAM_MAPS_CRM_ACCOUNTS_NAME":
                  "Name if Name.endswith(' (synced)') else Name + ' (synced)'"}


def by_method(stats: dict) -> dict[str, int]:
    """Requests the emulator answered, by method (from its per-route counters; the control plane
    is not counted)."""
    counts: collections.Counter[str] = collections.Counter()
    for route, n in stats["by_route"].items():
        counts[route.partition(" ")[0]] += n
    return dict(sorted(counts.items()))


def meltano_run(env: dict[str, str], workdir: Path, tag: str, *args: str) -> float:
    log = workdir / f"meltano-{tag}.log"
    t0 = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.run([str(MELTANO), "run", *args], cwd=ROOT, env=env, stdout=out,
                              stderr=subprocess.STDOUT, check=False, timeout=900)
    if proc.returncode != 0:
        raise BenchError(f"meltano run {' '.join(args)} ({tag}) exited {proc.returncode}; log tail:\n"
                         f"{log.read_text(errors='replace')[-4000:]}")
    return time.perf_counter() - t0


def journal(path: Path, skip: int) -> tuple[list[dict], int]:
    lines = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    return [x for x in lines[skip:] if "checkpoint" not in x], len(lines)


def summarise(results: list[dict]) -> dict[str, int]:
    out: collections.Counter[str] = collections.Counter()
    for r in results:
        out["skipped: " + r["skipped"] if r.get("skipped") else str(r.get("method"))] += 1
    return dict(sorted(out.items()))


def run_step(name: str, env: dict[str, str], workdir: Path, sandbox: SandboxProcess,
             results_path: Path, rejects_path: Path, *args: str) -> dict:
    _, results_before = journal(results_path, 0)
    rejects_before = len(rejects_path.read_text().splitlines()) if rejects_path.exists() else 0
    sandbox.reset()
    wall = meltano_run(env, workdir, name, *args)
    rejects = rejects_path.read_text().splitlines()[rejects_before:] if rejects_path.exists() else []
    if rejects:
        raise BenchError(f"{name}: {len(rejects)} rejects, first: {rejects[0][:500]}")
    results, _ = journal(results_path, results_before)
    stats = sandbox.stats()
    step = {"step": name, "command": "meltano run " + " ".join(args),
            "requests_by_method": by_method(stats), "requests_by_route": stats["by_route"],
            "results": summarise(results), "wall_s": round(wall, 1)}
    print(f"{name:<34} {json.dumps(step['requests_by_method']):<40} {json.dumps(step['results'])}",
          file=sys.stderr, flush=True)
    return step


def connectwise(workdir: Path, base_env: dict[str, str]) -> list[dict]:
    sandbox = SandboxProcess([str(executable("connector-sandbox")), "connectwise", "--port", "0",
                              "--seed", "42"], workdir)
    try:
        results, rejects = workdir / "cw-results.jsonl", workdir / "cw-rejects.jsonl"
        env = {**base_env,
               **{f"TAP_CONNECTWISE_{k}": v for k, v in CW.items()},
               **{f"TARGET_CONNECTWISE_{k}": v for k, v in CW.items()},
               "TAP_CONNECTWISE_SITE": sandbox.url, "TARGET_CONNECTWISE_SITE": sandbox.url,
               "TARGET_CONNECTWISE_RESULTS_PATH": str(results),
               "TARGET_CONNECTWISE_REJECTS_PATH": str(rejects)}
        step = lambda name, *args: run_step(name, env, workdir, sandbox, results, rejects, *args)  # noqa: E731
        return [step("csv-to-connectwise first", "--full-refresh", "csv-to-connectwise"),
                step("csv-to-connectwise rerun", "--full-refresh", "csv-to-connectwise")]
    finally:
        sandbox.stop()


def exactonline(workdir: Path, base_env: dict[str, str], accounts: int) -> list[dict]:
    tokens_file = workdir / "eo-tokens.json"
    sandbox = SandboxProcess([str(executable("connector-sandbox")), "exactonline", "--port", "0",
                              "--seed", "42", "--size", f"crm/Accounts={accounts}",
                              "--minutely-limit", "none", "--tokens-file", str(tokens_file)],
                             workdir, api_path="/api/v1")
    try:
        for _ in range(100):
            if tokens_file.exists() and tokens_file.stat().st_size:
                break
            time.sleep(0.05)
        tokens = json.loads(tokens_file.read_text())
        store = workdir / "eo-store.json"
        now = time.time()
        store.write_text(json.dumps({"access_token": tokens["access_token"],
                                     "refresh_token": tokens["refresh_token"],
                                     "expires_at": now + int(tokens["expires_in"]), "obtained_at": now}))
        results, rejects = workdir / "eo-results.jsonl", workdir / "eo-rejects.jsonl"
        connection = {"BASE_URL": sandbox.url, "CLIENT_ID": EO_CLIENT_ID,
                      "CLIENT_SECRET": EO_CLIENT_SECRET, "TOKEN_STORE": str(store)}
        env = {**base_env,
               **{f"TAP_EXACTONLINE_{k}": v for k, v in connection.items()},
               **{f"TARGET_EXACTONLINE_{k}": v for k, v in connection.items()},
               "TARGET_EXACTONLINE_REQUESTS_PER_MINUTE": "100000",
               "TARGET_EXACTONLINE_RESULTS_PATH": str(results),
               "TARGET_EXACTONLINE_REJECTS_PATH": str(rejects)}
        idempotent = {**env, **IDEMPOTENT_MAP}
        whole = {**env, "TAP_EXACTONLINE__SELECT": json.dumps(["crm_accounts.*"])}
        step = lambda name, e, *args: run_step(name, e, workdir, sandbox, results, rejects,  # noqa: E731
                                                *args)
        return [step("exactonline-round-trip first", env, "exactonline-round-trip"),
                step("exactonline-round-trip rerun", env, "exactonline-round-trip"),
                step("rerun, idempotent map, no filter", idempotent, "--full-refresh",
                     "exactonline-round-trip"),
                step("rerun, whole records (no map)", whole, "--full-refresh", "tap-exactonline",
                     "target-exactonline")]
    finally:
        sandbox.stop()


def bench(args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-upsert-rerun-"))
    print(f"bench: workdir {workdir}", file=sys.stderr, flush=True)
    base_env = {**os.environ, "MELTANO_DATABASE_URI": f"sqlite:///{workdir}/meltano.db"}
    subprocess.run([str(MELTANO), "install"], cwd=ROOT, env=base_env, check=True,
                   capture_output=True, timeout=900)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True, check=False).stdout.strip()
    return {"environment": environment(), "commit": commit, "accounts": args.accounts,
            "connectwise": connectwise(workdir, base_env),
            "exactonline": exactonline(workdir, base_env, args.accounts)}


def report(result: dict) -> None:
    print(f"commit {result['commit']}")
    print(f"{'step':<34} {'requests by method':<40} results")
    for vendor in ("connectwise", "exactonline"):
        for step in result[vendor]:
            print(f"{step['step']:<34} {json.dumps(step['requests_by_method']):<40} "
                  f"{json.dumps(step['results'])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=25, help="Exact accounts (default 25)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    return run_bench(lambda: bench(args), args.output, report)


if __name__ == "__main__":
    sys.exit(main())
