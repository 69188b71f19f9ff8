"""Benchmarks: every figure a ratio of two things measured side by side in one run.

    make bench          the full run: writes RESULTS.md and results.json beside this file
    make bench-smoke    a few seconds on tiny inputs, so the harness never rots (CI)

Needs PostgreSQL on 127.0.0.1:5432, wrk and hyperfine (Debian packages), and
the pages of Debian's python3-doc (or --corpus DIR). All traffic stays on
127.0.0.1.
"""

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from bench.layers import bench_layers
from bench.processes import app_environment, bench_database, migrate
from wordcount.bench import background
from wordcount.bench.counting import (
    DEFAULT_CORPUS,
    bench_counting,
    counting_profile,
    load_corpus,
)
from wordcount.bench.http_load import bench_history_scaling, bench_http
from wordcount.bench.latency import bench_network
from wordcount.bench.report import machine, verdicts, write_report
from wordcount.bench.settings import Settings
from wordcount.bench.startup import bench_startup

BENCH_DIR = Path(__file__).resolve().parent


def rerun_background(output: Path) -> None:
    results = json.loads((output / "results.json").read_text())
    with bench_database() as database:
        migrate(database)
        results["background"] = background.bench_background(
            app_environment(database), database, results["smoke"]
        )
    results["verdicts"] = verdicts(results)
    write_report(results, output, None)
    print(f"wrote {output / 'RESULTS.md'} and {output / 'results.json'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny inputs, a few seconds")
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help="a folder of .html files"
    )
    parser.add_argument("--output", type=Path, default=BENCH_DIR, help="where to write results")
    parser.add_argument(
        "--only-background",
        action="store_true",
        help="measure the background counts again; keep the other figures "
        "of the output's results.json",
    )
    args = parser.parse_args()
    if args.only_background:
        rerun_background(args.output)
        return
    for tool in ("wrk", "hyperfine", "gunicorn", "psql"):
        if shutil.which(tool) is None:
            raise SystemExit(f"Error: {tool} is not installed (make bench installs it)")
    settings = Settings(args.smoke)

    pages = load_corpus(args.corpus, settings)
    megabytes = round(sum(len(body) for _, body in pages) / 1e6, 1)
    print(f"corpus: {len(pages)} pages, {megabytes} MB from {args.corpus}", flush=True)
    results = {
        "smoke": args.smoke,
        "machine": machine(),
        "corpus": {"folder": str(args.corpus), "pages": len(pages), "megabytes": megabytes},
        "settings": {
            "wrk_seconds": settings.wrk_seconds,
            "wrk_runs": settings.wrk_runs,
            "connections": settings.connections,
        },
    }
    print("counting ...", flush=True)
    results["counting"] = bench_counting(pages, settings)
    with bench_database() as database, tempfile.TemporaryDirectory() as folder:
        print(f"http (connections {settings.connections}) ...", flush=True)
        results["http"] = bench_http(pages, settings, database, Path(folder))
        print("layers ...", flush=True)
        results["layers"] = bench_layers(database, settings.layer_requests, settings.rounds)
        print(f"history ({settings.history_rows[1]:,} rows) ...", flush=True)
        results["http"].update(bench_history_scaling(settings, database))
        print("startup ...", flush=True)
        results["startup"] = bench_startup(settings, database, Path(folder))
        print("network (PostgreSQL 1 ms away) ...", flush=True)
        results["network"] = bench_network(settings, database)
        print("background counts ...", flush=True)
        results["background"] = background.bench_background(
            app_environment(database), database, settings.smoke
        )
    results["verdicts"] = verdicts(results)
    counting_missed = not all(
        results["verdicts"][k]["met"]
        for k in ("counting.speedup_vs_original", "counting.vs_parse_only")
    )
    profile = counting_profile(pages) if counting_missed else None
    write_report(results, args.output, profile)
    for key, verdict in results["verdicts"].items():
        print(
            f"{key}: {verdict['value']} (target {verdict['target']}"
            f"{'' if verdict['met'] else ', MISSED'})"
        )
    print(f"wrote {args.output / 'RESULTS.md'} and {args.output / 'results.json'}")


if __name__ == "__main__":
    main()
