"""Publishing benchmark: target-connectwise against a ConnectWise with 50 ms of latency per request.

    uv run python bench/target_connectwise_publish.py [--records 400] [--latency-ms 50]

For each concurrency (1, then the target's default, read from ``target-connectwise --about``) it
publishes the same ``--records`` address formats (``/company/addressFormats``) three times, on a
sandbox whose data was reset first:

1. **POST**: every record creates an object (1 request per record);
2. **UPSERT** (``match: [name]``): the same records with a new ``format``; each record is looked
   up by name (``GET ...?conditions=name = "..."``), found, and PATCHed with its ``format``
   alone (2 requests per record; an unchanged record would cost the look-up only);
3. **PATCH**: the same records carrying the ids the POST run created, sent to
   ``/company/addressFormats/{id}`` (1 request per record).

The sandbox is the ``connector-sandbox`` CLI in its own process (``--latency-ms``), so its work
does not compete with the measured target for one GIL; the target is ``.venv/bin/target-connectwise``
(not ``uv run``), reading a prepared Singer file on stdin. ``requests_per_minute`` is set to
100,000 so the target's proactive rate limiter never makes it wait: the figures are the engine's,
not ConnectWise's budget (with the real default, 1,000 a minute over a sliding minute, a run of
more than 1,000 requests would be held to about 16 requests a second whatever the concurrency).
Every run must publish every record with no reject and make exactly
the expected requests, or the bench fails (exit 1, ``bench FAILED: ...``). Results go to
``bench/results/target_connectwise_publish.json`` (git-ignored); see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_common
from bench_common import ROOT, BenchError, SandboxProcess, executable, run_bench

RESULTS = ROOT / "bench" / "results" / "target_connectwise_publish.json"

COMPANY_ID = "sandbox"
PUBLIC_KEY = "sandbox-public"
PRIVATE_KEY = "sandbox-private"
CLIENT_ID = "00000000-0000-4000-8000-000000000000"
COLLECTION = "/company/addressFormats"
STREAM = "address_formats"
REQUESTS_PER_MINUTE = 100_000
COMPANYINFO = "GET /login/companyinfo/{companyId}"

MODES = {
    # mode: (mapping, expected requests by route per record)
    "POST": ({"entity": COLLECTION, "method": "POST"},
             {f"POST {COLLECTION}": 1}),
    "UPSERT": ({"entity": COLLECTION, "method": "UPSERT", "match": ["name"]},
               {f"GET {COLLECTION}": 1, f"PATCH {COLLECTION}/{{id}}": 1}),
    "PATCH": ({"entity": COLLECTION + "/{id}", "method": "PATCH"},
              {f"PATCH {COLLECTION}/{{id}}": 1}),
}


def start_sandbox(latency_ms: float, workdir: Path) -> SandboxProcess:
    """``connector-sandbox connectwise --port 0 --latency-ms N``."""
    return SandboxProcess(
        [str(executable("connector-sandbox")), "connectwise", "--port", "0", "--seed", "42",
         "--latency-ms", str(latency_ms), "--company-id", COMPANY_ID, "--public-key", PUBLIC_KEY,
         "--private-key", PRIVATE_KEY, "--client-id", CLIENT_ID], workdir)


def collection_count(sandbox: SandboxProcess) -> int:
    return sandbox.control("GET", f"connectwise/count?path={COLLECTION}")["count"]


# --------------------------------------------------------------------------- the target
def default_concurrency(target: Path) -> int:
    proc = subprocess.run([str(target), "--about", "--format", "json"], check=False,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise BenchError(f"target-connectwise --about failed: {proc.stderr[-2000:]}")
    return int(json.loads(proc.stdout)["settings"]["properties"]["concurrency"]["default"])


def records(n: int, revision: int = 1) -> list[dict]:
    return [{"name": f"Bench format {i:05d}",
             "format": f"[Address1] [Address2]\n[City], [State] [Zip] ({i}, v{revision})"}
            for i in range(1, n + 1)]


def singer_input(path: Path, rows: list[dict], *, with_id: bool) -> None:
    properties = {"name": {"type": "string"}, "format": {"type": "string"}}
    if with_id:
        properties = {"id": {"type": "integer"}, **properties}
    messages = [{"type": "SCHEMA", "stream": STREAM, "key_properties": ["id" if with_id else "name"],
                 "schema": {"type": "object", "properties": properties}}]
    messages += [{"type": "RECORD", "stream": STREAM, "record": row} for row in rows]
    messages.append({"type": "STATE", "value": {"bench": len(rows)}})
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))


def run_target(target: Path, config: dict, input_path: Path, workdir: Path, tag: str) -> dict:
    config_path = workdir / f"config-{tag}.json"
    config_path.write_text(json.dumps(config))
    stderr_path = workdir / f"target-{tag}.stderr"
    with open(input_path, "rb") as stdin, open(os.devnull, "wb") as stdout, \
            open(stderr_path, "wb") as stderr:
        t0 = time.perf_counter()
        started_epoch = time.time()
        proc = subprocess.Popen([str(target), "--config", str(config_path)], stdin=stdin,
                                stdout=stdout, stderr=stderr)
        _, status, rusage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise BenchError(f"target ({tag}) exited {proc.returncode}; stderr tail:\n"
                         f"{stderr_path.read_text(errors='replace')[-4000:]}")
    return {"wall_s": wall, "cpu_s": rusage.ru_utime + rusage.ru_stime,
            "peak_rss_mb": rusage.ru_maxrss / 1024, "started_epoch": started_epoch}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# --------------------------------------------------------------------------- main
def bench(args: argparse.Namespace) -> dict:
    t_bench = time.perf_counter()
    n = args.records
    target = executable("target-connectwise")
    default = default_concurrency(target)
    levels = args.concurrency or sorted({1, default})
    workdir = Path(tempfile.mkdtemp(prefix="bench-cw-publish-"))
    def say(*parts: object) -> None:
        print(*parts, file=sys.stderr, flush=True)

    rows = records(n)
    singer_input(workdir / "records.jsonl", rows, with_id=False)
    # UPSERT sends only what differs from the object: its run gets a changed format to PATCH.
    singer_input(workdir / "records-v2.jsonl", records(n, revision=2), with_id=False)
    sandbox = None
    runs: list[dict] = []
    try:
        sandbox = start_sandbox(args.latency_ms, workdir)
        say(f"bench: sandbox {sandbox.url} (pid {sandbox.proc.pid}), {args.latency_ms:g} ms latency; "
            f"target {target}, default concurrency {default}; {n} records; workdir {workdir}")
        for concurrency in levels:
            sandbox.reset(data=True)
            base_count = collection_count(sandbox)
            created_ids: dict[str, int] = {}
            for mode, (mapping, per_record) in MODES.items():
                tag = f"{mode.lower()}-c{concurrency}"
                input_path = workdir / ("records-v2.jsonl" if mode == "UPSERT" else "records.jsonl")
                if mode == "PATCH":
                    input_path = workdir / f"records-with-ids-c{concurrency}.jsonl"
                    singer_input(input_path, [{"id": created_ids[r["name"]], **r} for r in rows],
                                 with_id=True)
                results_path, rejects_path = workdir / f"results-{tag}.jsonl", workdir / f"rejects-{tag}.jsonl"
                config = {
                    "company_id": COMPANY_ID, "public_key": PUBLIC_KEY, "private_key": PRIVATE_KEY,
                    "client_id": CLIENT_ID, "site": sandbox.url,
                    "requests_per_minute": REQUESTS_PER_MINUTE, "concurrency": concurrency,
                    "results_path": str(results_path), "rejects_path": str(rejects_path),
                    "mappings": {STREAM: mapping},
                }
                sandbox.reset(data=False)
                run = run_target(target, config, input_path, workdir, tag)
                stats = sandbox.stats(log=10 * n + 100)
                log = stats.get("log", [])

                # -- checks: every record published once, no reject, exactly the expected requests
                published = [r for r in read_jsonl(results_path) if "checkpoint" not in r]
                rejected = read_jsonl(rejects_path)
                if rejected:
                    raise BenchError(f"{tag}: {len(rejected)} rejects, first: {rejected[0]['reason']}")
                if len(published) != n:
                    raise BenchError(f"{tag}: {len(published)} results, expected {n}")
                api_routes = {k: v for k, v in stats["by_route"].items() if k != COMPANYINFO}
                expected_routes = {route: k * n for route, k in per_record.items()}
                if api_routes != expected_routes:
                    raise BenchError(f"{tag}: requests {api_routes}, expected {expected_routes}")
                count = collection_count(sandbox)
                expected_count = base_count + n
                if count != expected_count:
                    raise BenchError(f"{tag}: {count} address formats in the sandbox, expected {expected_count}")
                if mode == "POST":
                    created_ids = {r["key"][0]: int(r["remote_id"]) for r in published}
                    if len(set(created_ids.values())) != n:
                        raise BenchError(f"{tag}: the POSTs did not create {n} distinct objects")

                api = [e for e in log if e.get("route") != COMPANYINFO and e.get("received_at")]
                window = (max(e["received_at"] + e["duration_ms"] / 1000 for e in api)
                          - min(e["received_at"] for e in api)) if api else None
                first_request = (min(e["received_at"] for e in log if e.get("received_at"))
                                 - run["started_epoch"]) if log else None
                api_requests = sum(api_routes.values())
                requests_per_record = api_requests / n
                ideal = concurrency / (requests_per_record * args.latency_ms / 1000)
                entry = {
                    "mode": mode, "concurrency": concurrency, "records": n,
                    "records_per_s": round(n / run["wall_s"], 1),
                    "records_per_s_publishing": None if not window else round(n / window, 1),
                    "ideal_records_per_s": round(ideal, 1),
                    "wall_s": round(run["wall_s"], 3),
                    "publishing_s": None if window is None else round(window, 3),
                    "spawn_to_first_request_s": None if first_request is None else round(first_request, 3),
                    "api_requests": api_requests,
                    "requests_per_record": round(requests_per_record, 3),
                    "companyinfo_requests": stats["by_route"].get(COMPANYINFO, 0),
                    "by_route": stats["by_route"],
                    "sandbox_p50_ms": (stats.get("duration_ms") or {}).get("p50"),
                    "target_cpu_s": round(run["cpu_s"], 3),
                    "target_peak_rss_mb": round(run["peak_rss_mb"], 1),
                }
                runs.append(entry)
                say(f"bench: {mode:<6} concurrency {concurrency}: {entry['records_per_s']:.1f} rec/s "
                    f"({run['wall_s']:.2f} s wall, publishing {entry['publishing_s']} s), "
                    f"{requests_per_record:.2f} requests/record")
    finally:
        if sandbox is not None:
            sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    ratios = {}
    low, high = min(levels), max(levels)
    for mode in MODES:
        a = next(r for r in runs if r["mode"] == mode and r["concurrency"] == low)
        b = next(r for r in runs if r["mode"] == mode and r["concurrency"] == high)
        ratios[mode] = {
            "wall": round(b["records_per_s"] / a["records_per_s"], 2),
            "publishing": (None if not (a["records_per_s_publishing"] and b["records_per_s_publishing"])
                           else round(b["records_per_s_publishing"] / a["records_per_s_publishing"], 2)),
        }
    return {
        "records": n,
        "latency_ms": args.latency_ms,
        "entity": COLLECTION,
        "default_concurrency": default,
        "concurrency_levels": levels,
        "requests_per_minute": REQUESTS_PER_MINUTE,
        "runs": runs,
        "ratio_high_to_low_concurrency": ratios,
        **bench_common.environment(),
        "bench_wall_s": round(time.perf_counter() - t_bench, 1),
    }


def print_table(r: dict) -> None:
    levels = r["concurrency_levels"]
    low, high = min(levels), max(levels)
    head = ["mode", "concurrency", "rec/s (wall)", "rec/s (publishing)", "ideal rec/s",
            "requests/record", "wall s"]
    rows = [[x["mode"], str(x["concurrency"]), f"{x['records_per_s']:.1f}",
             "n/a" if x["records_per_s_publishing"] is None else f"{x['records_per_s_publishing']:.1f}",
             f"{x['ideal_records_per_s']:.1f}", f"{x['requests_per_record']:.2f}", f"{x['wall_s']:.2f}"]
            for x in r["runs"]]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    line = "  ".join("-" * w for w in widths)
    print(f"{r['records']} records, {r['latency_ms']:g} ms latency per request, {r['entity']}, "
          f"requests_per_minute {r['requests_per_minute']:,}")
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print(line)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    print(line)
    for mode, ratio in r["ratio_high_to_low_concurrency"].items():
        print(f"ratio concurrency {high} / {low}, {mode}: {ratio['wall']:.2f} (wall), "
              f"{ratio['publishing']} (publishing)")
    print(f"python {r['python']}, {r['date']}, whole bench {r['bench_wall_s']:.1f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=400, help="records per run (default 400)")
    ap.add_argument("--latency-ms", type=float, default=50.0,
                    help="sandbox latency per request, ms (default 50)")
    ap.add_argument("--concurrency", type=int, nargs="+", default=None,
                    help="concurrency levels (default: 1 and the target's default)")
    ap.add_argument("--output", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if args.records < 1 or args.latency_ms <= 0 or any(c < 1 for c in args.concurrency or [1]):
        ap.error("--records, --latency-ms and --concurrency must be positive")
    return run_bench(lambda: bench(args), args.output, print_table)


if __name__ == "__main__":
    raise SystemExit(main())
