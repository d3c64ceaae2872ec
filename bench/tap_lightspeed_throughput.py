"""Throughput benchmark: tap-lightspeed against a raw ``requests`` loop over the same version pages.

    uv run python bench/tap_lightspeed_throughput.py [--rows 200000] [--repeat 1] [--skip-rss] [--skip-budget]

One run does, in order (see bench/README.md for what each figure means):

1. starts the Lightspeed emulator in its own process (``connector-sandbox lightspeed``, its CPU not
   shared with the measured client's GIL) with ``--rows`` products and no request budget;
2. measures the tap's start-up (a run over 0 products) and its peak RSS over 20,000 products
   (unless ``--skip-rss``);
3. one baseline pass (untimed, it warms the emulator): ``GET /api/2.0/products?page_size=<the
   tap's>&deleted=true&after=<version.max of the last page>`` with the bearer token, until an
   empty page (a page may be shorter than asked: the emulator, like Lightspeed, caps it);
4. runs the tap once with its output piped to a counter: exactly N ``products`` RECORDs with N
   distinct ids, and the same requests (path and query) as the baseline's, or the bench fails;
5. best of ``--repeat``: the baseline loop (timed), then the tap with stdout to /dev/null (timed;
   requests from the emulator's stats, peak RSS and CPU from ``os.wait4`` on the tap);
6. the budget-bound run (unless ``--skip-budget``): a second emulator with a budget of
   ``--budget`` requests per ``--window`` seconds (Lightspeed's rule is 300 x registers + 50 per
   5 minutes; the same shape, scaled down so it binds in seconds), the tap over ``--budget-rows``
   products at ``page_size`` ``--budget-page-size`` told the window's length: its wall time against
   the least the budget allows, and the emulator's count of 429s (the bench fails on any).

The tap is run as ``.venv/bin/tap-lightspeed`` (a Python script whose process IS the tap), never
through ``uv run``, so the RSS and CPU figures are the tap's. Results go to
``bench/results/tap_lightspeed_throughput.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
import typing as t
from pathlib import Path
from urllib.parse import parse_qsl

import bench_common
import requests
from bench_common import BenchError, SandboxProcess, executable, run_bench

RESULTS = bench_common.ROOT / "bench" / "results" / "tap_lightspeed_throughput.json"
STREAM = "products"
TABLE = "/products"
TOKEN = "bench-personal-token"
RSS_SMALL = 20_000
PAGE_ROUTE = "GET /products"       # the emulator's route name for /api/2.0/products


def start_sandbox(workdir: Path, rows: int, *budget: str) -> SandboxProcess:
    sandbox = executable("connector-sandbox")
    limits = list(budget) or ["--no-rate-limit"]
    return SandboxProcess([str(sandbox), "lightspeed", "--port", "0", "--token", TOKEN,
                           "--size", f"{TABLE}={rows}", *limits], workdir, api_path="/api/2.0")


def resize(sandbox: SandboxProcess, n: int) -> None:
    sandbox.control("POST", "lightspeed/size", {"path": TABLE, "n": n})


def tap_page_size() -> int:
    from tap_lightspeed import catalog

    spec = next(s for s in catalog.stream_specs() if s.name == STREAM)
    if spec.paging != "version" or not spec.deleted:
        raise BenchError(f"the catalog's {STREAM} stream is no longer version-paged with deleted=true")
    return catalog.max_page_size()


def tap_command(tap: Path, workdir: Path, sandbox: SandboxProcess, name: str, **settings: object) -> list[str]:
    config = {"base_url": sandbox.api_url, "token": TOKEN, **settings}
    (workdir / name).write_text(json.dumps(config))
    return [str(tap), "--config", str(workdir / name), "--catalog", str(workdir / "catalog.json")]


def baseline_pass(api_url: str, page_size: int, expected: int) -> tuple[int, int, float, float]:
    """Raw ``requests`` over the pages the tap reads; one JSON line per record to /dev/null.
    Returns (records, pages, wall seconds, CPU seconds of this process)."""
    session = requests.Session()
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    n = pages = 0
    after = 0
    with open(os.devnull, "w") as out:
        t0, c0 = time.perf_counter(), time.process_time()
        while True:
            r = session.get(f"{api_url}/products", headers=headers, timeout=300,
                            params={"page_size": page_size, "deleted": "true", "after": after})
            if r.status_code != 200:
                raise BenchError(f"baseline GET {r.url[:200]} -> {r.status_code}: {r.text[:300]}")
            body = json.loads(r.content)
            pages += 1
            rows = body["data"]
            if not rows:
                break
            for row in rows:
                out.write(json.dumps(row))
                out.write("\n")
            n += len(rows)
            after = body["version"]["max"]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    session.close()
    if n != expected:
        raise BenchError(f"baseline read {n:,} records, the emulator holds {expected:,}")
    return n, pages, wall, cpu


def pages_made(log: list[dict]) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    return [(e["path"], tuple(sorted(parse_qsl(e["query"])))) for e in log if e["route"] == PAGE_ROUTE]


def budget_bound_run(args: argparse.Namespace, tap: Path, workdir: Path, say: t.Callable[..., None]) -> dict:
    """The tap under a budget that binds: ``--budget`` requests per ``--window`` seconds."""
    rows, size = args.budget_rows, args.budget_page_size
    sandbox = start_sandbox(workdir, rows, "--requests-per-window", str(args.budget),
                            "--window-seconds", str(args.window), "--max-page-size", str(size))
    try:
        cmd = tap_command(tap, workdir, sandbox, "config-budget.json", page_size=size,
                          rate_limit_window_seconds=args.window, rate_limit_reserve=args.reserve)
        run = bench_common.run_tap(cmd, workdir / "tap-budget.stderr", expected={STREAM: rows})
        stats = sandbox.stats(log=rows // size + 100)
    finally:
        sandbox.stop()
    log = stats.get("log", [])
    answered_429 = sum(1 for e in log if e["status"] == 429)
    requests_sent = len(log)
    # The budget resets every window: after the first `budget` requests, each further `budget`
    # needs a window of its own.
    minimum = math.floor((requests_sent - 1) / args.budget) * args.window
    # The tap leaves `rate_limit_reserve` requests of every window unspent (for other apps and
    # retries): the least it can take is then over budget - reserve a window.
    minimum_reserved = math.floor((requests_sent - 1) / (args.budget - args.reserve)) * args.window
    stamps = sorted(e["received_at"] for e in log)
    result = {"rows": rows, "page_size": size, "budget": args.budget, "window_s": args.window,
              "requests": requests_sent, "answered_429": answered_429, "wall_s": round(run.wall, 3),
              "span_first_to_last_request_s": round(stamps[-1] - stamps[0], 3),
              "minimum_span_s": minimum, "reserve": args.reserve, "minimum_span_with_reserve_s": minimum_reserved,
              "span_to_minimum_with_reserve_ratio":
                  round((stamps[-1] - stamps[0]) / minimum_reserved, 3) if minimum_reserved else None,
              "span_to_minimum_ratio": round((stamps[-1] - stamps[0]) / minimum, 3) if minimum else None,
              "tap_cpu_s": round(run.cpu, 2)}
    say(f"bench: budget-bound run: {rows:,} products in {requests_sent} requests ({size} a page), "
        f"{args.budget} per {args.window} s: span {result['span_first_to_last_request_s']} s against a "
        f"minimum of {minimum} s; 429s: {answered_429}")
    if answered_429:
        raise BenchError(f"budget-bound run: the emulator answered {answered_429} requests with 429")
    return result


def bench(args: argparse.Namespace) -> dict:
    n = args.rows
    tap = executable("tap-lightspeed")
    page_size = tap_page_size()
    workdir = Path(tempfile.mkdtemp(prefix="bench-ls-"))

    def say(*parts: object) -> None:
        print(*parts, file=sys.stderr, flush=True)

    sandbox = None
    try:
        (workdir / "catalog.json").write_text(json.dumps(bench_common.discover_catalog(
            tap, workdir, {"base_url": "http://127.0.0.1:9/api/2.0", "token": "x"}, STREAM)))
        sandbox = start_sandbox(workdir, n)
        say(f"bench: tap {tap}; emulator {sandbox.url} with {n:,} products; workdir {workdir}")
        cmd = tap_command(tap, workdir, sandbox, "config.json")
        stderr_path = workdir / "tap.stderr"

        resize(sandbox, 0)
        startup_runs = [bench_common.run_tap(cmd, stderr_path) for _ in range(3)]
        startup = min(r.wall for r in startup_runs)
        say(f"bench: tap start-up (0 products, best of 3): {startup:.2f} s")
        rss_small = None
        if not args.skip_rss and n != RSS_SMALL:
            resize(sandbox, RSS_SMALL)
            rss_small = bench_common.run_tap(cmd, stderr_path, expected={STREAM: RSS_SMALL}).peak_rss_mb
            say(f"bench: tap over {RSS_SMALL:,} products: peak RSS {rss_small:.0f} MB")
        resize(sandbox, n)

        sandbox.reset()
        _, pages, wall, _ = baseline_pass(sandbox.api_url, page_size, n)
        baseline_requests = pages_made(sandbox.stats(log=pages + 50).get("log", []))
        say(f"bench: warm-up baseline pass: {pages} pages in {wall:.2f} s")

        sandbox.reset()
        bench_common.run_tap(cmd, stderr_path, expected={STREAM: n})
        tap_requests = pages_made(sandbox.stats(log=pages + 50).get("log", []))
        if not baseline_requests or tap_requests != baseline_requests:
            raise BenchError(f"the tap made other requests than the baseline: {len(tap_requests)} vs "
                             f"{len(baseline_requests)}; first: tap {tap_requests[:1]} "
                             f"baseline {baseline_requests[:1]}")
        say(f"bench: check run: {n:,} records, distinct ids; {len(tap_requests)} page requests as the baseline's")

        base_runs, tap_runs = [], []
        for i in range(args.repeat):
            sandbox.reset()
            _, pages, wall, cpu = baseline_pass(sandbox.api_url, page_size, n)
            base_runs.append({"wall_s": wall, "cpu_s": cpu, "pages": pages})
            sandbox.reset()
            run = bench_common.run_tap(cmd, stderr_path)
            stats = sandbox.stats()
            if stats["by_status"] != {"200": stats["total"]}:
                raise BenchError(f"timed tap run: statuses {stats['by_status']}")
            tap_runs.append({"wall_s": run.wall, "cpu_s": run.cpu, "peak_rss_mb": run.peak_rss_mb,
                             "requests": stats["total"]})
            say(f"bench: repeat {i + 1}/{args.repeat}: baseline {n / wall:,.0f} rec/s, tap {n / run.wall:,.0f} "
                f"rec/s (CPU {run.cpu:.2f} s, RSS {run.peak_rss_mb:.0f} MB)")
    finally:
        if sandbox is not None:
            sandbox.stop()

    budget = None if args.skip_budget else budget_bound_run(args, tap, workdir, say)
    shutil.rmtree(workdir, ignore_errors=True)
    best_base = min(base_runs, key=lambda r: r["wall_s"])
    best_tap = min(tap_runs, key=lambda r: r["wall_s"])
    return {
        "rows": n, "stream": STREAM, "page_size_asked": page_size, "repeat": args.repeat,
        "baseline_records_per_s": round(n / best_base["wall_s"]),
        "tap_records_per_s": round(n / best_tap["wall_s"]),
        "tap_records_per_s_excl_startup": round(n / max(best_tap["wall_s"] - startup, 1e-9)),
        "ratio_tap_to_baseline": round(best_base["wall_s"] / best_tap["wall_s"], 3),
        "ratio_tap_excl_startup_to_baseline": round(best_base["wall_s"] / max(best_tap["wall_s"] - startup, 1e-9), 3),
        "tap_startup_s": round(startup, 3),
        "requests_per_1000_rows": round(best_tap["requests"] / n * 1000, 3),
        "tap_cpu_us_per_record": round(best_tap["cpu_s"] / n * 1e6, 1),
        "peak_rss_mb": {str(RSS_SMALL): None if rss_small is None else round(rss_small, 1),
                        str(n): round(best_tap["peak_rss_mb"], 1)},
        "baseline_runs": base_runs, "tap_runs": tap_runs, "budget_bound": budget,
        "environment": bench_common.environment(),
    }


def print_table(r: dict) -> None:
    n, rss, budget = r["rows"], r["peak_rss_mb"], r["budget_bound"] or {}
    rows = [
        ("products", f"{n:,}"),
        ("baseline (raw requests + json), rec/s", f"{r['baseline_records_per_s']:,}"),
        ("tap, rec/s (wall, incl. start-up)", f"{r['tap_records_per_s']:,}"),
        ("ratio tap / baseline (wall)", f"{r['ratio_tap_to_baseline']:.2f}"),
        ("ratio tap / baseline (excl. start-up)", f"{r['ratio_tap_excl_startup_to_baseline']:.2f}"),
        ("tap start-up, s", f"{r['tap_startup_s']:.2f}"),
        ("requests per 1,000 rows", f"{r['requests_per_1000_rows']:.3f}"),
        ("tap CPU per record, µs", f"{r['tap_cpu_us_per_record']:.1f}"),
        (f"peak RSS at {RSS_SMALL:,}, MB", str(rss[str(RSS_SMALL)])),
        (f"peak RSS at {n:,}, MB", str(rss[str(n)])),
    ]
    if budget:
        rows += [(f"budget-bound: {budget['requests']} requests, {budget['budget']}/{budget['window_s']} s",
                  f"{budget['span_first_to_last_request_s']} s"),
                 ("budget-bound: minimum span, s", str(budget["minimum_span_s"])),
                 ("budget-bound: span / minimum", str(budget["span_to_minimum_ratio"])),
                 (f"budget-bound: minimum keeping {budget['reserve']} in reserve, s",
                  str(budget["minimum_span_with_reserve_s"])),
                 ("budget-bound: span / minimum with reserve", str(budget["span_to_minimum_with_reserve_ratio"])),
                 ("budget-bound: 429s", str(budget["answered_429"]))]
    bench_common.print_figures(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200_000, help="products in the emulator (default 200000)")
    ap.add_argument("--repeat", type=int, default=1, help="best of k timed runs (default 1)")
    ap.add_argument("--skip-rss", action="store_true", help=f"no {RSS_SMALL:,}-product RSS run")
    ap.add_argument("--skip-budget", action="store_true", help="no budget-bound run")
    ap.add_argument("--budget", type=int, default=20, help="requests per window in the budget-bound run")
    ap.add_argument("--window", type=int, default=5, help="the budget's window, seconds")
    ap.add_argument("--reserve", type=int, default=5, help="the tap's rate_limit_reserve (its default: 5)")
    ap.add_argument("--budget-rows", type=int, default=5_000)
    ap.add_argument("--budget-page-size", type=int, default=100)
    args = ap.parse_args()
    return run_bench(lambda: bench(args), RESULTS, print_table)


if __name__ == "__main__":
    sys.exit(main())
