"""HTTP: the example under wrk, beside a bare Flask app and one making the
same read in a single raw query, as gunicorn serves them; and /history as
the table grows."""

import cProfile
import io
import json
import pstats
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.http_load import Target, measure, read
from bench.processes import LOOPBACK_APP, app_environment, free_port, migrate, server, sql
from wordcount.bench.settings import Settings

# The reference apps, served by gunicorn from the project folder.
HELLO_APP = "bench.hello:app"
HELLO_DB_APP = "wordcount.bench.hello_db:app"
HELLO_SESSION_APP = "wordcount.bench.hello_session:app"
ONE_QUERY = "one raw query (bare Flask)"
ONE_SESSION_QUERY = "one session query (bare Flask-SQLAlchemy)"


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
        sizes.append(int(read(r"VmRSS:\s+(\d+)", status)) / 1024)
    return round(max(sizes), 1)


def bench_http(pages, settings: Settings, database: str, folder: Path) -> dict:
    app_env = app_environment(database)
    migrate(database)
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
            app_port, hello_port, hello_db_port, session_port = (free_port() for _ in range(4))
            base = f"http://127.0.0.1:{app_port}"
            reference = ["gunicorn", *extra]
            with (
                server(["gunicorn", LOOPBACK_APP, *extra], app_env, app_port) as master,
                server([*reference, HELLO_APP], app_env, hello_port) as hello,
                server([*reference, HELLO_DB_APP], app_env, hello_db_port) as hello_db,
                server([*reference, HELLO_SESSION_APP], app_env, session_port) as session,
            ):
                count_id = seed_result(base, page_url)
                targets: dict[str, Target] = {
                    "GET /healthz": (f"{base}/healthz", None, master),
                    "GET /counts/<id>": (f"{base}/counts/{count_id}", None, master),
                    "GET /api/counts/<id>": (f"{base}/api/counts/{count_id}", None, master),
                    "GET /history": (f"{base}/history", None, master),
                    "POST /api/counts": (f"{base}/api/counts", script, master),
                    "hello (bare Flask)": (f"http://127.0.0.1:{hello_port}/", None, hello),
                    ONE_QUERY: (f"http://127.0.0.1:{hello_db_port}/{count_id}", None, hello_db),
                    ONE_SESSION_QUERY: (
                        f"http://127.0.0.1:{session_port}/{count_id}",
                        None,
                        session,
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
    results["one_query_ratios"] = ratios(results["runs"], ONE_QUERY)
    results["one_query_ratio"] = results["one_query_ratios"][last]
    results["vs_one_query_ratios"] = ratios(results["runs"], "GET /api/counts/<id>", ONE_QUERY)
    results["vs_one_query"] = results["vs_one_query_ratios"][last]
    results["session_vs_one_query_ratios"] = ratios(results["runs"], ONE_SESSION_QUERY, ONE_QUERY)
    results["vs_one_session_query_ratios"] = ratios(
        results["runs"], "GET /api/counts/<id>", ONE_SESSION_QUERY
    )
    # CPU time per request, the app's over the one-raw-query app's: steady
    # where the throughput ratio is not (the reference apps' throughput
    # halved between two runs on a 2-core machine).
    results["cpu_vs_one_query_ratios"] = cpu_ratios(
        results["runs"], "GET /api/counts/<id>", ONE_QUERY
    )
    results["cpu_vs_one_query"] = results["cpu_vs_one_query_ratios"][last]
    # The app's own cost: CPU per request, gthread, 8
    # connections, each endpoint over the reference doing the same work.
    for key, endpoint, baseline in CPU_FIGURES:
        results[key] = cpu_ratios(results["runs"], endpoint, baseline).get("gthread/c8")
    results["profiles"] = profiles(app_env, count_id)
    return results


CPU_FIGURES = [
    ("healthz_cpu_vs_one_query", "GET /healthz", ONE_QUERY),
    ("api_cpu_vs_session_query", "GET /api/counts/<id>", ONE_SESSION_QUERY),
    ("api_cpu_vs_one_query", "GET /api/counts/<id>", ONE_QUERY),
    ("html_cpu_vs_json", "GET /counts/<id>", "GET /api/counts/<id>"),
]


def cpu_ratios(runs: dict, endpoint: str, reference: str) -> dict:
    """``endpoint``'s server CPU time per request over ``reference``'s."""
    return {
        run: round(
            endpoints[endpoint]["cpu_ms_per_request"]
            / max(endpoints[reference]["cpu_ms_per_request"], 0.001),
            2,
        )
        for run, endpoints in runs.items()
    }


def ratios(runs: dict, endpoint: str, reference: str = "hello (bare Flask)") -> dict:
    """``endpoint``'s requests/s over ``reference``'s, for every run."""
    return {
        run: round(
            endpoints[endpoint]["requests_per_s"] / endpoints[reference]["requests_per_s"], 2
        )
        for run, endpoints in runs.items()
    }


# The three endpoints issue #31 asked to keep a profile of.
PROFILED = ("/healthz", "/api/counts/{id}", "/counts/{id}")


def profiles(app_env: dict, count_id: int) -> dict[str, str]:
    """Where one request to each of PROFILED spends its time, in-process
    (cProfile, by own time): the WSGI app called directly, as gunicorn
    calls it, so that no test client's work is counted."""
    from config import StagingConfig
    from web import create_app

    app = create_app(StagingConfig(app_env))
    return {path: profile(app, path.format(id=count_id)) for path in PROFILED}


def profile(app, path: str) -> str:
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path=path, base_url="http://127.0.0.1").get_environ()

    def request() -> None:
        body = app(environ.copy(), lambda status, headers, exc_info=None: None)
        b"".join(body)
        body.close()

    for _ in range(50):
        request()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(300):
        request()
    profiler.disable()
    per_request_ms = (time.perf_counter() - started) / 300 * 1000
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    lines = [
        line for line in out.getvalue().splitlines() if re.match(r"\s+\d", line) or "ncalls" in line
    ]
    return f"{per_request_ms:.2f} ms per request under the profiler\n" + "\n".join(lines)


def seed_result(base: str, page_url: str) -> int:
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
    app_env = app_environment(database)
    small, large = settings.history_rows
    port = free_port()
    figures = {}
    with server(["gunicorn", LOOPBACK_APP], app_env, port):
        for rows in (small, large):
            load_rows(database, rows)
            figures[rows] = measure(
                {
                    "first_page": (f"http://127.0.0.1:{port}/history", None, None),
                    "middle_page": (
                        f"http://127.0.0.1:{port}/history?before={rows // 2}",
                        None,
                        None,
                    ),
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
    sql(database, "TRUNCATE counts RESTART IDENTITY")
    sql(
        database,
        f"""
        INSERT INTO counts (url, requested_url, status, attempts, created_at, updated_at,
                             finished_at, total_words, unique_words,
                             all_words, words)
        SELECT 'https://example.com/page/' || g, 'https://example.com/page/' || g, 'done', 1,
               now() - ({rows} - g) * interval '1 second',
               now() - ({rows} - g) * interval '1 second',
               now() - ({rows} - g) * interval '1 second',
               g % 5000, g % 900, '[["word", 3], ["other", 1]]', '[["other", 1]]'
        FROM generate_series(1, {rows}) AS g""",
    )
    sql(database, "ANALYZE counts")
