"""Every fault of a background count, provoked against real processes: the
web app (gunicorn), ``manage.py worker``, Redis and PostgreSQL. Each
scenario reports accepted, done, failed and lost (must be 0) counts, and
the longest time a count stayed unfinished."""

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from flask import Response
from sqlalchemy import create_engine, text

from config import sqlalchemy_url
from tests.support import loopback_app
from tests.support.commands import manage
from tests.support.http_client import heroku_url
from tests.support.processes import Dyno, free_port, wait_until
from tests.support.servers import RedisServer
from wordcount.tests.reliability.conftest import start_app

# The README's bounds ("When a worker or Redis fails"), plus the scenario's own waits.
SETTLE_SECONDS = {"sigkill": 200, "default": 120}


def slow_page(local_site, seconds: float, path: str = "/slow") -> str:
    def view():
        time.sleep(seconds)
        return Response("<p>slow words here</p>", content_type="text/html")

    return local_site.add_view(path, view)


def start_worker(
    database: str, redis: str, tmp_path, name: str = "worker.1", concurrency: int = 2
) -> Dyno:
    return Dyno(
        [sys.executable, *loopback_app.WORKER, "--concurrency", str(concurrency)],
        tmp_path / f"{name}.log",
        APP_SETTINGS="config.ProductionConfig",
        SECRET_KEY="reliability-" + "k" * 40,
        DATABASE_URL=heroku_url(database),
        TRUSTED_HOSTS="127.0.0.1",
        REDIS_URL=redis,
        DYNO=name,
        WORDCOUNT_FETCH_TIMEOUT="20",
    )


def living_in_session(session: int) -> list[int]:
    """The processes of a session that are neither gone nor zombies."""
    found = subprocess.run(["pgrep", "-s", str(session)], capture_output=True, text=True)
    living = []
    for pid in found.stdout.split():
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.append(int(pid))
    return living


class Counts:
    """The counts a scenario submitted, read back from the database."""

    def __init__(self, database: str):
        self.engine = create_engine(sqlalchemy_url(database))
        self.accepted: list[int] = []

    def submit(self, server, url: str, n: int) -> None:
        for _ in range(n):
            status, _, body = server.call("POST", "/api/counts", {"url": url})
            assert status == 202, body
            self.accepted.append(json.loads(body)["id"])

    def rows(self) -> list:
        try:
            with self.engine.connect() as connection:
                return list(
                    connection.execute(
                        text(
                            "SELECT id, status, error_code, attempts, EXTRACT(EPOCH FROM "
                            "(COALESCE(finished_at, now()) - created_at)) AS took FROM counts"
                        )
                    )
                )
        except Exception:  # the database may be down in a scenario
            return []

    def unfinished(self) -> int:
        rows = self.rows()
        return (
            len(self.accepted)
            if not rows
            else sum(row.status in ("queued", "running") for row in rows)
        )

    def running(self) -> int:
        return sum(row.status == "running" for row in self.rows())

    def settle(self, timeout: float) -> dict:
        wait_until(
            lambda: self.unfinished() == 0,
            timeout=timeout,
            interval=0.5,
            what="every accepted count to finish",
        )
        rows = {row.id: row for row in self.rows()}
        self.engine.dispose()
        statuses = Counter(rows[i].status for i in self.accepted if i in rows)
        return {
            "accepted": len(self.accepted),
            "done": statuses["done"],
            "failed": statuses["failed"],
            "lost": len(self.accepted) - statuses["done"] - statuses["failed"],
            "failed_codes": dict(
                Counter(
                    rows[i].error_code
                    for i in self.accepted
                    if i in rows and rows[i].status == "failed"
                )
            ),
            "most_attempts": max(rows[i].attempts for i in self.accepted),
            "longest_unfinished_s": round(max(float(rows[i].took) for i in self.accepted), 1),
        }


class Dynos:
    """A web dyno and a worker dyno on one database and one Redis, and the
    counts submitted through the web dyno."""

    def __init__(
        self,
        database: str,
        redis: str,
        tmp_path,
        web_redis: str | None = None,
        concurrency: int = 2,
    ):
        self.database, self.redis, self.tmp_path = database, redis, tmp_path
        self.concurrency = concurrency
        self.server = start_app(database, tmp_path, REDIS_URL=web_redis or redis)
        self.counts = Counts(database)
        self.workers = 0
        self.worker = self.start_worker()

    def start_worker(self) -> Dyno:
        self.workers += 1
        self.worker = start_worker(
            self.database, self.redis, self.tmp_path, f"worker.{self.workers}", self.concurrency
        )
        return self.worker

    def stop(self) -> None:
        self.server.dyno.stop()
        self.worker.stop()


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def migrated(postgres_url):
    assert manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url)).returncode == 0
    return postgres_url


@pytest.mark.timeout(300)
def test_a_worker_sigkilled_mid_job_loses_no_count(
    migrated, redis_server, tmp_path, local_site, figures
):
    dynos = Dynos(migrated, redis_server.url, tmp_path)
    try:
        dynos.counts.submit(dynos.server, slow_page(local_site, 3), 6)
        wait_until(lambda: dynos.counts.running() == 2, timeout=30, what="two counts running")
        # The whole dyno at once: the pool, its workers, and their work horses, which
        # run in process groups of their own but in the dyno's session.
        session = dynos.worker.process.pid
        subprocess.run(["pkill", "-KILL", "-s", str(session)], timeout=10)
        dynos.worker.process.wait(timeout=10)
        wait_until(
            lambda: not living_in_session(session),
            timeout=10,
            what="every process of the worker dyno to die",
        )
        dynos.worker.stop()
        dynos.start_worker()
        report = dynos.counts.settle(SETTLE_SECONDS["sigkill"])
    finally:
        dynos.stop()
    figures["jobs_worker_sigkill"] = report
    assert (report["lost"], report["done"]) == (0, 6), report


@pytest.mark.timeout(200)
def test_a_worker_sigtermed_mid_job_stops_in_time_and_loses_no_count(
    migrated, redis_server, tmp_path, local_site, figures
):
    dynos = Dynos(migrated, redis_server.url, tmp_path)
    try:
        dynos.counts.submit(dynos.server, slow_page(local_site, 10), 4)
        wait_until(lambda: dynos.counts.running() == 2, timeout=30, what="two counts running")
        stopping = time.monotonic()
        status = dynos.worker.stop(timeout=30)
        stop_seconds = time.monotonic() - stopping
        stopped_output = dynos.worker.output
        dynos.start_worker()
        report = dynos.counts.settle(SETTLE_SECONDS["default"])
    finally:
        dynos.stop()
    figures["jobs_worker_sigterm"] = {**report, "worker_stop_s": round(stop_seconds, 1)}
    assert status == 0 and stop_seconds < 30, stopped_output
    assert (report["lost"], report["done"]) == (0, 4), report


@pytest.mark.timeout(200)
@pytest.mark.parametrize("fault", ["restart", "flush"])
def test_redis_restarted_or_flushed_with_jobs_queued_loses_no_count(
    fault, migrated, redis_server, tmp_path, local_site, figures
):
    dynos = Dynos(migrated, redis_server.url, tmp_path, concurrency=1)
    try:
        dynos.counts.submit(dynos.server, slow_page(local_site, 2), 5)
        wait_until(lambda: dynos.counts.running() == 1, timeout=30, what="a count running")
        if fault == "restart":
            redis_server.restart()
        else:
            subprocess.run(
                ["redis-cli", "-p", str(redis_server.port), "FLUSHALL"],
                check=True,
                capture_output=True,
                timeout=10,
            )
        report = dynos.counts.settle(SETTLE_SECONDS["default"])
    finally:
        dynos.stop()
    figures[f"jobs_redis_{fault}"] = report
    assert (report["lost"], report["done"]) == (0, 5), report


@pytest.mark.timeout(200)
def test_an_enqueue_that_fails_after_the_commit_loses_no_count(
    migrated, redis_server, tmp_path, local_site, figures
):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    dynos = Dynos(migrated, redis_server.url, tmp_path, web_redis=dead_redis)
    try:
        started = time.monotonic()
        dynos.counts.submit(dynos.server, local_site.add("/page", "<p>words</p>"), 5)
        post_seconds = (time.monotonic() - started) / 5
        report = dynos.counts.settle(SETTLE_SECONDS["default"])
    finally:
        dynos.stop()
    figures["jobs_enqueue_failed"] = {**report, "post_s": round(post_seconds, 3)}
    assert (report["lost"], report["done"]) == (0, 5), report


@pytest.mark.timeout(200)
def test_postgresql_restarted_while_workers_run_loses_no_count(
    private_cluster, redis_server, tmp_path, local_site, figures
):
    database = private_cluster.url
    assert manage("db", "upgrade", DATABASE_URL=heroku_url(database)).returncode == 0
    dynos = Dynos(database, redis_server.url, tmp_path)
    try:
        dynos.counts.submit(dynos.server, slow_page(local_site, 2), 6)
        wait_until(lambda: dynos.counts.running() >= 1, timeout=30, what="a count running")
        private_cluster.stop("immediate")
        time.sleep(5)
        private_cluster.start()
        report = dynos.counts.settle(SETTLE_SECONDS["default"])
    finally:
        dynos.stop()
    figures["jobs_postgresql_restart"] = report
    assert report["lost"] == 0, report
    assert report["done"] + report["failed"] == 6, report
