"""Throughput benchmark: tap-connectwise against a raw ``requests`` loop over the same pages.

    uv run python bench/tap_connectwise_throughput.py [--tickets 200000] [--repeat 1] [--skip-rss]

One run does, in order (see bench/README.md for what each figure means):

1. starts the ConnectWise sandbox in its own process (its CPU is not shared with the measured
   client's GIL) with ``--tickets`` tickets and an encoded-record cache large enough to hold them
   all (the ``connector-sandbox`` CLI has no flag for ``cache_records``, so the sandbox process is
   this script re-invoked with ``--serve-sandbox``, which builds ``ConnectWiseSandbox`` itself);
2. measures the tap's start-up (a run over 0 tickets, and the time from spawn to its first
   request in the sandbox log when the log carries ``received_at``);
3. measures the tap's peak RSS over 20,000 tickets (unless ``--skip-rss``);
4. warms the sandbox cache with one full forward-only pass (the baseline loop, untimed);
5. runs the tap once with its output piped to a counter: exactly N RECORD messages with distinct
   ids, and the same page requests (path, query, pagination header) as the baseline, or the
   bench fails;
6. best of ``--repeat``: the baseline loop (timed) then the tap with stdout to /dev/null (timed;
   data requests from the sandbox stats, peak RSS and CPU from ``os.wait4`` on the tap process,
   which a small launcher spawns so that the bench's own memory is not counted in it:
   ``bench_common.run_tap``).

The tap is run as ``.venv/bin/tap-connectwise`` (a Python script whose process IS the tap), never
through ``uv run``, so the RSS and CPU figures are the tap's. Results go to
``bench/results/tap_connectwise_throughput.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import bench_common
import requests
from bench_common import ROOT, BenchError, SandboxProcess, executable, run_bench

RESULTS = ROOT / "bench" / "results" / "tap_connectwise_throughput.json"

COMPANY_ID = "sandbox"
PUBLIC_KEY = "sandbox-public"
PRIVATE_KEY = "sandbox-private"
CLIENT_ID = "00000000-0000-4000-8000-000000000000"
API_VERSION = "2025.1"          # the tap's default `api_version`
PAGE_SIZE = 1000                # the tap's default `page_size`
STREAM = "service_tickets"
ENDPOINT = "/service/tickets"
RSS_SMALL = 20_000


# --------------------------------------------------------------------------- sandbox process
def serve_sandbox(port: int, seed: int, tickets: int, cache_records: int) -> int:
    """Body of the sandbox child process: the CLI plus a ``cache_records`` setting."""
    from connector_sandbox.connectwise import ConnectWiseSandbox

    server = ConnectWiseSandbox("127.0.0.1", port, seed=seed, sizes={ENDPOINT: tickets},
                                company_id=COMPANY_ID, public_key=PUBLIC_KEY,
                                private_key=PRIVATE_KEY, client_id=CLIENT_ID,
                                cache_records=cache_records)
    server.serve_until_signal()   # prints "READY http://127.0.0.1:PORT"
    return 0


def start_sandbox(tickets: int, cache_records: int, seed: int, workdir: Path) -> SandboxProcess:
    """This script re-run with ``--serve-sandbox``: the CLI has no ``cache_records`` flag."""
    return SandboxProcess([sys.executable, str(Path(__file__).resolve()), "--serve-sandbox",
                           "--port", "0", "--seed", str(seed), "--tickets", str(tickets),
                           "--cache-records", str(cache_records)], workdir)


def resize(sandbox: SandboxProcess, n: int) -> None:
    sandbox.control("POST", "connectwise/size", {"path": ENDPOINT, "n": n})


# --------------------------------------------------------------------------- the tap
def tap_executable() -> Path:
    return executable("tap-connectwise")


def discover_catalog(tap: Path, workdir: Path) -> dict:
    """The tap's catalog with only ``service_tickets`` selected (all its properties)."""
    return bench_common.discover_catalog(tap, workdir, {"company_id": "c", "public_key": "p",
                                                        "private_key": "k", "client_id": "i"},
                                         STREAM)


# --------------------------------------------------------------------------- the baseline
def baseline_pass(api_url: str, expected: int) -> tuple[int, int, float, float]:
    """Raw ``requests`` over the pages the tap reads; one JSON line per record to /dev/null.

    Returns (records, pages, wall seconds, CPU seconds of this process).
    """
    token = base64.b64encode(f"{COMPANY_ID}+{PUBLIC_KEY}:{PRIVATE_KEY}".encode()).decode()
    headers = {
        "Authorization": f"Basic {token}",
        "clientId": CLIENT_ID,
        "Accept": f"application/vnd.connectwise.com+json; version={API_VERSION}",
        "pagination-type": "forward-only",
    }
    url = api_url + ENDPOINT
    session = requests.Session()
    n = pages = 0
    params: dict[str, str | int] = {"pageSize": PAGE_SIZE}
    with open(os.devnull, "w") as out:
        t0, c0 = time.perf_counter(), time.process_time()
        while True:
            r = session.get(url, params=params, headers=headers, timeout=300)
            if r.status_code != 200:
                raise BenchError(f"baseline GET {r.url} -> {r.status_code}: {r.text[:300]}")
            rows = json.loads(r.content)
            pages += 1
            for row in rows:
                out.write(json.dumps(row))
                out.write("\n")
            n += len(rows)
            nxt = r.links.get("next")
            if len(rows) < PAGE_SIZE or nxt is None:
                break
            params = {"pageSize": PAGE_SIZE, "pageId": dict(parse_qsl(urlparse(nxt["url"]).query))["pageId"]}
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    session.close()
    if n != expected:
        raise BenchError(f"baseline read {n} records, expected {expected}")
    return n, pages, wall, cpu


# --------------------------------------------------------------------------- helpers
def page_requests(log: list[dict]) -> list[tuple[str, str, str | None]]:
    """(path, query, pagination-type) of the ticket-list requests in a sandbox log."""
    return [(e["path"], e["query"], e["headers"].get("pagination-type"))
            for e in log if e.get("route") == f"GET {ENDPOINT}"]


def first_request_delay(log: list[dict], started_epoch: float) -> float | None:
    stamps = [e["received_at"] for e in log if e.get("received_at") is not None]
    return (min(stamps) - started_epoch) if stamps else None


def p50(stats: dict) -> float | None:
    return (stats.get("duration_ms") or {}).get("p50")


def fmt(x: float | None, spec: str = ",.0f") -> str:
    return "n/a" if x is None else format(x, spec)


# --------------------------------------------------------------------------- main
def bench(args: argparse.Namespace) -> dict:
    t_bench = time.perf_counter()
    n = args.tickets
    tap = tap_executable()
    cache_records = args.cache_records or n + PAGE_SIZE
    workdir = Path(tempfile.mkdtemp(prefix="bench-cw-"))
    log_limit = n // PAGE_SIZE + 50
    def say(*parts: object) -> None:
        print(*parts, file=sys.stderr, flush=True)

    sandbox = None
    try:
        say(f"bench: tap {tap}; sandbox {n:,} tickets, cache_records={cache_records:,}; workdir {workdir}")
        catalog = discover_catalog(tap, workdir)
        (workdir / "catalog.json").write_text(json.dumps(catalog))
        sandbox = start_sandbox(n, cache_records, args.seed, workdir)
        say(f"bench: sandbox {sandbox.url} (pid {sandbox.proc.pid})")
        (workdir / "config.json").write_text(json.dumps({
            "company_id": COMPANY_ID, "public_key": PUBLIC_KEY, "private_key": PRIVATE_KEY,
            "client_id": CLIENT_ID, "site": sandbox.url}))
        cmd = [str(tap), "--config", str(workdir / "config.json"), "--catalog", str(workdir / "catalog.json")]
        stderr_path = workdir / "tap.stderr"

        # -- start-up: the tap over 0 tickets (resizing empties the sandbox caches, so first) ----
        resize(sandbox, 0)
        startups = []
        for _ in range(max(3, args.repeat)):
            run = bench_common.run_tap(cmd, stderr_path)
            startups.append(run.wall)
        startup = min(startups)
        say(f"bench: tap start-up (0 tickets, best of {len(startups)}): {startup:.2f} s")

        # -- peak RSS over 20,000 tickets ---------------------------------------------------------
        rss_small = None
        if not args.skip_rss and n != RSS_SMALL:
            resize(sandbox, RSS_SMALL)
            run = bench_common.run_tap(cmd, stderr_path, expected={STREAM: RSS_SMALL})
            rss_small = run.peak_rss_mb
            say(f"bench: tap over {RSS_SMALL:,} tickets: {run.wall:.2f} s, peak RSS {rss_small:.0f} MB")
        resize(sandbox, n)

        # -- warm-up: one full pass fills the sandbox's record cache ------------------------------
        sandbox.reset()
        _, pages, wall, _ = baseline_pass(sandbox.api_url, n)
        warm_stats = sandbox.stats(log=log_limit)
        baseline_pages = page_requests(warm_stats.get("log", []))
        say(f"bench: warm-up pass: {pages} pages in {wall:.2f} s (cold sandbox, p50 "
            f"{fmt(p50(warm_stats), '.1f')} ms/page)")

        # -- correctness: the tap emits exactly N records and requests the same pages -------------
        sandbox.reset()
        run = bench_common.run_tap(cmd, stderr_path, expected={STREAM: n})
        check_stats = sandbox.stats(log=log_limit)
        tap_pages = page_requests(check_stats.get("log", []))
        if tap_pages != baseline_pages:
            diff = next((i for i, (a, b) in enumerate(zip(tap_pages, baseline_pages)) if a != b),
                        min(len(tap_pages), len(baseline_pages)))
            raise BenchError(f"the tap requested other pages than the baseline: {len(tap_pages)} vs "
                             f"{len(baseline_pages)} requests; first difference at #{diff}: "
                             f"tap {tap_pages[diff:diff + 1]} baseline {baseline_pages[diff:diff + 1]}")
        say(f"bench: check run: {run.consumed[STREAM]:,} records, each id once, "
            f"{len(tap_pages)} page requests identical to the baseline's ({run.wall:.2f} s)")

        # -- timed runs, best of k ------------------------------------------------------------------
        base_runs, tap_runs = [], []
        for i in range(args.repeat):
            sandbox.reset()
            _, pages, wall, cpu = baseline_pass(sandbox.api_url, n)
            bstats = sandbox.stats()
            base_runs.append({"wall_s": wall, "cpu_s": cpu, "pages": pages,
                              "sandbox_p50_ms": p50(bstats)})
            sandbox.reset()
            run = bench_common.run_tap(cmd, stderr_path)
            tstats = sandbox.stats(log=log_limit)
            first = first_request_delay(tstats.get("log", []), run.spawn_epoch)
            tap_runs.append({"wall_s": run.wall, "cpu_s": run.cpu, "peak_rss_mb": run.peak_rss_mb,
                             "data_requests": tstats["data_requests"], "total_requests": tstats["total"],
                             "first_request_s": first, "sandbox_p50_ms": p50(tstats)})
            if tstats["data_requests"] != len(baseline_pages):
                raise BenchError(f"timed tap run made {tstats['data_requests']} data requests, "
                                 f"expected {len(baseline_pages)}")
            say(f"bench: repeat {i + 1}/{args.repeat}: baseline {n / wall:,.0f} rec/s ({wall:.2f} s), "
                f"tap {n / run.wall:,.0f} rec/s ({run.wall:.2f} s, CPU {run.cpu:.2f} s, "
                f"RSS {run.peak_rss_mb:.0f} MB)")

        best_base = min(base_runs, key=lambda r: r["wall_s"])
        best_tap = min(tap_runs, key=lambda r: r["wall_s"])
        base_rate = n / best_base["wall_s"]
        tap_rate = n / best_tap["wall_s"]
        net = best_tap["wall_s"] - startup
        tap_rate_net = n / net if net > 0 else None
        first = best_tap["first_request_s"]
        tap_rate_first = n / (best_tap["wall_s"] - first) if first is not None else None
        result = {
            "tickets": n,
            "repeat": args.repeat,
            "baseline_records_per_s": round(base_rate, 1),
            "tap_records_per_s": round(tap_rate, 1),
            "tap_records_per_s_excl_startup": None if tap_rate_net is None else round(tap_rate_net, 1),
            "tap_records_per_s_after_first_request": None if tap_rate_first is None else round(tap_rate_first, 1),
            "ratio_tap_to_baseline": round(tap_rate / base_rate, 3),
            "ratio_tap_excl_startup_to_baseline": None if tap_rate_net is None else round(tap_rate_net / base_rate, 3),
            "data_requests_per_1000_records": round(best_tap["data_requests"] / n * 1000, 3),
            "data_requests": best_tap["data_requests"],
            "peak_rss_mb": {str(RSS_SMALL): None if rss_small is None else round(rss_small, 1),
                            str(n): round(max(r["peak_rss_mb"] for r in tap_runs), 1)},
            "tap_startup_s": round(startup, 3),
            "tap_first_request_s": None if first is None else round(first, 3),
            "baseline_wall_s": round(best_base["wall_s"], 3),
            "baseline_cpu_s": round(best_base["cpu_s"], 3),
            "tap_wall_s": round(best_tap["wall_s"], 3),
            "tap_cpu_s": round(best_tap["cpu_s"], 3),
            "sandbox_p50_ms_per_page": {"baseline": best_base["sandbox_p50_ms"], "tap": best_tap["sandbox_p50_ms"]},
            "sandbox_cache_records": cache_records,
            "runs": {"baseline": base_runs, "tap": tap_runs, "startup_s": startups},
            **bench_common.environment(),
        }
    finally:
        if sandbox is not None:
            sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    result["bench_wall_s"] = round(time.perf_counter() - t_bench, 1)
    return result


def print_table(r: dict) -> None:
    n = r["tickets"]
    rss = r["peak_rss_mb"]
    rows = [
        ("tickets", f"{n:,}"),
        ("baseline (raw requests + json), rec/s", fmt(r["baseline_records_per_s"])),
        ("tap, rec/s (wall, incl. start-up)", fmt(r["tap_records_per_s"])),
        ("tap, rec/s (excl. start-up)", fmt(r["tap_records_per_s_excl_startup"])),
        ("ratio tap / baseline (wall)", fmt(r["ratio_tap_to_baseline"], ".2f")),
        ("ratio tap / baseline (excl. start-up)", fmt(r["ratio_tap_excl_startup_to_baseline"], ".2f")),
        ("tap start-up, s (0-ticket run)", fmt(r["tap_startup_s"], ".2f")),
        ("tap spawn -> first request, s", fmt(r["tap_first_request_s"], ".2f")),
        ("data requests per 1,000 records", fmt(r["data_requests_per_1000_records"], ".3f")),
        (f"tap peak RSS at {RSS_SMALL:,} records, MB", fmt(rss.get(str(RSS_SMALL)))),
        (f"tap peak RSS at {n:,} records, MB", fmt(rss.get(str(n)))),
        ("tap CPU s / baseline CPU s", f"{r['tap_cpu_s']:.1f} / {r['baseline_cpu_s']:.1f}"),
        ("python", r["python"]),
        ("date", r["date"]),
        ("whole bench, s", fmt(r["bench_wall_s"], ".1f")),
    ]
    bench_common.print_figures(rows, 12)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tickets", type=int, default=200_000, help="tickets in the sandbox (default 200000)")
    ap.add_argument("--repeat", type=int, default=1, help="best of k timed runs (default 1)")
    ap.add_argument("--skip-rss", action="store_true",
                    help=f"skip the extra {RSS_SMALL:,}-ticket RSS run (RSS at --tickets is still reported)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--cache-records", type=int, default=0,
                    help="sandbox encoded-record cache (default: tickets + 1000, i.e. all of them)")
    ap.add_argument("--output", type=Path, default=RESULTS)
    ap.add_argument("--serve-sandbox", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve_sandbox:
        return serve_sandbox(args.port, args.seed, args.tickets, args.cache_records or args.tickets + PAGE_SIZE)
    if args.tickets < 1 or args.repeat < 1:
        ap.error("--tickets and --repeat must be at least 1")
    return run_bench(lambda: bench(args), args.output, print_table)


if __name__ == "__main__":
    raise SystemExit(main())
