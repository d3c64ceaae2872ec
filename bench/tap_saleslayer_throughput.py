"""Throughput benchmark: tap-saleslayer against a raw ``requests`` loop over the same export pages.

    uv run python bench/tap_saleslayer_throughput.py [--rows 200000] [--repeat 1] [--skip-rss]

One run does, in order (see bench/README.md for what each figure means):

1. starts the Sales Layer emulator in its own process (``connector-sandbox saleslayer``, its CPU not
   shared with the measured client's GIL) with ``--rows`` products, ``--formats-per-product`` x as
   many product_formats (the emulator's default proportion: 2) and its default catalogue (12) and
   brands (6), the export connector ``CN100H2000C301`` with the bench's own private key;
2. discovers the tap's catalog once (``--discover`` against the emulator: two small calls) and
   selects every stream (catalogue, products, product_formats, brands);
3. measures the tap's start-up (a run over 0 products and 0 formats: 18 rows, one page) and its
   peak RSS over 20,000 products (unless ``--skip-rss``);
4. one baseline pass (untimed, it warms the emulator): a signed ``GET /?ver=1.18&pagination=<the
   tap's page size>&group_category_id=1&code&time&unique&key256`` (``key256`` = SHA-256 hex of
   ``code + private_key + time + unique``), then each answer's ``next_page`` as given until absent;
   every page decoded (``json.loads``), each positional row mapped to a dict by its table's
   ``data_schema``, one ``json.dumps`` line per row to /dev/null;
5. runs the tap once with its output piped to a counter: per table exactly the emulator's row
   count (its control plane's ``count``) with distinct IDs, and the same export requests as the
   baseline's (one signed first call with the same parameters, then the same ``next_page``
   follows: ``page`` 2..k of the read's token), or the bench fails;
6. best of ``--repeat``: the baseline loop (timed), then the tap with stdout to /dev/null (timed;
   requests from the emulator's stats, peak RSS and CPU from ``os.wait4`` on the tap).

Every tap run is spawned by a small launcher process (``bench_common.run_measured_isolated``), not
by the bench: Linux carries the RSS high-water mark of the process that spawns a child into the
child's ``ru_maxrss``, and this bench's own baseline loop grows it to ~120 MB.

The tap is run as ``.venv/bin/tap-saleslayer`` (a Python script whose process IS the tap), never
through ``uv run``, so the RSS and CPU figures are the tap's. Results go to
``bench/results/tap_saleslayer_throughput.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl

import bench_common
import requests
from bench_common import BenchError, SandboxProcess, executable, run_bench

RESULTS = bench_common.ROOT / "bench" / "results" / "tap_saleslayer_throughput.json"
VENDOR = "saleslayer"
CODE = "CN100H2000C301"                  # the emulator's default export connector
PRIVATE_KEY = "bench-saleslayer-private-key"
TABLES = ("catalogue", "products", "product_formats", "brands")
RSS_SMALL = 20_000
ROUTE = "GET /"                          # every call of the classic API goes to the endpoint's root
SIGNATURE = ("time", "unique", "key256")  # differ on every signed call


def start_sandbox(workdir: Path, products: int, formats_per_product: int) -> SandboxProcess:
    sandbox = executable("connector-sandbox")
    return SandboxProcess([str(sandbox), VENDOR, "--port", "0", "--connector-id", CODE,
                           "--private-key", PRIVATE_KEY, "--size", f"products={products}",
                           "--size", f"product_formats={products * formats_per_product}"],
                          workdir, api_path="")


def resize(sandbox: SandboxProcess, products: int, formats_per_product: int) -> dict[str, int]:
    """Size products and product_formats; the row count of every table, as the emulator holds them."""
    sandbox.control("POST", f"{VENDOR}/size", {"path": "products", "n": products})
    sandbox.control("POST", f"{VENDOR}/size", {"path": "product_formats", "n": products * formats_per_product})
    return {table: int(sandbox.control("GET", f"{VENDOR}/count?path={table}")["count"]) for table in TABLES}


def tap_page_size() -> int:
    from tap_saleslayer import tap

    return int(tap.DEFAULT_PAGE_SIZE)


def tap_config(sandbox: SandboxProcess) -> dict:
    return {"connector_id": CODE, "private_key": PRIVATE_KEY, "api_url": sandbox.url}


def discover_all(tap: Path, workdir: Path, sandbox: SandboxProcess) -> dict:
    """The tap's catalog (discovered from the emulator's connector) with every stream selected."""
    config = workdir / "discover_config.json"
    config.write_text(json.dumps(tap_config(sandbox)))
    proc = subprocess.run([str(tap), "--config", str(config), "--discover"],
                          check=False, capture_output=True, timeout=300)
    if proc.returncode != 0:
        raise BenchError(f"tap --discover failed ({proc.returncode}):\n{proc.stderr.decode()[-3000:]}")
    catalog = json.loads(proc.stdout)
    found = {entry["tap_stream_id"] for entry in catalog["streams"]}
    if found != set(TABLES):
        raise BenchError(f"the discovered catalog has the streams {sorted(found)}, not {sorted(TABLES)}")
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = True
    return catalog


def tap_command(tap: Path, workdir: Path) -> list[str]:
    return [str(tap), "--config", str(workdir / "config.json"), "--catalog", str(workdir / "catalog.json")]


def signed(params: dict[str, str]) -> dict[str, str]:
    stamp, unique = int(time.time()), secrets.randbelow(10**12) + 1
    key256 = hashlib.sha256(f"{CODE}{PRIVATE_KEY}{stamp}{unique}".encode()).hexdigest()
    return {**params, "code": CODE, "time": str(stamp), "unique": str(unique), "key256": key256}


def baseline_pass(api_url: str, page_size: int, expected: dict[str, int]) -> tuple[int, int, float, float]:
    """Raw ``requests`` over the export the tap reads; one JSON line per row (a dict by ``data_schema``)
    to /dev/null. Returns (rows, pages, wall seconds, CPU seconds of this process)."""
    session = requests.Session()
    counts: collections.Counter[str] = collections.Counter()
    pages = 0
    with open(os.devnull, "w") as out:
        t0, c0 = time.perf_counter(), time.process_time()
        r = session.get(f"{api_url}/", timeout=300, params=signed(
            {"ver": "1.18", "pagination": str(page_size), "group_category_id": "1"}))
        while True:
            body = json.loads(r.content)
            if r.status_code != 200 or body.get("error"):
                raise BenchError(f"baseline GET {r.url[:200]} -> {r.status_code}: {r.text[:300]}")
            pages += 1
            schemas = body["data_schema"]
            for table, rows in body["data"].items():
                if not rows:
                    continue
                names = [c if isinstance(c, str) else next(iter(c)) for c in schemas[table]]
                for row in rows:
                    out.write(json.dumps(dict(zip(names, row))))
                    out.write("\n")
                counts[table] += len(rows)
            if not body.get("next_page"):
                break
            r = session.get(body["next_page"], timeout=300)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    session.close()
    if dict(counts) != {k: v for k, v in expected.items() if v}:
        raise BenchError(f"baseline read {dict(counts)}, the emulator holds {expected}")
    return sum(counts.values()), pages, wall, cpu


def export_requests(log: list[dict]) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """The export's calls: ("signed", its parameters, signature values masked) then ("follow", the
    ``next_page`` query, the read's token masked). Anything else on the endpoint counts as "other"."""
    out = []
    for e in log:
        if e["route"] != ROUTE:
            continue
        query = parse_qsl(e["query"], keep_blank_values=True)
        if any(k == "page_token" for k, _ in query):
            out.append(("follow", tuple(sorted((k, "<token>" if k == "page_token" else v) for k, v in query))))
        elif any(k == "key256" for k, _ in query):
            out.append(("signed", tuple(sorted((k, "<sig>" if k in SIGNATURE else v) for k, v in query))))
        else:
            out.append(("other", tuple(sorted(query))))
    return out


def bench(args: argparse.Namespace) -> dict:
    n, per = args.rows, args.formats_per_product
    tap = executable("tap-saleslayer")
    page_size = tap_page_size()
    workdir = Path(tempfile.mkdtemp(prefix="bench-sl-"))

    def say(*parts: object) -> None:
        print(*parts, file=sys.stderr, flush=True)

    sandbox = None
    try:
        sandbox = start_sandbox(workdir, n, per)
        (workdir / "config.json").write_text(json.dumps(tap_config(sandbox)))
        (workdir / "catalog.json").write_text(json.dumps(discover_all(tap, workdir, sandbox)))
        cmd = tap_command(tap, workdir)
        stderr_path = workdir / "tap.stderr"
        say(f"bench: tap {tap}; emulator {sandbox.url} with {n:,} products, {n * per:,} formats; workdir {workdir}")

        resize(sandbox, 0, per)
        startup_runs = [bench_common.run_tap(cmd, stderr_path) for _ in range(3)]
        startup = min(startup_runs, key=lambda r: r.wall)
        say(f"bench: tap start-up (0 products, best of 3): {startup.wall:.2f} s, CPU {startup.cpu:.2f} s")
        rss_small = None
        if not args.skip_rss and n != RSS_SMALL:
            small = resize(sandbox, RSS_SMALL, per)
            rss_small = bench_common.run_tap(cmd, stderr_path, expected=small, key=("ID",)).peak_rss_mb
            say(f"bench: tap over {RSS_SMALL:,} products ({sum(small.values()):,} rows): peak RSS {rss_small:.0f} MB")
        expected = resize(sandbox, n, per)
        total = sum(expected.values())

        sandbox.reset()
        _, pages, wall, _ = baseline_pass(sandbox.url, page_size, expected)
        baseline_requests = export_requests(sandbox.stats(log=pages + 50).get("log", []))
        say(f"bench: warm-up baseline pass: {total:,} rows {expected} in {pages} pages, {wall:.2f} s")

        sandbox.reset()
        check = bench_common.run_tap(cmd, stderr_path, expected=expected, key=("ID",))
        tap_requests = export_requests(sandbox.stats(log=pages + 50).get("log", []))
        kinds = collections.Counter(kind for kind, _ in tap_requests)
        if (not baseline_requests or tap_requests != baseline_requests or kinds["signed"] != 1
                or kinds["follow"] != pages - 1):
            raise BenchError(f"the tap made other export requests than the baseline: tap {dict(kinds)}, baseline "
                             f"{dict(collections.Counter(k for k, _ in baseline_requests))}; first: tap "
                             f"{tap_requests[:1]} baseline {baseline_requests[:1]}")
        say(f"bench: check run: {check.consumed}, distinct IDs; 1 signed call + {kinds['follow']} follows "
            "as the baseline's")

        base_runs, tap_runs = [], []
        for i in range(args.repeat):
            sandbox.reset()
            _, pages, wall, cpu = baseline_pass(sandbox.url, page_size, expected)
            base_runs.append({"wall_s": wall, "cpu_s": cpu, "pages": pages})
            sandbox.reset()
            run = bench_common.run_tap(cmd, stderr_path)
            stats = sandbox.stats()
            if stats["by_status"] != {"200": stats["total"]}:
                raise BenchError(f"timed tap run: statuses {stats['by_status']}")
            tap_runs.append({"wall_s": run.wall, "cpu_s": run.cpu, "peak_rss_mb": run.peak_rss_mb,
                             "requests": stats["total"], "emulator_p50_ms": stats["duration_ms"]["p50"]})
            say(f"bench: repeat {i + 1}/{args.repeat}: baseline {total / wall:,.0f} rec/s, tap "
                f"{total / run.wall:,.0f} rec/s (CPU {run.cpu:.2f} s, RSS {run.peak_rss_mb:.0f} MB)")
    finally:
        if sandbox is not None:
            sandbox.stop()

    shutil.rmtree(workdir, ignore_errors=True)
    best_base = min(base_runs, key=lambda r: r["wall_s"])
    best_tap = min(tap_runs, key=lambda r: r["wall_s"])
    rss_n = best_tap["peak_rss_mb"]
    excl = max(best_tap["wall_s"] - startup.wall, 1e-9)
    return {
        "products": n, "formats_per_product": per, "rows": expected, "rows_total": total,
        "page_size_asked": page_size, "pages": best_base["pages"], "repeat": args.repeat,
        "baseline_records_per_s": round(total / best_base["wall_s"]),
        "tap_records_per_s": round(total / best_tap["wall_s"]),
        "tap_records_per_s_excl_startup": round(total / excl),
        "ratio_tap_to_baseline": round(best_base["wall_s"] / best_tap["wall_s"], 3),
        "ratio_tap_excl_startup_to_baseline": round(best_base["wall_s"] / excl, 3),
        "tap_startup_s": round(startup.wall, 3),
        "requests_per_1000_rows": round(best_tap["requests"] / total * 1000, 3),
        "tap_cpu_us_per_record": round(best_tap["cpu_s"] / total * 1e6, 1),
        "tap_cpu_us_per_record_excl_startup": round((best_tap["cpu_s"] - startup.cpu) / total * 1e6, 1),
        "baseline_cpu_us_per_record": round(best_base["cpu_s"] / total * 1e6, 1),
        "peak_rss_mb": {str(RSS_SMALL): round(rss_n if n == RSS_SMALL else rss_small, 1)
                        if (n == RSS_SMALL or rss_small is not None) else None,
                        str(n): round(rss_n, 1)},
        "rss_ratio_n_to_20000": round(rss_n / rss_small, 3) if rss_small else None,
        "baseline_runs": base_runs, "tap_runs": tap_runs,
        "environment": bench_common.environment(),
    }


def print_table(r: dict) -> None:
    n, rss = r["products"], r["peak_rss_mb"]
    rows = [
        ("products / rows (4 tables)", f"{n:,} / {r['rows_total']:,}"),
        ("export pages (one signed call + follows)", str(r["pages"])),
        ("baseline (raw requests + json), rec/s", f"{r['baseline_records_per_s']:,}"),
        ("tap, rec/s (wall, incl. start-up)", f"{r['tap_records_per_s']:,}"),
        ("ratio tap / baseline (wall)", f"{r['ratio_tap_to_baseline']:.2f}"),
        ("ratio tap / baseline (excl. start-up)", f"{r['ratio_tap_excl_startup_to_baseline']:.2f}"),
        ("tap start-up, s", f"{r['tap_startup_s']:.2f}"),
        ("requests per 1,000 rows", f"{r['requests_per_1000_rows']:.3f}"),
        ("tap CPU per record, µs", f"{r['tap_cpu_us_per_record']:.1f}"),
        ("baseline CPU per record, µs", f"{r['baseline_cpu_us_per_record']:.1f}"),
        (f"peak RSS at {n:,} products, MB", str(rss[str(n)])),
    ]
    if n != RSS_SMALL:
        rows += [(f"peak RSS at {RSS_SMALL:,} products, MB", str(rss[str(RSS_SMALL)])),
                 (f"RSS ratio {n:,} / {RSS_SMALL:,}", str(r["rss_ratio_n_to_20000"]))]
    bench_common.print_figures(rows, value_width=18)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200_000, help="products in the emulator (default 200000)")
    ap.add_argument("--formats-per-product", type=int, default=2,
                    help="product_formats per product (default 2, the emulator's default proportion)")
    ap.add_argument("--repeat", type=int, default=1, help="best of k timed runs (default 1)")
    ap.add_argument("--skip-rss", action="store_true", help=f"no {RSS_SMALL:,}-product RSS run")
    args = ap.parse_args()
    return run_bench(lambda: bench(args), RESULTS, print_table)


if __name__ == "__main__":
    sys.exit(main())
