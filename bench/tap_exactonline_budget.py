"""Budget benchmark: tap-exactonline reads 100,000 transaction lines under a minutely budget.

    uv run python bench/tap_exactonline_budget.py [--rows 100000] [--budget 25]

Exact Online allows an app a number of calls per division per minute (60 by default), in windows
aligned to the whole minute, and announces what is left in ``X-RateLimit-Minutely-*`` headers.
This bench scales that budget down (``--budget`` calls a minute, 25 by default) so 100 pages
cross several minute boundaries, and measures whether the tap:

* asks for every page exactly once: data requests against the minimum ``ceil(rows / 1000)``;
* never gets a 429: the sandbox's ``rate_limited_minutely`` counter and its request log;
* loses no time: its wall time against the least the budget allows (see bench/README.md for the
  exact definition), and how long after each announced reset it sends its next request;
* emits every row exactly once (``(Division, ID)``).

One run does, in order:

1. starts ``connector-sandbox exactonline`` in its own process (one division, ``--rows`` lines
   in ``financial/TransactionLines``, ``--tokens-file`` for a token pair, clock = real time);
2. a reference run with the minutely budget switched off (the tap's ``requests_per_minute``
   raised too): the tap's pace when nothing holds it back;
3. the budgeted run: budget ``--budget`` through the control plane, counters reset; the tap
   (``.venv/bin/tap-exactonline``, its ``requests_per_minute`` left at its default unless
   ``--tap-requests-per-minute``) with stdout piped to a counter.

The bench fails (exit 1, ``bench FAILED: ...``) if the tap exits non-zero, emits another number of
rows or a row twice, or makes another number of data requests than the minimum. A 429 is a figure
(expected 0), not a failure. Results go to ``bench/results/tap_exactonline_budget.json``
(git-ignored).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bench_common
from bench_common import ROOT, BenchError, SandboxProcess, executable, run_bench

RESULTS = ROOT / "bench" / "results" / "tap_exactonline_budget.json"

STREAM = "financial_transactionlines"
TABLE = "financial/TransactionLines"
SYNC_PATH = "/sync/Financial/TransactionLines"
DIVISION = 100001
PAGE = 1000          # rows per sync page (Exact's, and the tap's)
WINDOW = 60          # Exact's minutely window, aligned to the clock's whole minutes
UNLIMITED_RPM = 1_000_000


# --------------------------------------------------------------------------- the tap
def discover_catalog(tap: Path, workdir: Path) -> dict:
    return bench_common.discover_catalog(tap, workdir, {
        "client_id": "c", "client_secret": "s", "token_store": str(workdir / "unused.json")}, STREAM)


def write_token_store(path: Path, tokens_file: Path) -> None:
    """The store as `tap-exactonline authorize` leaves it, from the sandbox's fresh token pair."""
    tokens = json.loads(tokens_file.read_text())
    now = time.time()
    path.write_text(json.dumps({"access_token": tokens["access_token"],
                                "refresh_token": tokens["refresh_token"],
                                "expires_at": now + int(tokens["expires_in"]), "obtained_at": now}))
    path.chmod(0o600)


def run_tap(cmd: list[str], stderr_path: Path, expected: int) -> dict:
    """Run the tap with stdout to the counter; wall time, exit time, CPU and peak RSS."""
    run = bench_common.run_tap(cmd, stderr_path, expected={STREAM: expected}, key=("Division", "ID"))
    return {"records": run.consumed[STREAM], "wall_s": run.wall, "spawn_epoch": run.spawn_epoch,
            "exit_epoch": run.exit_epoch, "cpu_s": run.cpu, "peak_rss_mb": run.peak_rss_mb}


# --------------------------------------------------------------------------- the budget's arithmetic
def window_of(epoch: float) -> int:
    return int(epoch // WINDOW)


def ideal_span(t_first: float, requests: int, budget: int, service: float) -> float:
    """Seconds from the first request to the last one for a client that sends each request at the
    earliest moment the budget allows: back to back, ``service`` s apart, at most ``budget`` per
    clock-aligned minute, resuming exactly at each minute boundary."""
    t = t_first
    window, used = window_of(t), 0
    last = t
    for _ in range(requests):
        if window_of(t) != window:
            window, used = window_of(t), 0
        if used == budget:
            window += 1
            t, used = float(window * WINDOW), 0
        used += 1
        last = t
        t += service
    return last - t_first


def budget_floor(t_first: float, requests: int, budget: int) -> float:
    """Seconds from the first request to the ((requests - 1) // budget)-th minute boundary after it:
    the wait no client can avoid (0 when every request fits in the first window)."""
    crossings = (requests - 1) // budget
    if crossings == 0:
        return 0.0
    return (window_of(t_first) + crossings) * WINDOW - t_first


def analyse(pages: list[dict], budget: int) -> dict:
    """Per-window counts, the tap's pace between unheld requests, and its lag after each reset."""
    stamps = [p["received_at"] for p in pages]
    windows: dict[int, int] = {}
    for s in stamps:
        windows[window_of(s)] = windows.get(window_of(s), 0) + 1
    gaps = [b - a for a, b in zip(stamps, stamps[1:]) if window_of(a) == window_of(b)]
    lags = [b - window_of(b) * WINDOW for a, b in zip(stamps, stamps[1:]) if window_of(a) != window_of(b)]
    return {
        "requests_per_window": list(windows.values()),
        "max_requests_in_a_window": max(windows.values()),
        "service_s_median": statistics.median(gaps) if gaps else None,
        "resume_lags_s": [round(x, 3) for x in lags],
    }


# --------------------------------------------------------------------------- main
def bench(args: argparse.Namespace) -> dict:
    t_bench = time.perf_counter()
    rows, budget = args.rows, args.budget
    minimum_requests = math.ceil(rows / PAGE)
    tap = executable("tap-exactonline")
    sandbox_cli = executable("connector-sandbox")
    workdir = Path(tempfile.mkdtemp(prefix="bench-eo-budget-"))
    def say(*parts: object) -> None:
        print(*parts, file=sys.stderr, flush=True)

    sandbox = None
    try:
        say(f"bench: tap {tap}; {rows:,} transaction lines, budget {budget}/min; workdir {workdir}")
        (workdir / "catalog.json").write_text(json.dumps(discover_catalog(tap, workdir)))
        tokens_file = workdir / "sandbox_tokens.json"
        sandbox = SandboxProcess(
            [str(sandbox_cli), "exactonline", "--port", "0", "--seed", str(args.seed),
             "--divisions", str(DIVISION), "--size", f"{TABLE}={rows}",
             "--minutely-limit", str(budget), "--tokens-file", str(tokens_file)],
            workdir, api_path="/api/v1")
        say(f"bench: sandbox {sandbox.url} (pid {sandbox.proc.pid})")
        if not tokens_file.exists():
            raise BenchError(f"the sandbox wrote no {tokens_file.name}")
        now = sandbox.control("GET", "clock")["now"]
        say(f"bench: sandbox clock {now} (real time: the CLI does not offset it)")

        def config(rpm: int | None) -> list[str]:
            store = workdir / "tokens.json"
            write_token_store(store, tokens_file)
            cfg = {"client_id": args.client_id, "client_secret": args.client_secret,
                   "token_store": str(store), "base_url": sandbox.url, "divisions": [DIVISION]}
            if rpm is not None:
                cfg["requests_per_minute"] = rpm
            (workdir / "config.json").write_text(json.dumps(cfg))
            return [str(tap), "--config", str(workdir / "config.json"),
                    "--catalog", str(workdir / "catalog.json")]

        def sync_pages() -> list[dict]:
            log = sandbox.stats(log=minimum_requests * 3 + 100).get("log", [])
            return [e for e in log if SYNC_PATH in e["path"]]

        # -- reference: no minutely budget on either side ------------------------------------------
        reference = None
        if not args.skip_reference:
            sandbox.control("POST", "exactonline/limits", {"minutely": None, "reset": True})
            sandbox.reset()
            ref = run_tap(config(UNLIMITED_RPM), workdir / "tap_reference.stderr", rows)
            ref_stats = sandbox.stats()
            reference = {"wall_s": round(ref["wall_s"], 3), "rows_per_s": round(rows / ref["wall_s"], 1),
                         "data_requests": ref_stats["data_requests"], "cpu_s": round(ref["cpu_s"], 2),
                         "peak_rss_mb": round(ref["peak_rss_mb"], 1)}
            say(f"bench: reference run (no budget): {ref['wall_s']:.2f} s, "
                f"{rows / ref['wall_s']:,.0f} rows/s, {ref_stats['data_requests']} data requests")

        # -- the budgeted run ---------------------------------------------------------------------
        sandbox.control("POST", "exactonline/limits", {"minutely": budget, "reset": True})
        sandbox.reset()
        stderr_path = workdir / "tap.stderr"
        say(f"bench: budgeted run: {minimum_requests} pages at {budget} a minute "
            f"(tap requests_per_minute: {args.tap_requests_per_minute or 'default'}) ...")
        run = run_tap(config(args.tap_requests_per_minute), stderr_path, rows)
        stats = sandbox.stats()
        pages = sync_pages()
        ok = [p for p in pages if p["status"] == 200]
        if stats["data_requests"] != minimum_requests or len(ok) != minimum_requests:
            raise BenchError(f"{stats['data_requests']} data requests ({len(ok)} sync pages answered "
                             f"200), expected the minimum {minimum_requests}")
        limited_minutely = stats["exactonline"]["rate_limited_minutely"]
        status_429 = sum(1 for p in pages if p["status"] == 429)
        t_first, t_last = ok[0]["received_at"], ok[-1]["received_at"]
        shape = analyse(ok, budget)
        service = shape["service_s_median"] or 0.0
        startup = t_first - run["spawn_epoch"]
        finish = run["exit_epoch"] - t_last
        span = t_last - t_first
        ideal = ideal_span(t_first, minimum_requests, budget, service)
        floor = budget_floor(t_first, minimum_requests, budget)
        minimum_wall = startup + ideal + finish
        stderr_text = stderr_path.read_text(errors="replace")
        waits = re.findall(r"Rate limiter exact \S+ minutely: waiting ([0-9.]+) s", stderr_text)
        say(f"bench: {run['records']:,} rows in {run['wall_s']:.1f} s; {stats['data_requests']} data "
            f"requests; {limited_minutely} minutely 429s; minimum wall {minimum_wall:.1f} s")
        result = {
            "rows": rows,
            "budget_per_minute": budget,
            "tap_requests_per_minute": args.tap_requests_per_minute,
            "data_requests": stats["data_requests"],
            "minimum_data_requests": minimum_requests,
            "rate_limited_minutely": limited_minutely,
            "status_429_in_log": status_429,
            "status_counts": stats["by_status"],
            "wall_s": round(run["wall_s"], 3),
            "minimum_wall_s": round(minimum_wall, 3),
            "wall_over_minimum_s": round(run["wall_s"] - minimum_wall, 3),
            "wall_to_minimum_ratio": round(run["wall_s"] / minimum_wall, 4),
            "startup_s": round(startup, 3),
            "span_first_to_last_request_s": round(span, 3),
            "ideal_span_s": round(ideal, 3),
            "budget_floor_s": round(floor, 3),
            "finish_s": round(finish, 3),
            "service_s_median": round(service, 4),
            "first_request_second_of_minute": round(t_first % WINDOW, 2),
            "minute_boundaries_crossed": len(shape["resume_lags_s"]),
            "minimum_boundaries": (minimum_requests - 1) // budget,
            "requests_per_window": shape["requests_per_window"],
            "resume_lags_s": shape["resume_lags_s"],
            "limiter_waits_logged": len(waits),
            "limiter_wait_s_total": round(sum(float(w) for w in waits), 2),
            "rows_per_s": round(rows / run["wall_s"], 1),
            "tap_cpu_s": round(run["cpu_s"], 2),
            "tap_peak_rss_mb": round(run["peak_rss_mb"], 1),
            "reference_no_budget": reference,
            **bench_common.environment(),
        }
    finally:
        if sandbox is not None:
            sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    result["bench_wall_s"] = round(time.perf_counter() - t_bench, 1)
    return result


def fmt(x: float | None, spec: str = ",.1f") -> str:
    return "n/a" if x is None else format(x, spec)


def print_table(r: dict) -> None:
    ref = r["reference_no_budget"] or {}
    lags = r["resume_lags_s"]
    rows = [
        ("rows (financial/TransactionLines)", f"{r['rows']:,}"),
        ("budget, calls per minute", str(r["budget_per_minute"])),
        ("data requests / minimum", f"{r['data_requests']} / {r['minimum_data_requests']}"),
        ("429s (minutely counter / in log)", f"{r['rate_limited_minutely']} / {r['status_429_in_log']}"),
        ("wall s / minimum s", f"{r['wall_s']:.1f} / {r['minimum_wall_s']:.1f}"),
        ("wall over minimum, s", fmt(r["wall_over_minimum_s"], ".2f")),
        ("budget floor, s (first request -> boundary)", fmt(r["budget_floor_s"])),
        ("minute boundaries crossed / minimum", f"{r['minute_boundaries_crossed']} / {r['minimum_boundaries']}"),
        ("requests per window", " ".join(map(str, r["requests_per_window"]))),
        ("resume lag after reset, s (max)", fmt(max(lags) if lags else None, ".3f")),
        ("tap s per page when not waiting", fmt(r["service_s_median"], ".3f")),
        ("rows/s (budgeted, wall)", fmt(r["rows_per_s"], ",.0f")),
        ("rows/s (no budget, reference)", fmt(ref.get("rows_per_s"), ",.0f")),
        ("tap start-up (spawn -> first request), s", fmt(r["startup_s"], ".2f")),
        ("tap CPU s / peak RSS MB", f"{r['tap_cpu_s']:.1f} / {r['tap_peak_rss_mb']:.0f}"),
        ("date", r["date"]),
        ("whole bench, s", fmt(r["bench_wall_s"])),
    ]
    bench_common.print_figures(rows, 20)


def main(argv: list[str] | None = None) -> int:
    from connector_sandbox.exactonline import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000, help="transaction lines (default 100000)")
    ap.add_argument("--budget", type=int, default=25, help="calls per minute per division (default 25)")
    ap.add_argument("--tap-requests-per-minute", type=int, default=None,
                    help="the tap's requests_per_minute setting (default: the tap's default)")
    ap.add_argument("--skip-reference", action="store_true", help="skip the run without a budget")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help=argparse.SUPPRESS)
    ap.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET, help=argparse.SUPPRESS)
    ap.add_argument("--output", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if args.rows < 1 or args.budget < 1:
        ap.error("--rows and --budget must be at least 1")
    return run_bench(lambda: bench(args), args.output, print_table)


if __name__ == "__main__":
    raise SystemExit(main())
