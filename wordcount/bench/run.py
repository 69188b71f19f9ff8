"""Benchmarks: every figure a ratio of two things measured side by side in one run.

    make bench          the full run: writes RESULTS.md and results.json beside this file
    make bench-smoke    a few seconds on tiny inputs, so the harness never rots (CI)

Needs PostgreSQL on 127.0.0.1:5432, wrk and hyperfine (Debian packages), and
the pages of Debian's python3-doc (or --corpus DIR). All traffic stays on
127.0.0.1.
"""

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import background
from latency import delay_proxy, round_trips_per_request
from processes import PROJECT_DIR, bench_database, free_port, server, sql

BENCH_DIR = Path(__file__).resolve().parent
sys.path[:0] = [str(PROJECT_DIR), str(BENCH_DIR)]

from wordcount.counting import count_page, load_stop_words  # noqa: E402

DEFAULT_CORPUS = Path("/usr/share/doc/python3/html")
TARGETS = {  # key: (comparison, bound)
    "counting.speedup_vs_original": (">=", 30.0),
    "counting.vs_parse_only": ("<=", 2.0),
    "http.floor_ratio": (">=", 0.5),
    "http.history_scaling": ("<=", 1.5),
    "startup.import_ratio": ("<=", 1.5),
    "http.vs_one_query": (">=", 0.8),
    "network.p50_vs_one_query": ("<=", 1.3),
    "background.post_p99_ms": ("<=", 100.0),
    "background.healthz_p99_ratio": ("<=", 2.0),
    "background.drain_scaling": (">=", 0.8),
}


class Settings:
    def __init__(self, smoke: bool):
        self.smoke = smoke
        self.min_pages, self.min_bytes = (8, 0) if smoke else (200, 20_000_000)
        self.rounds = 1 if smoke else 5
        self.original_rounds = 1 if smoke else 3
        self.original_pages = 3 if smoke else None  # None: the whole corpus
        self.wrk_seconds = 1 if smoke else 5
        self.wrk_runs = 1 if smoke else 3
        self.connections = [8] if smoke else [8, 32]
        self.worker_classes = ["gthread"] if smoke else ["gthread", "sync"]
        self.history_rows = (1_000, 5_000) if smoke else (1_000, 1_000_000)
        self.hyperfine_runs = 2 if smoke else 10


# --- Corpus --------------------------------------------------------------------


def load_corpus(folder: Path, settings: Settings) -> list[tuple[str, bytes]]:
    """A fixed selection: files in sorted order until both minimums are met."""
    pages, size = [], 0
    for path in sorted(folder.rglob("*.html")):
        body = path.read_bytes()
        pages.append((str(path.relative_to(folder)), body))
        size += len(body)
        if len(pages) >= settings.min_pages and size >= settings.min_bytes:
            return pages
    if len(pages) < settings.min_pages:
        raise SystemExit(
            f"Error: {folder} has {len(pages)} .html files; {settings.min_pages} are needed"
        )
    return pages


# --- Counting --------------------------------------------------------------------


def bench_counting(pages: list[tuple[str, bytes]], settings: Settings) -> dict:
    """Ours, the original and bare parsers, alternating in this process."""
    from original import count_original
    from selectolax.lexbor import LexborHTMLParser

    bodies = [body for _, body in pages]
    texts = [body.decode("utf-8", "replace") for body in bodies]
    original_texts = texts[: settings.original_pages] if settings.original_pages else texts
    stop_words = load_stop_words()

    def ours():
        for body in bodies:
            count_page(body, stop_words=stop_words)

    # The same pages with their <meta charset> removed, as UTF-8 and as
    # windows-1252: the HTML standard's fallback (valid UTF-8, else 1252).
    meta = re.compile(rb"<meta[^>]*charset[^>]*>", re.IGNORECASE)
    undeclared_utf8 = [meta.sub(b"", body) for body in bodies]
    undeclared_1252 = [
        text.encode("cp1252", "replace")
        for text in (body.decode("utf-8", "replace") for body in undeclared_utf8)
    ]

    def ours_undeclared_utf8():
        for body in undeclared_utf8:
            count_page(body, stop_words=stop_words)

    def ours_undeclared_1252():
        for body in undeclared_1252:
            count_page(body, stop_words=stop_words)

    def original():
        for text in original_texts:
            count_original(text, stop_words)

    # The floor: each parser called the fastest way, on the (UTF-8) bytes.
    def parse_lexbor():
        for body in bodies:
            LexborHTMLParser(body).text(separator=" ")

    def parse_lxml():
        import lxml.html

        parser = lxml.html.HTMLParser(encoding="utf-8")
        for body in bodies:
            lxml.html.document_fromstring(body, parser=parser).text_content()

    times = {
        "ours": [],
        "original": [],
        "lexbor": [],
        "lxml": [],
        "undeclared_utf8": [],
        "undeclared_1252": [],
    }
    for round_number in range(settings.rounds):
        times["ours"].append(timed(ours))
        times["undeclared_utf8"].append(timed(ours_undeclared_utf8))
        times["undeclared_1252"].append(timed(ours_undeclared_1252))
        times["lexbor"].append(timed(parse_lexbor))
        times["lxml"].append(timed(parse_lxml))
        if round_number < settings.original_rounds:
            times["original"].append(timed(original))

    megabytes = sum(map(len, bodies)) / 1e6
    original_megabytes = sum(len(t.encode()) for t in original_texts) / 1e6
    ours_s = statistics.median(times["ours"])
    original_s = statistics.median(times["original"])
    floor_s = min(statistics.median(times["lexbor"]), statistics.median(times["lxml"]))
    ours_rate, original_rate = megabytes / ours_s, original_megabytes / original_s
    return {
        "speedup_vs_original": round(ours_rate / original_rate, 1),
        "vs_parse_only": round(ours_s / floor_s, 2),
        "mb_per_s": round(ours_rate, 1),
        "original_mb_per_s": round(original_rate, 2),
        "parse_only_mb_per_s": {
            "lexbor": round(megabytes / statistics.median(times["lexbor"]), 1),
            "lxml": round(megabytes / statistics.median(times["lxml"]), 1),
        },
        "charset_fallback_ratio": {
            "undeclared_utf8": round(statistics.median(times["undeclared_utf8"]) / ours_s, 2),
            "undeclared_windows_1252": round(
                statistics.median(times["undeclared_1252"]) / ours_s, 2
            ),
        },
        "seconds": {name: [round(t, 3) for t in values] for name, values in times.items()},
        "peak_rss_mb": counting_peak_rss(pages),
    }


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def counting_peak_rss(pages: list[tuple[str, bytes]]) -> float:
    """Peak resident memory of a fresh process that counts every page."""
    with tempfile.TemporaryDirectory() as folder:
        for index, (_, body) in enumerate(pages):
            Path(folder, f"{index:05}.html").write_bytes(body)
        script = (
            "import resource, sys, pathlib; from wordcount.counting import count_page\n"
            "for page in sorted(pathlib.Path(sys.argv[1]).iterdir()):\n"
            "    count_page(page.read_bytes())\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
        )
        output = subprocess.run(
            [sys.executable, "-c", script, folder],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return round(int(output) / 1024, 1)


def counting_profile(pages: list[tuple[str, bytes]]) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _, body in pages:
        count_page(body)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(8)
    return "\n".join(
        line for line in out.getvalue().splitlines() if re.match(r"\s+\d", line) or "ncalls" in line
    )


# --- Servers -------------------------------------------------------------------------

# --- HTTP ------------------------------------------------------------------------------


def wrk(url: str, connections: int, seconds: int, script: Path | None = None) -> dict:
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": latency_ms(re.search(r"\s50%\s+([\d.]+\w+)", output).group(1)),
        "p99_ms": latency_ms(re.search(r"\s99%\s+([\d.]+\w+)", output).group(1)),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else None,
    }


def measure(
    targets: dict[str, tuple[str, Path | None]], connections: int, settings: Settings
) -> dict[str, dict]:
    """Each target's median wrk run (by requests/s), after a short warm-up.

    The targets take turns, one run each per round, so that a slow spell of
    the machine weighs on all of them alike rather than on whichever was
    being measured at the time: their ratios are what the figures are.
    """
    for url, script in targets.values():
        wrk(url, connections, 1, script)
    runs: dict[str, list[dict]] = {name: [] for name in targets}
    for _ in range(settings.wrk_runs):
        for name, (url, script) in targets.items():
            runs[name].append(wrk(url, connections, settings.wrk_seconds, script))
    measured = {}
    for name, results in runs.items():
        results.sort(key=lambda run: run["requests_per_s"])
        measured[name] = {
            **results[len(results) // 2],
            "requests_per_s_runs": [run["requests_per_s"] for run in results],
        }
    return measured


def latency_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
    return round(float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit], 3)


def post_script(folder: Path, page_url: str) -> Path:
    script = folder / "post.lua"
    body = json.dumps({"url": page_url}).replace('"', '\\"')
    script.write_text(
        'wrk.method = "POST"\n'
        f'wrk.body = "{body}"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    return script


def hundred_kb_page(pages: list[tuple[str, bytes]]) -> bytes:
    """The corpus page closest to 100 kB."""
    return min((body for _, body in pages), key=lambda body: abs(len(body) - 100_000))


def worker_rss_mb(master: subprocess.Popen) -> float:
    workers = subprocess.run(
        ["pgrep", "-P", str(master.pid)], capture_output=True, text=True
    ).stdout.split()
    sizes = []
    for pid in workers:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
    return round(max(sizes), 1)


def app_environment(database: str) -> dict:
    """The web app's settings in every benchmark: staging, on ``database``."""
    return {
        "APP_SETTINGS": "config.StagingConfig",
        "SECRET_KEY": "bench-" + "x" * 32,
        "TRUSTED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database,
        "WORDCOUNT_ALLOW_PRIVATE_HOSTS": "true",
    }


def bench_http(pages, settings: Settings, database: str, folder: Path) -> dict:
    app_env = app_environment(database)
    subprocess.run(
        [sys.executable, "manage.py", "db", "upgrade"],
        cwd=PROJECT_DIR,
        env={**os.environ, **app_env},
        check=True,
        capture_output=True,
    )
    site = folder / "site"
    site.mkdir()
    page = hundred_kb_page(pages)
    (site / "page.html").write_bytes(page)
    site_port = free_port()
    page_url = f"http://127.0.0.1:{site_port}/page.html"
    script = post_script(folder, page_url)
    results: dict = {"post_page_kb": round(len(page) / 1000, 1), "runs": {}}

    with server(
        [
            sys.executable,
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            str(site_port),
            "--directory",
            str(site),
        ],
        {},
        site_port,
    ):
        for worker_class in settings.worker_classes:
            extra = [] if worker_class == "gthread" else ["--worker-class", worker_class]
            app_port, hello_port, hello_db_port = free_port(), free_port(), free_port()
            base = f"http://127.0.0.1:{app_port}"
            reference = ["gunicorn", "--pythonpath", str(BENCH_DIR), *extra]
            with (
                server(["gunicorn", "web:app", *extra], app_env, app_port) as master,
                server([*reference, "hello:app"], app_env, hello_port),
                server([*reference, "hello_db:app"], app_env, hello_db_port),
            ):
                result_id = seed_result(base, page_url)
                targets = {
                    "GET /healthz": (f"{base}/healthz", None),
                    "GET /results/<id>": (f"{base}/results/{result_id}", None),
                    "GET /api/counts/<id>": (f"{base}/api/counts/{result_id}", None),
                    "GET /history": (f"{base}/history", None),
                    "POST /api/counts": (f"{base}/api/counts", script),
                    "hello (bare Flask)": (f"http://127.0.0.1:{hello_port}/", None),
                    "one raw query (bare Flask)": (
                        f"http://127.0.0.1:{hello_db_port}/{result_id}",
                        None,
                    ),
                }
                for connections in settings.connections:
                    results["runs"][f"{worker_class}/c{connections}"] = measure(
                        targets, connections, settings
                    )
                if worker_class == "gthread":
                    results["worker_rss_mb"] = worker_rss_mb(master)
    last = f"gthread/c{settings.connections[-1]}"
    results["floor_ratios"] = ratios(results["runs"], "GET /api/counts/<id>")
    results["floor_ratio"] = results["floor_ratios"][last]
    results["one_query_ratios"] = ratios(results["runs"], "one raw query (bare Flask)")
    results["one_query_ratio"] = results["one_query_ratios"][last]
    results["vs_one_query_ratios"] = {
        run: round(
            endpoints["GET /api/counts/<id>"]["requests_per_s"]
            / endpoints["one raw query (bare Flask)"]["requests_per_s"],
            2,
        )
        for run, endpoints in results["runs"].items()
    }
    results["vs_one_query"] = results["vs_one_query_ratios"][last]
    results["api_profile"] = api_profile(app_env, result_id)
    return results


def ratios(runs: dict, endpoint: str) -> dict:
    """``endpoint``'s requests/s over the bare Flask app's, for every run."""
    return {
        run: round(
            endpoints[endpoint]["requests_per_s"]
            / endpoints["hello (bare Flask)"]["requests_per_s"],
            2,
        )
        for run, endpoints in runs.items()
    }


def api_profile(app_env: dict, result_id: int) -> str:
    """Where one GET /api/counts/<id> spends its time, in-process (cProfile)."""
    from config import StagingConfig
    from web import create_app

    app = create_app(StagingConfig(app_env))
    client = app.test_client()
    for _ in range(50):
        client.get(f"/api/counts/{result_id}")
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(300):
        client.get(f"/api/counts/{result_id}")
    profiler.disable()
    per_request_ms = (time.perf_counter() - started) / 300 * 1000
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(10)
    lines = [
        line for line in out.getvalue().splitlines() if re.match(r"\s+\d", line) or "ncalls" in line
    ]
    return f"{per_request_ms:.2f} ms per request under the profiler\n" + "\n".join(lines)


def seed_result(base: str, page_url: str) -> int:
    import urllib.request

    request = urllib.request.Request(
        f"{base}/api/counts",
        method="POST",
        data=json.dumps({"url": page_url}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["id"]


def bench_history_scaling(settings: Settings, database: str) -> dict:
    """GET /history p50 with few rows, then with very many, one request at a
    time: the page's own cost, free of how connections spread over workers."""
    app_env = {
        "APP_SETTINGS": "config.StagingConfig",
        "SECRET_KEY": "bench-" + "x" * 32,
        "TRUSTED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database,
    }
    small, large = settings.history_rows
    port = free_port()
    figures = {}
    with server(["gunicorn", "web:app"], app_env, port):
        for rows in (small, large):
            load_rows(database, rows)
            figures[rows] = measure(
                {
                    "first_page": (f"http://127.0.0.1:{port}/history", None),
                    "middle_page": (f"http://127.0.0.1:{port}/history?before={rows // 2}", None),
                },
                1,
                settings,
            )
    ratio = figures[large]["first_page"]["p50_ms"] / figures[small]["first_page"]["p50_ms"]
    middle = figures[large]["middle_page"]["p50_ms"] / figures[small]["middle_page"]["p50_ms"]
    return {
        "rows": [small, large],
        "history_scaling": round(ratio, 2),
        "history_scaling_middle_page": round(middle, 2),
        "p50_ms": {
            str(rows): {page: f["p50_ms"] for page, f in by_page.items()}
            for rows, by_page in figures.items()
        },
    }


def load_rows(database: str, rows: int) -> None:
    """Replace the table's rows with ``rows`` small results, oldest first."""
    sql(database, "TRUNCATE results RESTART IDENTITY")
    sql(
        database,
        f"""
        INSERT INTO results (url, requested_url, status, attempts, created_at, updated_at,
                             finished_at, total_words, unique_words,
                             result_all, result_no_stop_words)
        SELECT 'https://example.com/page/' || g, 'https://example.com/page/' || g, 'done', 1,
               now() - ({rows} - g) * interval '1 second',
               now() - ({rows} - g) * interval '1 second',
               now() - ({rows} - g) * interval '1 second',
               g % 5000, g % 900, '[["word", 3], ["other", 1]]', '[["other", 1]]'
        FROM generate_series(1, {rows}) AS g""",
    )
    sql(database, "ANALYZE results")


# --- A network between the app and PostgreSQL ------------------------------------

NETWORK_DELAY_MS = 1.0
ROUND_TRIP_PATHS = ("/healthz", "/api/counts/1", "/api/counts", "/results/1", "/history", "/")


def bench_network(settings: Settings, database: str) -> dict:
    """With PostgreSQL NETWORK_DELAY_MS away each way (delay proxy): p50 of
    GET /api/counts/<id> against the one-raw-query app, one connection, and
    the round trips each endpoint makes, counted by the proxy."""
    load_rows(database, 1)
    parts = urlsplit(database)
    results: dict = {"delay_ms_each_way": NETWORK_DELAY_MS}
    with delay_proxy(parts.port or 5432, NETWORK_DELAY_MS) as proxy:
        proxied = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
        env = app_environment(proxied)
        one_thread = ["--workers", "1", "--threads", "1"]
        app_port, raw_port = free_port(), free_port()
        with (
            server(["gunicorn", "web:app", *one_thread], env, app_port),
            server(
                ["gunicorn", "--pythonpath", str(BENCH_DIR), *one_thread, "hello_db:app"],
                env,
                raw_port,
            ),
        ):
            base = f"http://127.0.0.1:{app_port}"
            results["round_trips"] = {
                f"GET {path}": round_trips_per_request(proxy, base + path)
                for path in ROUND_TRIP_PATHS
            }
            with background.slow_site() as site:
                body = json.dumps({"url": f"{site}/0/page"}).encode()
                results["round_trips"]["POST /api/counts (inline)"] = round_trips_per_request(
                    proxy, f"{base}/api/counts", "POST", body, requests=20
                )
            load_rows(database, 1)
            latency = measure(
                {
                    "GET /api/counts/<id>": (f"{base}/api/counts/1", None),
                    "one raw query (bare Flask)": (f"http://127.0.0.1:{raw_port}/1", None),
                },
                1,
                settings,
            )
    results["p50_ms"] = {name: run["p50_ms"] for name, run in latency.items()}
    results["p50_vs_one_query"] = round(
        results["p50_ms"]["GET /api/counts/<id>"] / results["p50_ms"]["one raw query (bare Flask)"],
        2,
    )
    return results


# --- Start-up ------------------------------------------------------------------------


def bench_startup(settings: Settings, database: str, folder: Path) -> dict:
    python = sys.executable
    commands = {
        "baseline": f"{python} -c 'import flask, flask_sqlalchemy, flask_migrate'",
        "import_web": f"{python} -c 'import web'",
        "db_current": f"{python} manage.py db current",
    }
    export = folder / "hyperfine.json"
    subprocess.run(
        [
            "hyperfine",
            "--warmup",
            "2",
            "--runs",
            str(settings.hyperfine_runs),
            "--style",
            "none",
            "--export-json",
            str(export),
            *[
                arg
                for name, command in commands.items()
                for arg in ("--command-name", name, command)
            ],
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "DATABASE_URL": database},
        check=True,
        capture_output=True,
    )
    medians = {run["command"]: run["median"] for run in json.loads(export.read_text())["results"]}
    return {
        "median_s": {name: round(seconds, 3) for name, seconds in medians.items()},
        "import_ratio": round(medians["import_web"] / medians["baseline"], 2),
        "db_current_ratio": round(medians["db_current"] / medians["baseline"], 2),
    }


# --- Report --------------------------------------------------------------------------


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
        "network.p50_vs_one_query": results["network"]["p50_vs_one_query"],
        "background.post_p99_ms": results["background"]["queued"]["post_p99_ms"],
        "background.healthz_p99_ratio": results["background"]["queued"]["healthz_p99_ratio"],
        "background.drain_scaling": results["background"]["drain_scaling"],
    }


def verdicts(results: dict) -> dict:
    out = {}
    for key, value in flatten(results).items():
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
        "## HTTP",
        "",
        f"gunicorn as the Procfile runs it (gthread), beside plain sync workers; PostgreSQL; "
        f"wrk for {results['settings']['wrk_seconds']} s per row, 2 threads, on 127.0.0.1. "
        f"`POST /api/counts` fetches a {h['post_page_kb']} kB page from a local server. "
        f"Worker RSS after the run: {h['worker_rss_mb']} MB.",
        "",
        "| workers / connections | endpoint | requests/s | p50 ms | p99 ms | non-2xx |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for run, endpoints in h["runs"].items():
        for name, f in endpoints.items():
            lines.append(
                f"| {run} | {name} | {f['requests_per_s']:.0f} | {f['p50_ms']} | "
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
        f"the one-raw-query app {n['p50_ms']['one raw query (bare Flask)']} ms: "
        f"`network.p50_vs_one_query` = {n['p50_vs_one_query']}. Without the proxy, "
        f"`http.vs_one_query` (throughput of `GET /api/counts/<id>` over the one-raw-query "
        f"app's) is {h['vs_one_query']} ({h['vs_one_query_ratios']}).",
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
    if not results["verdicts"]["http.floor_ratio"]["met"]:
        lines += [
            "",
            "## Where `GET /api/counts/<id>` spends its time (cProfile, by own time)",
            "",
            f"Each request makes "
            f"{n['round_trips']['GET /api/counts/1']} round trip(s) to PostgreSQL "
            "(see above), as the one-raw-query reference does: what is left is Flask, "
            "SQLAlchemy's session and the JSON body, by own time below.",
            "",
            "```",
            h["api_profile"],
            "```",
        ]
    missed = [key for key, verdict in results["verdicts"].items() if not verdict["met"]]
    lines += ["", "Missed targets: " + (", ".join(f"`{k}`" for k in missed) or "none") + "."]
    (output / "RESULTS.md").write_text("\n".join(lines) + "\n")


def rerun_background(output: Path) -> None:
    results = json.loads((output / "results.json").read_text())
    with bench_database() as database:
        subprocess.run(
            [sys.executable, "manage.py", "db", "upgrade"],
            cwd=PROJECT_DIR,
            env={**os.environ, **app_environment(database)},
            check=True,
            capture_output=True,
        )
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
