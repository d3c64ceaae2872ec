"""Throughput benchmark: tap-superoffice against a raw ``requests`` loop over the same keyset pages.

    uv run python bench/tap_superoffice_throughput.py [--rows 200000] [--repeat 1] [--skip-rss]

One run does, in order (see bench/README.md for what each figure means):

1. starts the SuperOffice emulator in its own process (its CPU is not shared with the measured
   client's GIL) with ``--rows`` contacts, its 10-a-second throttle off, and a record cache large
   enough to hold them all (the ``connector-sandbox`` CLI has no flag for the cache, so the
   emulator process is this script re-invoked with ``--serve-sandbox``, which builds
   ``SuperOfficeSandbox`` itself and, like the CLI's ``--tokens-file``, writes the token pair it
   issued); the tap's token store is seeded from that pair as ``tap-superoffice authorize`` leaves
   it (the same code as scripts/demos/superoffice.sh);
2. measures the tap's start-up (a run over 0 contacts) and its peak RSS over 20,000 contacts
   (unless ``--skip-rss``);
3. warms the emulator's cache with one baseline pass (untimed): the tenant's API host from
   ``GET {env}/api/state/{tenant}``, then ``GET {Api}/v1/Contact?$select=<the provider's
   columns>&$top=1000&$orderBy=contactId[&$filter=contactId gt <last>]`` with the bearer token,
   until a page shorter than 1,000;
4. runs the tap once with its output piped to a counter: exactly N ``contact`` RECORDs with the
   distinct ids 1..N, and the same requests (state look-up and pages: path and query) as the
   baseline's, or the bench fails;
5. best of ``--repeat``: the baseline loop (timed), then the tap with stdout to /dev/null (timed;
   requests from the emulator's stats and log, peak RSS and CPU from ``os.wait4`` on the tap);
6. the rate-bound run (unless ``--skip-rate``): the emulator's throttle on (10 requests a second
   per app and tenant, sliding, as SuperOffice's rule for custom apps), ``--rate-rows`` contacts
   read with ``page_size`` ``--rate-page-size`` so that the tap could go faster than 10 pages a
   second: its wall time against the least the rule allows (requests / 10 s), and no 429.

The tap is run as ``.venv/bin/tap-superoffice`` (a Python script whose process IS the tap), never
through ``uv run``, so the RSS and CPU figures are the tap's. Results go to
``bench/results/tap_superoffice_throughput.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import typing as t
from pathlib import Path
from urllib.parse import parse_qsl

import bench_common
import requests
from bench_common import ROOT, BenchError, SandboxProcess, executable, run_bench

RESULTS = ROOT / "bench" / "results" / "tap_superoffice_throughput.json"

STREAM = "contact"
ENTITY = "Contact"              # the emulator's table (archive provider SimpleContact)
KEY = "contactId"
PAGE_SIZE = 1000                # the tap's default (and maximum) `page_size`
RSS_SMALL = 20_000
RATE = 10                       # SuperOffice: no more than 10 API calls a second
PACING_MARGIN = 0.005           # the paced baseline's margin over the emulator's sliding second
PAGE_ROUTE = f"GET /api/v1/{ENTITY}"
STATE_ROUTE = "GET /{env}/api/state/{tenant}"


# --------------------------------------------------------------------------- emulator process
def serve_sandbox(port: int, seed: int, rows: int, cache_records: int, tokens_file: Path) -> int:
    """Body of the emulator child process: the CLI's ``--tokens-file``, throttle off, a big cache."""
    from connector_sandbox.store import BoundedCache
    from connector_sandbox.superoffice import SuperOfficeSandbox

    server = SuperOfficeSandbox("127.0.0.1", port, seed=seed, sizes={ENTITY: rows}, requests_per_second=None)
    server.store.cache = BoundedCache(cache_records)
    started = server.on_start

    def on_start() -> None:
        started()
        tokens_file.write_text(json.dumps({**server.issue_tokens(), "base_url": server.url}))

    server.on_start = on_start  # type: ignore[method-assign]
    server.serve_until_signal()   # prints "READY http://127.0.0.1:PORT" once the tokens are written
    return 0


def start_sandbox(rows: int, cache_records: int, seed: int, workdir: Path) -> SandboxProcess:
    return SandboxProcess([sys.executable, str(Path(__file__).resolve()), "--serve-sandbox",
                           "--port", "0", "--seed", str(seed), "--rows", str(rows),
                           "--cache-records", str(cache_records),
                           "--tokens-file", str(workdir / "sandbox-tokens.json")], workdir,
                          api_path="/online2/Cust12345/api/v1")


def resize(sandbox: SandboxProcess, n: int) -> None:
    sandbox.control("POST", "superoffice/size", {"path": ENTITY, "n": n})


def throttle(sandbox: SandboxProcess, per_second: int | None) -> None:
    sandbox.control("POST", "superoffice/throttle", {"requests_per_second": per_second})


def seed_token_store(store_path: Path, tokens_file: Path) -> dict:
    """The token store as `tap-superoffice authorize` leaves it (as scripts/demos/superoffice.sh
    seeds it): the pair the emulator issued, obtained when it wrote the file."""
    from connector_core.oauth import OAuthTokens, TokenStore

    tokens = json.loads(tokens_file.read_text())
    issued = os.path.getmtime(tokens_file)
    store = TokenStore(str(store_path))
    with store.lock():
        store.write(OAuthTokens(tokens["access_token"], tokens["refresh_token"],
                                issued + int(tokens["expires_in"]), issued))
    return tokens


# --------------------------------------------------------------------------- the tap
def columns() -> list[str]:
    """The contact provider's columns, as the tap `$select`s them (no extra_columns)."""
    from tap_superoffice import catalog

    spec = next(s for s in catalog.stream_specs() if s.name == STREAM)
    if spec.paging != "keyset" or spec.primary_keys != (KEY,):
        raise BenchError(f"the catalog's {STREAM} stream is no longer keyset-paged on {KEY}")
    return list(spec.columns)


def tap_limiter() -> tuple[int, float]:
    """(requests, seconds) of the tap's own limiter at its default ``requests_per_second``."""
    from superoffice_client import SuperOfficeConnection

    limiter = SuperOfficeConnection({"tenant_id": "Cust1", "client_id": "c", "client_secret": "s",
                                     "token_store": "unused.json"}).rate_limiter()
    return int(limiter.max_requests or 0), float(limiter.per_seconds)


def pace(stamps: list[float]) -> tuple[int, float | None]:
    """The most requests in any sliding second (as the emulator counts), and the sustained rate."""
    stamps = sorted(stamps)
    most, j = 0, 0
    for i, s in enumerate(stamps):
        while stamps[j] <= s - 1.0:
            j += 1
        most = max(most, i - j + 1)
    span = stamps[-1] - stamps[0] if stamps else 0.0
    return most, ((len(stamps) - 1) / span if span > 0 else None)


def discover_catalog(tap: Path, workdir: Path) -> dict:
    return bench_common.discover_catalog(tap, workdir, {
        "tenant_id": "Cust1", "client_id": "c", "client_secret": "s",
        "token_store": str(workdir / "unused.json")}, STREAM)


def tap_command(tap: Path, workdir: Path, sandbox: SandboxProcess, store: Path, tokens: dict,
                name: str, **settings: object) -> list[str]:
    from connector_sandbox.superoffice.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT

    config = {"base_url": f"{sandbox.url}/online", "tenant_id": DEFAULT_TENANT, "client_id": DEFAULT_CLIENT_ID,
              "client_secret": DEFAULT_CLIENT_SECRET, "token_store": str(store), **settings}
    (workdir / name).write_text(json.dumps(config))
    return [str(tap), "--config", str(workdir / name), "--catalog", str(workdir / "catalog.json")]


# --------------------------------------------------------------------------- the baseline
def baseline_pass(env_url: str, tenant: str, token: str, cols: list[str], expected: int,
                  per_second: int | None = None) -> tuple[int, int, float, float, int]:
    """Raw ``requests`` over the pages the tap reads; one JSON line per record to /dev/null.

    ``per_second``: keep to SuperOffice's rule as the emulator counts it (at most that many API
    requests in any sliding second; a 429 is waited out 0.2 s and sent again, and counted).
    Returns (records, pages, wall seconds, CPU seconds of this process, 429s).
    """
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    select = ",".join(cols)
    n = pages = refused = 0
    sent: collections.deque[float] = collections.deque()
    with open(os.devnull, "w") as out:
        t0, c0 = time.perf_counter(), time.process_time()
        state = session.get(f"{env_url}/api/state/{tenant}", headers={"Accept": "application/json"}, timeout=60)
        if state.status_code != 200 or not state.json().get("Api"):
            raise BenchError(f"baseline: tenant state answered {state.status_code}: {state.text[:300]}")
        url = state.json()["Api"].rstrip("/") + f"/v1/{ENTITY}"
        last: int | None = None
        while True:
            # The tap's parameter order: $select, $top, $orderBy, then $filter on the next pages.
            params: dict[str, str | int] = {"$select": select, "$top": PAGE_SIZE, "$orderBy": KEY}
            if last is not None:
                params["$filter"] = f"{KEY} gt {last}"
            while True:
                if per_second:
                    while len(sent) >= per_second:
                        wait = sent[0] + 1.0 + PACING_MARGIN - time.perf_counter()
                        if wait > 0:
                            time.sleep(wait)
                        sent.popleft()
                r = session.get(url, params=params, headers=headers, timeout=300)
                if per_second:  # counted from its answer, as the server counts arrivals
                    sent.append(time.perf_counter())
                if r.status_code != 429 or not per_second:
                    break
                refused += 1
                time.sleep(0.2)
            if r.status_code != 200:
                raise BenchError(f"baseline GET {r.url[:200]} -> {r.status_code}: {r.text[:300]}")
            rows = json.loads(r.content)["value"]
            pages += 1
            for row in rows:
                out.write(json.dumps(row))
                out.write("\n")
            n += len(rows)
            if len(rows) < PAGE_SIZE:
                break
            last = rows[-1][KEY]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    session.close()
    if n != expected:
        raise BenchError(f"baseline read {n:,} records, the emulator holds {expected:,}")
    return n, pages, wall, cpu, refused


# --------------------------------------------------------------------------- the emulator's log
def requests_made(log: list[dict]) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """(route, path, decoded query) of the state look-ups and contact pages in a log."""
    return [(e["route"], e["path"], tuple(parse_qsl(e["query"], keep_blank_values=True)))
            for e in log if e["route"] in (STATE_ROUTE, PAGE_ROUTE)]


def pages_of(log: list[dict]) -> list[dict]:
    return [e for e in log if e["route"] == PAGE_ROUTE]


def compare(tap: list, baseline: list, what: str) -> None:
    if tap != baseline:
        diff = next((i for i, (a, b) in enumerate(zip(tap, baseline)) if a != b), min(len(tap), len(baseline)))
        raise BenchError(f"{what}: the tap made other requests than the baseline: {len(tap)} vs {len(baseline)}; "
                         f"first difference at #{diff}: tap {tap[diff:diff + 1]} baseline {baseline[diff:diff + 1]}")


def fmt(x: float | None, spec: str = ",.0f") -> str:
    return "n/a" if x is None else format(x, spec)


# --------------------------------------------------------------------------- main
def bench(args: argparse.Namespace) -> dict:
    from connector_sandbox.superoffice.emulator import DEFAULT_TENANT

    t_bench = time.perf_counter()
    n = args.rows
    tap = executable("tap-superoffice")
    cols = columns()
    limit = tap_limiter()
    cache_records = args.cache_records or n + PAGE_SIZE
    workdir = Path(tempfile.mkdtemp(prefix="bench-so-"))
    pages_expected = n // PAGE_SIZE + 1           # the last page is short (empty when N % 1000 == 0)
    log_limit = pages_expected + 50

    def say(*parts: object) -> None:
        print(*parts, file=sys.stderr, flush=True)

    sandbox = None
    try:
        say(f"bench: tap {tap}; emulator {n:,} contacts, cache_records={cache_records:,}; workdir {workdir}")
        (workdir / "catalog.json").write_text(json.dumps(discover_catalog(tap, workdir)))
        sandbox = start_sandbox(n, cache_records, args.seed, workdir)
        say(f"bench: emulator {sandbox.url} (pid {sandbox.proc.pid})")
        store = workdir / "token-store.json"
        tokens = seed_token_store(store, workdir / "sandbox-tokens.json")
        env_url = f"{sandbox.url}/online"
        cmd = tap_command(tap, workdir, sandbox, store, tokens, "config.json")
        stderr_path = workdir / "tap.stderr"

        # -- start-up: the tap over 0 contacts (resizing empties the emulator's cache, so first) --
        resize(sandbox, 0)
        startup_runs = [bench_common.run_tap(cmd, stderr_path) for _ in range(max(3, args.repeat))]
        startups = [r.wall for r in startup_runs]
        startup = min(startups)
        startup_cpu = min(r.cpu for r in startup_runs)
        say(f"bench: tap start-up (0 contacts, best of {len(startups)}): {startup:.2f} s")

        # -- peak RSS over 20,000 contacts ----------------------------------------------------------
        rss_small = None
        if not args.skip_rss and n != RSS_SMALL:
            resize(sandbox, RSS_SMALL)
            run = bench_common.run_tap(cmd, stderr_path, expected={STREAM: RSS_SMALL}, key=(KEY,))
            rss_small = run.peak_rss_mb
            say(f"bench: tap over {RSS_SMALL:,} contacts: {run.wall:.2f} s, peak RSS {rss_small:.0f} MB")
        resize(sandbox, n)

        # -- warm-up: one baseline pass fills the emulator's record cache ---------------------------
        sandbox.reset()
        _, pages, wall, _, _ = baseline_pass(env_url, DEFAULT_TENANT, tokens["access_token"], cols, n)
        warm_log = sandbox.stats(log=log_limit).get("log", [])
        baseline_requests = requests_made(warm_log)
        if pages != pages_expected:
            raise BenchError(f"baseline read {pages} pages, expected {pages_expected}")
        say(f"bench: warm-up pass: {pages} pages in {wall:.2f} s (cold emulator, p50 "
            f"{fmt(statistics.median(e['duration_ms'] for e in pages_of(warm_log)), '.1f')} ms/page)")

        # -- correctness: every contact once, the same requests ------------------------------------
        sandbox.reset()
        run = bench_common.run_tap(cmd, stderr_path, expected={STREAM: n}, key=(KEY,))
        check_log = sandbox.stats(log=log_limit).get("log", [])
        compare(requests_made(check_log), baseline_requests, "check run")
        raw_identical = [e["query"] for e in pages_of(check_log)] == [e["query"] for e in pages_of(warm_log)]
        bearer = {e["headers"].get("Authorization") for e in pages_of(check_log) + pages_of(warm_log)}
        if bearer != {"Bearer ***"}:
            raise BenchError(f"page requests without the bearer token: {bearer}")
        say(f"bench: check run: {n:,} records, each contactId once; the state look-up and "
            f"{len(pages_of(check_log))} page requests identical to the baseline's "
            f"(query strings byte for byte: {raw_identical}); {run.wall:.2f} s")

        # -- timed runs, best of k -------------------------------------------------------------------
        base_runs, tap_runs = [], []
        for i in range(args.repeat):
            sandbox.reset()
            _, pages, wall, cpu, _ = baseline_pass(env_url, DEFAULT_TENANT, tokens["access_token"], cols, n)
            blog = pages_of(sandbox.stats(log=log_limit).get("log", []))
            base_runs.append({"wall_s": wall, "cpu_s": cpu, "pages": pages,
                              "emulator_s": sum(e["duration_ms"] for e in blog) / 1000,
                              "emulator_p50_ms": statistics.median(e["duration_ms"] for e in blog)})
            sandbox.reset()
            run = bench_common.run_tap(cmd, stderr_path)
            tstats = sandbox.stats(log=log_limit)
            tlog = tstats.get("log", [])
            tpages = pages_of(tlog)
            stamps = [e["received_at"] for e in tlog]
            most, sustained = pace([e["received_at"] for e in tpages])
            tap_runs.append({"wall_s": run.wall, "cpu_s": run.cpu, "peak_rss_mb": run.peak_rss_mb,
                             "page_requests": len(tpages), "total_requests": tstats["total"],
                             "data_requests": tstats["data_requests"],
                             "first_request_s": min(stamps) - run.spawn_epoch,
                             "max_page_requests_in_a_sliding_second": most, "page_requests_per_s": sustained,
                             "emulator_s": sum(e["duration_ms"] for e in tpages) / 1000,
                             "emulator_p50_ms": statistics.median(e["duration_ms"] for e in tpages)})
            if len(tpages) != len(pages_of(warm_log)) or tstats["by_status"] != {"200": tstats["total"]}:
                raise BenchError(f"timed tap run: {len(tpages)} page requests (expected "
                                 f"{len(pages_of(warm_log))}), statuses {tstats['by_status']}")
            say(f"bench: repeat {i + 1}/{args.repeat}: baseline {n / wall:,.0f} rec/s ({wall:.2f} s), "
                f"tap {n / run.wall:,.0f} rec/s ({run.wall:.2f} s, CPU {run.cpu:.2f} s, "
                f"RSS {run.peak_rss_mb:.0f} MB)")

        # -- the baseline keeping to 10 a second, the emulator's throttle on ------------------------
        throttle(sandbox, RATE)
        sandbox.reset()
        try:
            _, pages, wall, cpu, refused = baseline_pass(env_url, DEFAULT_TENANT, tokens["access_token"],
                                                         cols, n, per_second=RATE)
        finally:
            throttle(sandbox, None)
        paced = {"wall_s": wall, "cpu_s": cpu, "pages": pages, "answered_429": refused}
        say(f"bench: baseline at {RATE} a second: {n / wall:,.0f} rec/s ({wall:.2f} s, {refused} 429s)")

        # -- rate-bound: the emulator's 10-a-second throttle on --------------------------------------
        rate = None
        if not args.skip_rate:
            rate = rate_bound_run(args, sandbox, tap, workdir, store, tokens, say)
            resize(sandbox, n)

        best_base = min(base_runs, key=lambda r: r["wall_s"])
        best_tap = min(tap_runs, key=lambda r: r["wall_s"])
        base_rate, tap_rate = n / best_base["wall_s"], n / best_tap["wall_s"]
        net = best_tap["wall_s"] - startup
        after_first = best_tap["wall_s"] - best_tap["first_request_s"]
        result = {
            "rows": n,
            "stream": STREAM,
            "columns_selected": len(cols),
            "repeat": args.repeat,
            "baseline_records_per_s": round(base_rate, 1),
            "tap_records_per_s": round(tap_rate, 1),
            "tap_records_per_s_excl_startup": round(n / net, 1) if net > 0 else None,
            "tap_records_per_s_after_first_request": round(n / after_first, 1),
            "ratio_tap_to_baseline": round(tap_rate / base_rate, 3),
            "ratio_tap_excl_startup_to_baseline": round(n / net / base_rate, 3) if net > 0 else None,
            "baseline_paced_records_per_s": round(n / paced["wall_s"], 1),
            "ratio_tap_to_baseline_paced": round(tap_rate / (n / paced["wall_s"]), 3),
            "baseline_paced": paced,
            "requests_per_1000_records": round(best_tap["total_requests"] / n * 1000, 3),
            "page_requests_per_1000_records": round(best_tap["page_requests"] / n * 1000, 3),
            "page_requests": best_tap["page_requests"],
            "total_requests": best_tap["total_requests"],
            "query_strings_byte_identical": raw_identical,
            "peak_rss_mb": {str(RSS_SMALL): None if rss_small is None else round(rss_small, 1),
                            str(n): round(max(r["peak_rss_mb"] for r in tap_runs), 1)},
            "tap_startup_s": round(startup, 3),
            "tap_first_request_s": round(best_tap["first_request_s"], 3),
            "baseline_wall_s": round(best_base["wall_s"], 3),
            "baseline_cpu_s": round(best_base["cpu_s"], 3),
            "tap_wall_s": round(best_tap["wall_s"], 3),
            "tap_cpu_s": round(best_tap["cpu_s"], 3),
            "tap_page_requests_per_s": None if best_tap["page_requests_per_s"] is None
            else round(best_tap["page_requests_per_s"], 2),
            "tap_max_page_requests_in_a_sliding_second": best_tap["max_page_requests_in_a_sliding_second"],
            "tap_limiter": {"requests": limit[0], "per_seconds": limit[1]},
            "tap_limiter_ceiling_records_per_s": round(PAGE_SIZE * limit[0] / limit[1], 1),
            "tap_cpu_us_per_record_excl_startup": round((best_tap["cpu_s"] - startup_cpu) / n * 1e6, 1),
            "emulator_s_in_pages": {"baseline": round(best_base["emulator_s"], 3),
                                    "tap": round(best_tap["emulator_s"], 3)},
            "emulator_p50_ms_per_page": {"baseline": round(best_base["emulator_p50_ms"], 2),
                                         "tap": round(best_tap["emulator_p50_ms"], 2)},
            "emulator_cache_records": cache_records,
            "rate_bound": rate,
            "runs": {"baseline": base_runs, "tap": tap_runs, "startup_s": startups},
            **bench_common.environment(),
        }
    finally:
        if sandbox is not None:
            sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    result["bench_wall_s"] = round(time.perf_counter() - t_bench, 1)
    return result


def rate_bound_run(args: argparse.Namespace, sandbox: SandboxProcess, tap: Path, workdir: Path,
                   store: Path, tokens: dict, say: t.Callable[..., None]) -> dict:
    """The tap over ``--rate-rows`` contacts in pages of ``--rate-page-size``, the throttle on."""
    rows, size = args.rate_rows, args.rate_page_size
    resize(sandbox, rows)
    throttle(sandbox, RATE)
    sandbox.reset()
    cmd = tap_command(tap, workdir, sandbox, store, tokens, "config-rate.json", page_size=size)
    try:
        run = bench_common.run_tap(cmd, workdir / "tap-rate.stderr", expected={STREAM: rows}, key=(KEY,))
        stats = sandbox.stats(log=rows // size + 100)
    finally:
        throttle(sandbox, None)
    log = stats.get("log", [])
    api = [e for e in log if e["route"] != STATE_ROUTE]   # the tenant host: what the rule counts
    pages = pages_of(log)
    expected = rows // size + 1
    if len(pages) != expected + sum(1 for e in pages if e["status"] == 429):
        raise BenchError(f"rate-bound run: {len(pages)} page requests, expected {expected} (+ one per 429)")
    answered_429 = sum(1 for e in log if e["status"] == 429)
    throttled = stats["superoffice"]["throttled"]
    stamps = sorted(e["received_at"] for e in api)
    span = stamps[-1] - stamps[0]
    most, sustained = pace(stamps)
    minimum = len(api) / RATE
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    result = {
        "rows": rows, "page_size": size, "api_requests": len(api), "page_requests": len(pages),
        "minimum_s": round(minimum, 3), "wall_s": round(run.wall, 3),
        "wall_to_minimum_ratio": round(run.wall / minimum, 3),
        "span_first_to_last_request_s": round(span, 3),
        "span_minimum_s": math.floor((len(api) - 1) / RATE),
        "startup_s": round(stamps[0] - run.spawn_epoch, 3), "finish_s": round(run.exit_epoch - stamps[-1], 3),
        "requests_per_s_sustained": None if sustained is None else round(sustained, 3),
        "max_requests_in_a_sliding_second": most,
        "median_gap_s": round(statistics.median(gaps), 4) if gaps else None,
        "answered_429": answered_429, "throttled_counter": throttled,
        "tap_cpu_s": round(run.cpu, 2), "tap_peak_rss_mb": round(run.peak_rss_mb, 1),
    }
    say(f"bench: rate-bound run: {rows:,} contacts in {len(api)} API requests ({size} a page), "
        f"{run.wall:.2f} s against a minimum of {minimum:.1f} s; 429s: {answered_429}")
    if answered_429 or throttled:
        raise BenchError(f"rate-bound run: the emulator answered {answered_429} requests with 429 "
                         f"(throttled counter {throttled}); the tap must keep to {RATE} a second")
    return result


def print_table(r: dict) -> None:
    n = r["rows"]
    rss = r["peak_rss_mb"]
    rate = r["rate_bound"] or {}
    rows = [
        (f"contacts ({r['columns_selected']} columns)", f"{n:,}"),
        ("baseline (raw requests + json), rec/s", fmt(r["baseline_records_per_s"])),
        ("tap, rec/s (wall, incl. start-up)", fmt(r["tap_records_per_s"])),
        ("tap, rec/s (excl. start-up)", fmt(r["tap_records_per_s_excl_startup"])),
        ("ratio tap / baseline (wall)", fmt(r["ratio_tap_to_baseline"], ".2f")),
        ("ratio tap / baseline (excl. start-up)", fmt(r["ratio_tap_excl_startup_to_baseline"], ".2f")),
        (f"baseline at {RATE} requests/s, rec/s", fmt(r["baseline_paced_records_per_s"])),
        (f"ratio tap / baseline at {RATE}/s (wall)", fmt(r["ratio_tap_to_baseline_paced"], ".2f")),
        ("tap start-up, s (0-contact run)", fmt(r["tap_startup_s"], ".2f")),
        ("tap spawn -> first request, s", fmt(r["tap_first_request_s"], ".2f")),
        ("requests per 1,000 records (all / pages)",
         f"{r['requests_per_1000_records']:.3f} / {r['page_requests_per_1000_records']:.3f}"),
        *([(f"tap peak RSS at {RSS_SMALL:,} records, MB", fmt(rss.get(str(RSS_SMALL))))] if n != RSS_SMALL else []),
        (f"tap peak RSS at {n:,} records, MB", fmt(rss.get(str(n)))),
        ("tap CPU s / baseline CPU s", f"{r['tap_cpu_s']:.1f} / {r['baseline_cpu_s']:.1f}"),
        ("tap CPU us per record (excl. start-up)", fmt(r["tap_cpu_us_per_record_excl_startup"], ".1f")),
        ("tap pages/s (limiter: {requests}/{per_seconds:g} s)".format(**r["tap_limiter"]),
         fmt(r["tap_page_requests_per_s"], ".2f")),
        ("tap limiter ceiling, rec/s (1,000 a page)", fmt(r["tap_limiter_ceiling_records_per_s"])),
        ("emulator p50 ms/page (baseline / tap)",
         f"{r['emulator_p50_ms_per_page']['baseline']:.1f} / {r['emulator_p50_ms_per_page']['tap']:.1f}"),
        ("rate-bound: API requests (page size)",
         f"{rate['api_requests']} ({rate['page_size']})" if rate else "n/a"),
        ("rate-bound: wall s / minimum s (req / 10)",
         f"{rate['wall_s']:.1f} / {rate['minimum_s']:.1f}" if rate else "n/a"),
        ("rate-bound: wall / minimum", fmt(rate.get("wall_to_minimum_ratio"), ".2f")),
        ("rate-bound: requests a second sustained", fmt(rate.get("requests_per_s_sustained"), ".2f")),
        ("rate-bound: 429s", str(rate["answered_429"]) if rate else "n/a"),
        ("python", r["python"]),
        ("date", r["date"]),
        ("whole bench, s", fmt(r["bench_wall_s"], ".1f")),
    ]
    bench_common.print_figures(rows, 14)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200_000, help="contacts in the emulator (default 200000)")
    ap.add_argument("--repeat", type=int, default=1, help="best of k timed runs (default 1)")
    ap.add_argument("--skip-rss", action="store_true",
                    help=f"skip the extra {RSS_SMALL:,}-contact RSS run (RSS at --rows is still reported)")
    ap.add_argument("--skip-rate", action="store_true", help="skip the rate-bound run")
    ap.add_argument("--rate-rows", type=int, default=20_000, help="contacts in the rate-bound run (default 20000)")
    ap.add_argument("--rate-page-size", type=int, default=100,
                    help="the tap's page_size in the rate-bound run (default 100)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--cache-records", type=int, default=0,
                    help="the emulator's record cache (default: rows + 1000, i.e. all of them)")
    ap.add_argument("--output", type=Path, default=RESULTS)
    ap.add_argument("--serve-sandbox", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--tokens-file", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve_sandbox:
        return serve_sandbox(args.port, args.seed, args.rows, args.cache_records or args.rows + PAGE_SIZE,
                             args.tokens_file)
    if args.rows < 1 or args.repeat < 1 or args.rate_rows < 1 or not 1 <= args.rate_page_size <= PAGE_SIZE:
        ap.error("--rows, --repeat and --rate-rows must be at least 1, --rate-page-size 1 to 1000")
    return run_bench(lambda: bench(args), args.output, print_table)


if __name__ == "__main__":
    raise SystemExit(main())
