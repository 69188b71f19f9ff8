"""What the app's own layers cost per request: the server's CPU time per request of
``GET /healthz`` and of your own pages, beside a bare Flask app and the
same probe query made raw and through a bare Flask-SQLAlchemy session, and
the cost of each of those layers. Every figure is a ratio of two
things measured in one run, so it means the same on any machine.

    make bench                        writes bench/RESULTS.md and results.json
    make bench BENCH_PAGES="/ /items" your pages too (GET, answering 200)
    make bench-smoke                  a few seconds, so the harness never rots

Needs PostgreSQL on 127.0.0.1:5432 and wrk; all traffic stays on 127.0.0.1.
"""

import argparse
import json
import os
import shutil
from contextlib import ExitStack
from pathlib import Path

from bench.http_load import Target, measure
from bench.layers import bench_layers
from bench.layers import table as layer_table
from bench.processes import app_environment, bench_database, free_port, migrate, server

BENCH_DIR = Path(__file__).resolve().parent
BEFORE = BENCH_DIR / "layers-before.json"
REFERENCES = {
    "hello (bare Flask)": "bench.hello:app",
    "one raw query (bare Flask)": "bench.one_query:app",
    "one session query (bare Flask-SQLAlchemy)": "bench.one_session_query:app",
}
ONE_QUERY = "one raw query (bare Flask)"
SESSION_QUERY = "one session query (bare Flask-SQLAlchemy)"
# GET /healthz over the same query through a bare Flask-SQLAlchemy session:
# what the app's own layers add, at most.
HEALTHZ_TARGET = 1.25


class Settings:
    def __init__(self, smoke: bool):
        # Five short runs rather than three long ones: now and then a whole
        # run costs half again as much CPU per request (the two cores are
        # shared with wrk and PostgreSQL), and the median outvotes two such.
        self.wrk_seconds = 1 if smoke else 3
        self.wrk_runs = 1 if smoke else 5
        self.layer_requests = 50 if smoke else 2000
        self.rounds = 1 if smoke else 5


def targets(pages: list[str], database: str, stack: ExitStack) -> dict[str, Target]:
    """Start the app and the references in ``stack``; their wrk targets."""
    app_port = free_port()
    app = stack.enter_context(server(["gunicorn", "wsgi:app"], app_environment(database), app_port))
    found: dict[str, Target] = {}
    for name, module in REFERENCES.items():
        port = free_port()
        process = stack.enter_context(server(["gunicorn", module], app_environment(database), port))
        found[name] = (f"http://127.0.0.1:{port}/", None, process)
    for path in ["/healthz", *pages]:
        found[f"GET {path}"] = (f"http://127.0.0.1:{app_port}{path}", None, app)
    return found


def bench(pages: list[str], settings: Settings) -> dict:
    with bench_database() as database, ExitStack() as stack:
        migrate(database)
        runs = measure(targets(pages, database, stack), 8, settings)
        stack.close()
        layers = bench_layers(database, settings.layer_requests, settings.rounds)
    session = runs[SESSION_QUERY]["cpu_ms_per_request"]
    ratio = round(runs["GET /healthz"]["cpu_ms_per_request"] / max(session, 0.001), 2)
    return {"runs": runs, "layers": layers, "healthz_cpu_vs_session_query": ratio}


def report(results: dict, smoke: bool) -> str:
    ratio = results["healthz_cpu_vs_session_query"]
    met = "met" if ratio <= HEALTHZ_TARGET else "**missed**"
    lines = [
        "# What the app's own layers cost per request",
        "",
        f"Written by `make bench{'-smoke' if smoke else ''}` (`bench/run.py`). gunicorn as the "
        "Procfile runs it (gthread), staging settings, PostgreSQL; wrk, 8 connections, on "
        "127.0.0.1. Server CPU per request is the gunicorn master's and workers' own CPU time "
        "(from /proc) over the requests served: steadier than throughput on a machine that wrk "
        "and PostgreSQL share. The references make the probe's `SELECT 1` with none of the "
        "app's code.",
        "",
        "| endpoint | server CPU ms per request | over the raw query | requests/s | p50 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    raw = results["runs"][ONE_QUERY]["cpu_ms_per_request"]
    for name, run in results["runs"].items():
        cpu = run["cpu_ms_per_request"]
        lines.append(
            f"| {name} | {cpu:.3f} | {cpu / max(raw, 0.001):.2f} | "
            f"{run['requests_per_s']:.0f} | {run['p50_ms']} |"
        )
    lines += [
        "",
        f"`GET /healthz` over the session query, what the app's own layers add to the same "
        f"query: {ratio} (target <= {HEALTHZ_TARGET}: {met}). Over the raw query, the "
        f"session's share is the session query's own ratio.",
        "",
        "## By layer",
        "",
        "CPU time per request inside the app (the WSGI app called in this process, each "
        "request's log line written to /dev/null), with every layer and with each taken away in "
        "turn: what each layer costs (`bench/layers.py`). *needed*: the path does not answer "
        "without it.",
        "",
        *layer_table(results["layers"]),
    ]
    if BEFORE.exists():  # the layers before their cost was cut (docs/performance.md)
        lines += ["", "Before, at 208d321, measured the same way but with log lines off:", ""]
        lines += layer_table(json.loads(BEFORE.read_text()))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds")
    parser.add_argument("--output", type=Path, default=BENCH_DIR, help="where to write results")
    args = parser.parse_args()
    for tool in ("wrk", "gunicorn"):
        if shutil.which(tool) is None:
            raise SystemExit(f"Error: {tool} is not installed (make bench installs it)")
    pages = os.environ.get("BENCH_PAGES", "/").split()
    results = bench(pages, Settings(args.smoke))
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.output / "RESULTS.md").write_text(report(results, args.smoke))
    print(report(results, args.smoke))
    print(f"wrote {args.output / 'RESULTS.md'} and {args.output / 'results.json'}")


if __name__ == "__main__":
    main()
