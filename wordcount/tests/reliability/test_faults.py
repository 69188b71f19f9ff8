"""Load, a killed worker and a database restart: exact numbers, not "no crash"."""

import http.client
import json
import os
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import create_engine, text

from config import sqlalchemy_url
from tests.support.commands import manage
from tests.support.http_client import heroku_url
from tests.support.processes import wait_until
from wordcount.counting import count_page
from wordcount.tests.reliability.conftest import start_app

CLIENTS = 32
REQUESTS_PER_CLIENT = 70  # 2,240 requests in all
LOST = "connection lost"


def make_pages(local_site, count: int = 20) -> dict[str, int]:
    """Distinct local pages; returns url -> the total words count_page finds."""
    expected = {}
    for i in range(count):
        body = (
            f"<html><head><title>Page {i}</title></head><body><h1>Topic number{i}</h1>"
            + "<p>"
            + " ".join(["alpha", "beta", "gamma"][: i % 3 + 1] * (i + 1))
            + "</p>"
            + "</body></html>"
        )
        url = local_site.add(f"/page/{i}", body)
        expected[url] = count_page(body.encode()).total_words
    return expected


class Load:
    """CLIENTS threads sending a fixed mix of requests; every outcome kept."""

    def __init__(self, server, pages: dict[str, int], count_id: int):
        self.server, self.pages, self.count_id = server, list(pages), count_id
        self.outcomes: list[tuple[str, object, dict]] = []
        self.lock = threading.Lock()
        self.sent = 0

    def one(self, client: int, i: int) -> None:
        kind = (
            "post",
            "post",
            "post",
            "result",
            "result",
            "result",
            "history",
            "history",
            "healthz",
            "api",
        )[i % 10]
        page = self.pages[(client + i) % len(self.pages)]
        calls = {
            "post": ("POST", "/api/counts", {"url": page}),
            "result": ("GET", f"/counts/{self.count_id}", None),
            "history": ("GET", "/history", None),
            "healthz": ("GET", "/healthz", None),
            "api": ("GET", f"/api/counts/{self.count_id}", None),
        }
        method, path, body = calls[kind]
        sent = time.monotonic()
        try:
            status, _, data = self.server.call(method, path, body, timeout=30)
        except (http.client.HTTPException, ConnectionError):
            status, data = LOST, b""
        record = {
            "page": page,
            "body": json.loads(data) if status == 201 else None,
            "sent": sent,
            "answered": time.monotonic(),
        }
        with self.lock:
            self.sent += 1
            self.outcomes.append((kind, status, record))

    def client(self, number: int) -> None:
        for i in range(REQUESTS_PER_CLIENT):
            self.one(number, i)

    def run(self) -> None:
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(self.client, range(CLIENTS)))

    def statuses(self) -> Counter:
        return Counter(status for _, status, _ in self.outcomes)

    def acknowledged(self) -> list[dict]:
        return [
            record["body"] | {"page": record["page"]}
            for _, status, record in self.outcomes
            if status == 201
        ]


def stored_rows(database: str) -> dict[int, tuple[str, int]]:
    engine = create_engine(sqlalchemy_url(database))
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, url, total_words FROM counts")).all()
    engine.dispose()
    return {row.id: (row.url, row.total_words) for row in rows}


def seed(server, pages) -> int:
    status, _, body = server.call("POST", "/api/counts", {"url": next(iter(pages))})
    assert status == 201
    return json.loads(body)["id"]


def test_load_32_clients_mixed_requests(production_app, postgres_url, local_site, figures):
    pages = make_pages(local_site)
    count_id = seed(production_app, pages)
    load = Load(production_app, pages, count_id)
    started = time.monotonic()
    load.run()
    seconds = time.monotonic() - started

    statuses = load.statuses()
    assert load.sent == CLIENTS * REQUESTS_PER_CLIENT
    assert sum(n for status, n in statuses.items() if status != LOST and status >= 500) == 0
    assert set(statuses) <= {200, 201}, statuses
    acknowledged = load.acknowledged()
    rows = stored_rows(postgres_url)
    assert len(rows) == len(acknowledged) + 1  # + the seeded result
    for body in acknowledged:
        assert rows[body["id"]] == (body["page"], pages[body["page"]])
    figures["load"] = {
        "requests": load.sent,
        "seconds": round(seconds, 1),
        "requests_per_s": round(load.sent / seconds),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "5xx": 0,
        "acknowledged_201": len(acknowledged),
        "rows_stored": len(rows) - 1,
        "peak_worker_rss_mb": production_app.worker_rss_mb(),
    }


def test_a_killed_worker_is_replaced_and_loses_only_its_requests(
    production_app, postgres_url, local_site, figures
):
    pages = make_pages(local_site)
    count_id = seed(production_app, pages)
    load = Load(production_app, pages, count_id)
    runner = threading.Thread(target=load.run)
    runner.start()
    wait_until(lambda: load.sent >= 400, timeout=60, what="400 requests sent")
    victim = production_app.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    killed, killed_after = time.monotonic(), load.sent
    runner.join(timeout=120)

    statuses = load.statuses()
    assert load.sent == CLIENTS * REQUESTS_PER_CLIENT
    assert not [s for s in statuses if s != LOST and s >= 500], statuses
    # Only requests already in flight when the worker died may lose their
    # connection: sent before the kill, failed after it.
    lost = [record for _, status, record in load.outcomes if status == LOST]
    assert all(r["sent"] <= killed <= r["answered"] for r in lost), lost
    assert len(lost) <= CLIENTS
    workers = production_app.worker_pids()
    assert len(workers) == 2 and victim not in workers
    acknowledged = load.acknowledged()
    rows = stored_rows(postgres_url)
    assert all(rows[body["id"]] == (body["page"], pages[body["page"]]) for body in acknowledged)
    # A POST cut off after its commit is stored but was never acknowledged.
    assert len(acknowledged) + 1 <= len(rows) <= len(acknowledged) + 1 + statuses[LOST]
    figures["worker_killed"] = {
        "requests": load.sent,
        "killed_after_requests": killed_after,
        "connections_lost": statuses[LOST],
        "5xx": 0,
        "acknowledged_201": len(acknowledged),
        "rows_stored": len(rows) - 1,
        "statuses": {str(k): v for k, v in statuses.items()},
    }


UNAVAILABLE = {(503, "db_unavailable"), (503, "healthz unavailable"), (503, "page unavailable")}


def classify(status: int, headers, body: bytes):
    """200, or (status, what the body says) for an error."""
    if status == 200:
        return 200
    if headers.get("Content-Type", "").startswith("application/json"):
        document = json.loads(body)
        if "error" in document:
            return status, document["error"]["code"]
        return status, f"healthz {document['database']}"
    if b"The database is unavailable" in body:
        return status, "page unavailable"
    return status, body[:80]


def test_database_restart_gives_503_then_recovers_without_restarting_the_app(
    private_cluster, tmp_path, local_site, figures
):
    database = private_cluster.url
    assert manage("db", "upgrade", DATABASE_URL=heroku_url(database)).returncode == 0
    server = start_app(database, tmp_path)
    try:
        count_id = seed(server, make_pages(local_site, 1))
        samples: list[tuple[float, str, object, float]] = []
        stop = threading.Event()

        def poll(path: str) -> None:
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    outcome = classify(*server.call("GET", path, timeout=20))
                except (http.client.HTTPException, ConnectionError):
                    outcome = LOST
                samples.append((sent, path, outcome, time.monotonic() - sent))
                time.sleep(0.02)

        pollers = [
            threading.Thread(target=poll, args=(path,))
            for path in (f"/api/counts/{count_id}", "/healthz", "/", f"/api/counts/{count_id}")
        ]
        for poller in pollers:
            poller.start()
        time.sleep(1)
        private_cluster.stop("fast")
        down_at = time.monotonic()  # pg_ctl has waited until the server is gone
        time.sleep(3)
        starting_at = time.monotonic()
        private_cluster.start()
        up_at = time.monotonic()
        recovered = wait_until(
            lambda: server.call("GET", f"/api/counts/{count_id}")[0] == 200,
            what="the app to serve again",
            timeout=30,
        )
        time.sleep(1)
        stop.set()
        for poller in pollers:
            poller.join(timeout=30)
    finally:
        assert server.dyno.stop() == 0

    outage = [s for s in samples if down_at < s[0] < starting_at]
    outcomes = Counter(s[2] for s in samples)
    assert outage, "no request was sent while the database was down"
    assert {s[2] for s in outage} <= UNAVAILABLE, Counter(s[2] for s in outage)
    assert set(outcomes) <= {200} | UNAVAILABLE, outcomes
    assert max(s[3] for s in samples) < 10  # no hung worker: every answer came quickly
    assert recovered < 10
    figures["database_restart"] = {
        "requests": len(samples),
        "during_outage": len(outage),
        "outcomes": {str(k): v for k, v in outcomes.items()},
        "slowest_answer_s": round(max(s[3] for s in samples), 2),
        "recovery_after_database_up_s": round(recovered, 2),
        "outage_s": round(up_at - down_at, 1),
    }
