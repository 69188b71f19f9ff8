"""A request that submits a job while Redis refuses, hangs or drops the
connection answers within two seconds with 503 and Retry-After, in JSON or
HTML as the client asks: never a 500, never a request left waiting."""

import os
import signal
import threading
import time

import pytest
from flask import Flask

from extensions import jobs
from tests import job_probe
from tests.support.fixtures import testing_config as config_on
from web import create_app

DEADLINE = 2.0  # seconds: docs/jobs.md's promise


@pytest.fixture
def submitting_app(private_redis) -> Flask:
    """The app on a Redis of this test's own, with a view that submits a job."""
    app = create_app(config_on("sqlite://", REDIS_URL=private_redis.url))
    app.config["WTF_CSRF_ENABLED"] = False

    @app.post("/submit")
    def submit() -> dict[str, bool]:
        return {"ran": jobs.submit(job_probe.sleep, 0)}

    return app


def post(app: Flask, accept: str = "application/json"):
    started = time.monotonic()
    response = app.test_client().post("/submit", headers={"Accept": accept})
    return response, time.monotonic() - started


def assert_unavailable(response, elapsed: float) -> None:
    assert elapsed < DEADLINE
    assert (response.status_code, response.headers["Retry-After"]) == (503, "30")
    assert response.get_json()["error"]["code"] == "jobs_unavailable"


def test_a_job_is_queued_while_redis_answers(submitting_app):
    response, _ = post(submitting_app)
    assert (response.status_code, response.get_json()) == (200, {"ran": False})


def test_redis_refusing_is_a_503(submitting_app, private_redis):
    private_redis.stop()
    assert_unavailable(*post(submitting_app))


def test_redis_hanging_is_a_503_within_the_deadline(submitting_app, private_redis):
    post(submitting_app)  # a pooled connection, to a server that then stops answering
    os.kill(private_redis.process.pid, signal.SIGSTOP)
    try:
        assert_unavailable(*post(submitting_app))
    finally:
        os.kill(private_redis.process.pid, signal.SIGCONT)


def test_redis_dropping_the_connection_mid_request_is_a_503(submitting_app, private_redis):
    post(submitting_app)
    os.kill(private_redis.process.pid, signal.SIGSTOP)  # the next command waits...
    killer = threading.Timer(0.2, os.kill, (private_redis.process.pid, signal.SIGKILL))
    killer.start()  # ...until the server dies under it
    try:
        assert_unavailable(*post(submitting_app))
    finally:
        killer.join()


def test_a_browser_gets_the_503_as_a_page(submitting_app, private_redis):
    private_redis.stop()
    response, elapsed = post(submitting_app, accept="text/html")
    assert (response.status_code, response.mimetype, elapsed < DEADLINE) == (503, "text/html", True)
    assert "The job queue is unavailable" in response.text


def test_staging_without_redis_says_at_start_that_jobs_run_inline(caplog):
    from config import StagingConfig

    settings = {"DATABASE_URL": "sqlite://", "SECRET_KEY": "s" * 32, "TRUSTED_HOSTS": "a.test"}
    create_app(StagingConfig(settings))
    assert "REDIS_URL is not set: jobs run inline" in caplog.text
