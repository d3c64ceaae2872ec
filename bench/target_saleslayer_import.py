"""Import benchmark: target-saleslayer's items per call and items/s against the Sales Layer emulator.

    uv run python bench/target_saleslayer_import.py [--items 20000] [--single-items 300]

One run, on one emulator in its own process (``connector-sandbox saleslayer``, imports ending after
``--import-seconds`` of its clock), does:

1. **batched**: ``--items`` new products (``input_data[products]``, REF, category, names, a price)
   through the target with its default ``batch_size`` (1000, the most the emulator takes a call);
2. **one a call**: ``--single-items`` products with ``batch_size`` 1: what a target that sends a
   call per record would do, for the ratio.

Each run must end with every record in the results file (no reject), the emulator holding every
product, and exactly ceil(N / batch_size) import calls, or the bench fails. The target is
``.venv/bin/target-saleslayer`` reading a prepared Singer file; its CPU and wall come from
``os.wait4`` (bench_common). Results go to ``bench/results/target_saleslayer_import.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import tempfile
from pathlib import Path

import bench_common
from bench_common import BenchError, SandboxProcess, executable, run_bench

RESULTS = bench_common.ROOT / "bench" / "results" / "target_saleslayer_import.json"
IMPORT_CODE = "CN100H2000C302"  # the emulator's default Import connector
IMPORT_KEY = "bench-import-key"


def singer_file(path: Path, n: int, prefix: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps({"type": "SCHEMA", "stream": "products", "key_properties": ["REF"],
                              "schema": {"type": "object", "properties": {}}}) + "\n")
        for i in range(n):
            item = {"REF": f"{prefix}-{i:07d}", "catalogue_REF": f"CAT-{1 + i % 12:04d}",
                    "name_en": f"Bench chair {i} ✓", "name_es": f"Silla {i} ñ",
                    "price": f"{10 + i % 900}.{i % 100:02d}"}
            out.write(json.dumps({"type": "RECORD", "stream": "products", "record": item}, ensure_ascii=False) + "\n")
        out.write(json.dumps({"type": "STATE", "value": {"bookmarks": {"products": {"n": n}}}}) + "\n")


def run_import(target: Path, sandbox: SandboxProcess, workdir: Path, name: str, n: int, batch_size: int) -> dict:
    data = workdir / f"{name}.singer"
    singer_file(data, n, name.upper())
    results, rejects = workdir / f"{name}-results.jsonl", workdir / f"{name}-rejects.jsonl"
    config = {"connector_id": IMPORT_CODE, "private_key": IMPORT_KEY, "api_url": sandbox.url,
              "batch_size": batch_size, "tracking_poll_seconds": 0.05,
              "results_path": str(results), "rejects_path": str(rejects)}
    (workdir / f"{name}.json").write_text(json.dumps(config))
    before = sandbox.control("GET", "saleslayer/count?path=products")["count"]
    sandbox.reset()
    run = bench_common.run_measured_isolated(
        ["bash", "-c", f'exec "{target}" --config "{workdir / name}.json" < "{data}"'], workdir / f"{name}.stderr")
    published = sum(1 for line in results.read_text().splitlines() if '"checkpoint"' not in line)
    refused = len(rejects.read_text().splitlines()) if rejects.exists() else 0
    after = sandbox.control("GET", "saleslayer/count?path=products")["count"]
    calls = sum(1 for e in sandbox.stats(log=100_000).get("log", []) if e["method"] == "POST")
    expected_calls = math.ceil(n / batch_size)
    if published != n or refused or after - before != n or calls != expected_calls:
        raise BenchError(f"{name}: {published:,} published, {refused} rejected, {after - before:,} new products, "
                         f"{calls} import calls (expected {n:,}, 0, {n:,}, {expected_calls})")
    return {"items": n, "batch_size": batch_size, "import_calls": calls, "items_per_call": round(n / calls, 1),
            "wall_s": round(run.wall, 3), "items_per_s": round(n / run.wall, 1),
            "cpu_us_per_item": round(run.cpu / n * 1e6, 1), "peak_rss_mb": round(run.peak_rss_mb, 1)}


def bench(args: argparse.Namespace) -> dict:
    target = executable("target-saleslayer")
    workdir = Path(tempfile.mkdtemp(prefix="bench-sl-target-"))
    sandbox = SandboxProcess([str(executable("connector-sandbox")), "saleslayer", "--port", "0",
                              "--import-private-key", IMPORT_KEY, "--import-seconds", str(args.import_seconds)],
                             workdir, api_path="")
    try:
        batched = run_import(target, sandbox, workdir, "batched", args.items, 1000)
        single = run_import(target, sandbox, workdir, "single", args.single_items, 1)
    finally:
        sandbox.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return {"environment": bench_common.environment(), "import_seconds": args.import_seconds,
            "batched": batched, "one_a_call": single,
            "items_per_s_ratio_batched_to_one_a_call": round(batched["items_per_s"] / single["items_per_s"], 1)}


def report(result: dict) -> None:
    b, s = result["batched"], result["one_a_call"]
    bench_common.print_figures([
        ("items (batched)", f"{b['items']:,}"), ("import calls", f"{b['import_calls']:,}"),
        ("items per call", f"{b['items_per_call']:,}"), ("items/s (batched)", f"{b['items_per_s']:,}"),
        ("CPU per item, µs", f"{b['cpu_us_per_item']}"), ("peak RSS, MB", f"{b['peak_rss_mb']}"),
        ("items/s (one a call)", f"{s['items_per_s']:,}"),
        ("ratio batched / one a call", f"{result['items_per_s_ratio_batched_to_one_a_call']}"),
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--single-items", type=int, default=300)
    parser.add_argument("--import-seconds", type=float, default=0.2,
                        help="emulator seconds an import job takes to end")
    args = parser.parse_args()
    return run_bench(lambda: bench(args), RESULTS, report)


if __name__ == "__main__":
    raise SystemExit(main())
