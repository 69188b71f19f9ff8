"""The report: the machine, the targets and their verdicts, and RESULTS.md."""

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench import layers
from wordcount.bench import background
from wordcount.bench.http_load import CPU_FIGURES, ONE_QUERY

TARGETS = {  # key: (comparison, bound)
    "counting.speedup_vs_original": (">=", 30.0),
    "counting.vs_parse_only": ("<=", 2.6),
    "http.floor_ratio": (">=", 0.5),
    "http.history_scaling": ("<=", 1.5),
    "startup.import_ratio": ("<=", 1.3),
    "http.vs_one_query": (">=", 0.8),
    "network.p50_vs_one_query": ("<=", 1.3),
    # CPU per request (gthread, 8 connections) over a reference doing the
    # same work: what the app's own layers cost every request.
    "http.healthz_cpu_vs_one_query": ("<=", 1.25),
    "http.api_cpu_vs_session_query": ("<=", 1.2),
    "http.api_cpu_vs_one_query": ("<=", 1.8),
    "http.html_cpu_vs_json": ("<=", 1.5),
    # After a burst is admitted (RESULTS.md, Background counts, says why).
    "background.post_alone_p99_ms": ("<=", 100.0),
    "background.healthz_admitted_p99_ratio": ("<=", 2.0),
    "background.drain_scaling": (">=", 0.8),
}


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "packages": {
            name: metadata.version(name)
            for name in (
                "flask",
                "sqlalchemy",
                "gunicorn",
                "psycopg",
                "selectolax",
                "beautifulsoup4",
                "nltk",
            )
        },
        "postgresql": postgres.split()[-1] if postgres else None,
        "wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()[
            1
        ],
    }


def flatten(results: dict) -> dict:
    return {
        "counting.speedup_vs_original": results["counting"]["speedup_vs_original"],
        "counting.vs_parse_only": results["counting"]["vs_parse_only"],
        "http.floor_ratio": results["http"]["floor_ratio"],
        "http.history_scaling": results["http"]["history_scaling"],
        "startup.import_ratio": results["startup"]["import_ratio"],
        "http.vs_one_query": results["http"]["vs_one_query"],
        "http.cpu_vs_one_query": results["http"]["cpu_vs_one_query"],
        **{f"http.{key}": results["http"][key] for key, *_ in CPU_FIGURES},
        "network.p50_vs_one_query": results["network"]["p50_vs_one_query"],
        "background.post_p99_ms": results["background"]["queued"]["post_p99_ms"],
        "background.healthz_p99_ratio": results["background"]["queued"]["healthz_p99_ratio"],
        "background.post_alone_p99_ms": results["background"]["queued"]["post_alone_p99_ms"],
        "background.healthz_admitted_p99_ratio": results["background"]["queued"][
            "healthz_admitted_p99_ratio"
        ],
        "background.drain_scaling": results["background"]["drain_scaling"],
    }


def verdicts(results: dict) -> dict:
    out = {}
    for key, value in flatten(results).items():
        if key not in TARGETS:  # a figure reported, with no target of its own
            continue
        comparison, bound = TARGETS[key]
        met = value >= bound if comparison == ">=" else value <= bound
        out[key] = {"value": value, "target": f"{comparison} {bound}", "met": met}
    return out


def write_report(results: dict, output: Path, profile: str | None) -> None:
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    m, c, h, s = results["machine"], results["counting"], results["http"], results["startup"]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench{'-smoke' if results['smoke'] else ''}` on {m['date']}: "
        f"{m['cpu']}, {m['cores']} cores; Python {m['python']}, PostgreSQL {m['postgresql']}, "
        f"wrk {m['wrk']}; " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()) + ".",
        "",
        f"Corpus: {results['corpus']['pages']} pages, {results['corpus']['megabytes']} MB "
        f"({results['corpus']['folder']}, sorted, first pages up to the size).",
        "",
        "## Targets",
        "",
        "| figure | value | target | met |",
        "| --- | --- | --- | --- |",
    ]
    for key, verdict in results["verdicts"].items():
        lines.append(
            f"| `{key}` | {verdict['value']} | {verdict['target']} | "
            f"{'yes' if verdict['met'] else '**no**'} |"
        )
    lines += [
        "",
        "## Counting",
        "",
        f"Ours: {c['mb_per_s']} MB/s; the original pipeline: {c['original_mb_per_s']} MB/s; "
        f"parsing and text extraction alone: lexbor {c['parse_only_mb_per_s']['lexbor']} MB/s, "
        f"lxml {c['parse_only_mb_per_s']['lxml']} MB/s. Medians of alternating rounds in one "
        f"process (seconds: {c['seconds']}). Peak RSS of a process counting every page: "
        f"{c['peak_rss_mb']} MB.",
        "",
        f"Pages that declare no charset (the corpus with its `<meta charset>` removed) take the "
        f"HTML standard's fallback, UTF-8 when the bytes are valid UTF-8, else windows-1252. "
        f"Their time against the declared pages: valid UTF-8 "
        f"{c['charset_fallback_ratio']['undeclared_utf8']}x, windows-1252 "
        f"{c['charset_fallback_ratio']['undeclared_windows_1252']}x.",
        "",
        "## The app's own cost, by layer",
        "",
        "CPU time per request inside the app (the WSGI app called in this process, each "
        "request's log line written to /dev/null), with every layer and with each taken away in "
        "turn: what each layer costs. *needed*: the path does not answer without it. Rate "
        "limiting is no layer: only a limited view's POST reaches it; the database session's end "
        "cannot be taken away (the pool runs dry without it) (`bench/layers.py`).",
        "",
        *(layers.table(results["layers"]) if "layers" in results else ["(not measured)"]),
        "",
        "## HTTP",
        "",
        f"gunicorn as the Procfile runs it (gthread), beside plain sync workers; PostgreSQL; "
        f"wrk for {results['settings']['wrk_seconds']} s per row, 2 threads, on 127.0.0.1. "
        f"`POST /api/counts` fetches a {h['post_page_kb']} kB page from a local server. "
        f"Worker RSS after the run: {h['worker_rss_mb']} MB.",
        "",
        "| workers / connections | endpoint | server CPU ms per request | requests/s | "
        "p50 ms | p99 ms | non-2xx |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run, endpoints in h["runs"].items():
        for name, f in endpoints.items():
            lines.append(
                f"| {run} | {name} | {f['cpu_ms_per_request']:.3f} | "
                f"{f['requests_per_s']:.0f} | {f['p50_ms']} | "
                f"{f['p99_ms']} | {f['non_2xx']} |"
            )
    lines += [
        "",
        f"Each row is the median of {results['settings']['wrk_runs']} runs after a warm-up; "
        f"the rows of a table take turns, one run each per round. "
        f"`http.floor_ratio` is `GET /api/counts/<id>` over the bare Flask app, gthread, "
        f"{results['settings']['connections'][-1]} connections; for every run: "
        f'{h["floor_ratios"]}. For reference, "one raw query" '
        f"(`wordcount/bench/hello_db.py`) is the "
        f"bare Flask app making the same read in a single raw psycopg round trip (autocommit, "
        f"no ORM, no ping): {h['one_query_ratio']} of the bare app ({h['one_query_ratios']}).",
        "",
        f"History: p50 of `GET /history`, one connection, with {h['rows'][1]:,} rows over "
        f"{h['rows'][0]:,} rows: "
        f"first page {h['history_scaling']}, a page in the middle "
        f"{h['history_scaling_middle_page']} (p50 ms: {h['p50_ms']}).",
        "",
        "## Start-up",
        "",
        f"Median wall time (hyperfine): {s['median_s']}. `import web` over importing Flask, "
        f"Flask-SQLAlchemy and Flask-Migrate: {s['import_ratio']}; `manage.py db current` "
        f"(PostgreSQL) over the same: {s['db_current_ratio']}.",
    ]
    n = results["network"]
    lines += [
        "",
        "## With a network between the app and PostgreSQL",
        "",
        f"`wordcount/bench/latency.py` puts a TCP proxy between the app and PostgreSQL that "
        f"delays every chunk by {n['delay_ms_each_way']} ms each way and counts round trips "
        f"(the client's turns to speak). One gunicorn worker, one thread, one connection "
        f"(wrk -c1): p50 of `GET /api/counts/<id>` {n['p50_ms']['GET /api/counts/<id>']} ms, "
        f"the one-raw-query app {n['p50_ms'][ONE_QUERY]} ms: "
        f"`network.p50_vs_one_query` = {n['p50_vs_one_query']}. Without the proxy, "
        f"`http.vs_one_query` (throughput of `GET /api/counts/<id>` over the one-raw-query "
        f"app's) is {h['vs_one_query']} ({h['vs_one_query_ratios']}). Where the difference "
        f"goes: the same read through a bare Flask-SQLAlchemy session "
        f"(`wordcount/bench/hello_session.py`, the raw query's SQL, no template code) is "
        f"{h['session_vs_one_query_ratios']} of the raw query, and `GET /api/counts/<id>` "
        f"is {h['vs_one_session_query_ratios']} of that session read. Judged on the servers' "
        f"own CPU time per request instead (steadier than throughput on a machine that wrk "
        f"and PostgreSQL share), `GET /api/counts/<id>` costs {h['cpu_vs_one_query']} times "
        f"the one-raw-query app's (`http.cpu_vs_one_query`; {h['cpu_vs_one_query_ratios']}).",
        "",
        "| request | round trips to PostgreSQL |",
        "| --- | --- |",
        *(f"| {name} | {count} |" for name, count in n["round_trips"].items()),
    ]
    lines += ["", *background.report_lines(results["background"])]
    if profile:
        lines += [
            "",
            "## Where counting spends its time (cProfile, by own time)",
            "",
            "```",
            profile,
            "```",
        ]
    lines += [
        "",
        "## Where each request spends its time (cProfile, by own time)",
        "",
        f"In this process, the WSGI app called directly. `GET /api/counts/<id>` makes "
        f"{n['round_trips']['GET /api/counts/1']} round trip(s) to PostgreSQL (see above), as "
        "the one-raw-query reference does: what is left is Flask, the app's layers, "
        "SQLAlchemy and the body.",
    ]
    for path, text in h["profiles"].items():
        endpoint = path.replace("{id}", "<id>")
        lines += ["", f"### `GET {endpoint}`", "", "```", text, "```"]
    missed = [key for key, verdict in results["verdicts"].items() if not verdict["met"]]
    lines += ["", "Missed targets: " + (", ".join(f"`{k}`" for k in missed) or "none") + "."]
    (output / "RESULTS.md").write_text("\n".join(lines) + "\n")
