"""A hostile web site against the production server (issue 19's classes):
each case gets a stored outcome with its code, in time, in bounded memory,
and no row is left unfinished. Reports, per case, the status, the seconds
to answer and the peak memory (VmHWM) of the one worker that served it."""

import json
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from config import sqlalchemy_url
from tests.support.commands import manage
from tests.support.http_client import heroku_url, request
from tests.support.raw_site import RawSite, after, response, trickle
from wordcount.counting import MAX_WORD_LENGTH
from wordcount.tests.reliability.conftest import start_app

FETCH_TIMEOUT = 3


@pytest.fixture
def raw_site():
    site = RawSite()
    yield site
    site.close()


@pytest.fixture
def one_worker_app(postgres_url, tmp_path):
    """Production, one gunicorn worker (so its peak memory is the case's)."""
    assert manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url)).returncode == 0
    server = start_app(
        postgres_url, tmp_path, WEB_CONCURRENCY="1", WORDCOUNT_FETCH_TIMEOUT=str(FETCH_TIMEOUT)
    )
    yield server
    assert server.dyno.stop() == 0


HTML = "HTTP/1.1 200 OK\nContent-Type: text/html"


def hostile_site(site: RawSite) -> dict[str, tuple[int, object]]:
    """path -> (expected status, expected error code or total_words)."""
    cases = {
        "/charset-rot13": (f"{HTML}; charset=rot13", b"<p>plain words</p>", (201, 2)),
        "/charset-idna": (f"{HTML}; charset=idna", b"<p>plain words</p>", (201, 2)),
        "/meta-base64": (HTML, b"<meta charset=base64><p>plain words</p>", (201, 2)),
        "/meta-zlib": (HTML, b"<meta charset='zlib'><p>plain words</p>", (201, 2)),
        "/length-superscript": (
            f"{HTML}\nContent-Length: \u00b9",
            b"<p>x</p>",
            (422, "bad_response"),
        ),
        "/length-two": (f"{HTML}\nContent-Length: 5, 6", b"<p>x</p>", (422, "bad_response")),
        "/endless-word": (HTML, b"<p>" + b"w" * 4_990_000 + b" end</p>", (201, 1)),
        "/word-500": (HTML, b"<p>" + b"w" * 500 + b" end</p>", (201, 1)),
        "/longest-word": (HTML, b"<p>" + b"w" * MAX_WORD_LENGTH + b"</p>", (201, 1)),
        "/to-gopher": (
            "HTTP/1.1 302 Found\nLocation: gopher://127.0.0.1/",
            b"",
            (422, "bad_redirect"),
        ),
        "/to-file": (
            "HTTP/1.1 302 Found\nLocation: file:///etc/passwd",
            b"",
            (422, "bad_redirect"),
        ),
        "/to-userinfo": (
            "HTTP/1.1 302 Found\nLocation: http://a@127.0.0.1/",
            b"",
            (422, "bad_redirect"),
        ),
    }
    expected = {}
    for path, (head, body, outcome) in cases.items():
        site.add(path, response(head, body))
        expected[path] = outcome
    site.add("/trickled-status", trickle(b"HTTP/1.1 200 OK\r\n", every=0.5))
    site.add("/trickled-headers", after(b"HTTP/1.1 200 OK\r\n", trickle(b"X: y\r\n", 0.5)))
    site.add(
        "/trickled-body",
        after(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", trickle(b"<p>w</p>", 0.5)),
    )
    for path in ("/trickled-status", "/trickled-headers", "/trickled-body"):
        expected[path] = (422, "fetch_timeout")
    return expected


def test_a_hostile_site_gets_stored_outcomes_in_time_and_bounded_memory(
    one_worker_app, postgres_url, raw_site, figures
):
    report = {}
    for path, (status, expected) in hostile_site(raw_site).items():
        started = time.monotonic()
        got, _, data = one_worker_app.call("POST", "/api/counts", {"url": raw_site.url(path)})
        seconds = time.monotonic() - started
        body = json.loads(data)
        report[path] = {
            "status": got,
            "outcome": body.get("total_words", body.get("error", {}).get("code")),
            "seconds": round(seconds, 2),
            "peak_worker_mb": one_worker_app.worker_rss_mb("VmHWM"),
        }
        assert (got, report[path]["outcome"]) == (status, expected), (path, body)
        assert seconds < FETCH_TIMEOUT + 2, (path, seconds)
    assert statuses(postgres_url) == {"done", "failed"}  # none left queued or running
    # 30 counts of the endless word: the list stays small, whatever the page.
    for _ in range(29):
        one_worker_app.call("POST", "/api/counts", {"url": raw_site.url("/endless-word")})
    status, _, listing = one_worker_app.call("GET", "/api/counts?limit=30")
    assert status == 200
    assert len(listing) < 200_000
    peak = one_worker_app.worker_rss_mb("VmHWM")
    assert peak < 300
    figures["hostile_site"] = {
        "cases": report,
        "list_of_30_endless_word_counts_bytes": len(listing),
        "peak_worker_mb": peak,
    }


def statuses(database: str) -> set[str]:
    engine = create_engine(sqlalchemy_url(database))
    with engine.connect() as connection:
        found = set(connection.scalars(text("SELECT DISTINCT status FROM counts")))
    engine.dispose()
    return found


def test_waiting_clients_never_starve_the_site(postgres_url, redis_url, tmp_path, figures):
    """3 x (workers x threads) clients with Prefer: wait=20 and no job
    worker running: /healthz and pages still answer promptly."""
    assert manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url)).returncode == 0
    server = start_app(postgres_url, tmp_path, REDIS_URL=redis_url)
    waiting_clients, probes, posts = 3 * 2 * 4, [], []
    try:

        def wait_post():
            started = time.monotonic()
            status, _, _ = server.call(
                "POST", "/api/counts", {"url": "http://127.0.0.1:9/"}, headers={"Prefer": "wait=20"}
            )
            posts.append((status, time.monotonic() - started))

        clients = [threading.Thread(target=wait_post) for _ in range(waiting_clients)]
        for client in clients:
            client.start()
        time.sleep(0.5)
        for _ in range(20):
            started = time.monotonic()
            for path in ("/healthz", "/"):
                status, _, _ = request(server.url + path, headers={"X-Forwarded-Proto": "https"})
                assert status == 200, path
            probes.append(time.monotonic() - started)
            time.sleep(0.1)
        for client in clients:
            client.join(timeout=30)
    finally:
        assert server.dyno.stop() == 0
    assert len(posts) == waiting_clients
    assert all(status == 202 for status, _ in posts)
    assert max(probes) < 2
    figures["waiting_clients"] = {
        "clients": waiting_clients,
        "slowest_probe_s": round(max(probes), 3),
        "posts_answered_at_once": sum(1 for _, seconds in posts if seconds < 2),
        "posts_that_waited": sum(1 for _, seconds in posts if seconds >= 2),
    }


@pytest.mark.parametrize("part", ["headers", "body"])
def test_slow_clients_are_cut_at_the_request_deadline(postgres_url, tmp_path, figures, part):
    """Slowloris: 3 x (workers x threads) connections that send a byte every
    0.5 s. Each is closed at GUNICORN_REQUEST_TIMEOUT, and /healthz answers
    once the slow clients queued before it have had their deadline."""
    from tests.test_heroku import slow_client

    data = {
        "headers": b"GET /healthz HTTP/1.1\r\nX-Forwarded-Proto: https\r\nX-Slow: ",
        "body": b"POST /api/counts HTTP/1.1\r\nX-Forwarded-Proto: https\r\n"
        b"Content-Type: application/json\r\nContent-Length: 999\r\n\r\n",
    }[part]
    assert manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url)).returncode == 0
    deadline, workers, threads = 3.0, 2, 4
    server = start_app(postgres_url, tmp_path, GUNICORN_REQUEST_TIMEOUT=str(deadline))
    port = int(server.url.rsplit(":", 1)[1])
    stop, results = threading.Event(), []
    clients = [
        threading.Thread(target=lambda: results.append(slow_client(port, stop, data, 0.5)))
        for _ in range(3 * workers * threads)
    ]
    try:
        for client in clients:
            client.start()
        time.sleep(1)
        probes = []
        for _ in range(5):
            started = time.monotonic()
            status, _, _ = server.call("GET", "/healthz", timeout=60)
            probes.append(time.monotonic() - started)
            assert status == 200
        for client in clients:
            client.join(timeout=30)
    finally:
        stop.set()
        assert server.dyno.stop() == 0
    closed = sorted(result["closed_after"] for result in results if result["closed_after"])
    assert len(closed) == len(clients)
    # The slow clients queue for the threads; each holds one for at most the
    # deadline, so a request behind them waits at most this (accept() may
    # give all of them to one of the two processes).
    assert max(probes) < (len(clients) / threads + 1) * deadline + 2
    figures.setdefault("slow_clients", {})[part] = {
        "clients": len(clients),
        "request_timeout_s": deadline,
        "slowest_healthz_s": round(max(probes), 2),
        "closed_after_s": [round(closed[0], 1), round(closed[-1], 1)],
    }
