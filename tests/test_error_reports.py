"""Errors reach Sentry (plumbing/error_reports.py), here a fake Sentry on
loopback that keeps every envelope it is sent: one per error, with the
request's id, the release and the environment, and nothing personal in
its bytes."""

import gzip
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import sentry_sdk

from extensions import jobs
from plumbing import error_reports
from tests import job_probe
from tests.support.commands import manage, run_app
from tests.support.fixtures import sqlite_app
from tests.support.processes import wait_until

PASSWORD = "pw-Hunter2-never-sent"
COOKIE = "cookie-value-never-sent"
TOKEN = "token-never-sent"
ADDRESS = "someone.private@example.com"


class FakeSentry(BaseHTTPRequestHandler):
    envelopes: ClassVar[list[bytes]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-untyped]

            body = brotli.decompress(body)
        self.envelopes.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_dsn() -> Iterator[str]:
    FakeSentry.envelopes = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSentry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://public@127.0.0.1:{server.server_port}/1"
    sentry_sdk.get_client().close(timeout=2)
    sentry_sdk.init()  # no DSN: the rest of the tests report nothing
    server.shutdown()
    server.server_close()


@pytest.fixture
def reporting_app(sentry_dsn, monkeypatch):
    monkeypatch.setenv("HEROKU_SLUG_COMMIT", "slug-commit-1")
    yield from sqlite_app({"SENTRY_DSN": sentry_dsn})


def sent_errors() -> list[bytes]:
    sentry_sdk.flush(timeout=5)
    return [envelope for envelope in FakeSentry.envelopes if b'"type":"event"' in envelope]


def test_a_views_error_is_sent_once_with_its_request_id_and_nothing_personal(reporting_app):
    def boom():
        token = TOKEN  # a local variable: not sent
        raise RuntimeError(f"could not mail {ADDRESS} ({len(token)})")

    reporting_app.add_url_rule("/boom", "boom", boom, methods=["POST"])
    reporting_app.config["PROPAGATE_EXCEPTIONS"] = False  # as outside tests: a 500 page
    client = reporting_app.test_client()
    client.set_cookie("session", COOKIE)
    response = client.post(
        f"/boom?token={TOKEN}",
        data={"password": PASSWORD, "email": ADDRESS},
        headers={"X-Request-ID": "router-9", "Authorization": f"Bearer {TOKEN}"},
    )
    [envelope] = sent_errors()
    assert response.status_code == 500
    assert b"could not mail [address]" in envelope
    assert b'"request_id":"router-9"' in envelope
    assert b'"release":"slug-commit-1"' in envelope
    assert b'"environment":"testing"' in envelope
    for secret in (PASSWORD, COOKIE, TOKEN, ADDRESS):
        assert secret.encode() not in envelope


def test_an_inline_jobs_error_is_sent_with_the_request_that_submitted_it(reporting_app):
    reporting_app.add_url_rule(
        "/submit",
        "submit",
        lambda: {"ran": jobs.submit(job_probe.fail, f"job failed for {ADDRESS}")},
        methods=["POST"],
    )
    reporting_app.test_client().post("/submit", headers={"X-Request-ID": "router-10"})
    [envelope] = sent_errors()
    assert b"job failed for [address]" in envelope
    assert b'"request_id":"router-10"' in envelope
    assert b'"job_id":"inline-' in envelope
    assert ADDRESS.encode() not in envelope


def test_without_a_dsn_sentry_is_not_imported():
    result = run_app("import sys, web; web.create_app(); print('sentry_sdk' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def errors_received(count: int) -> list[bytes]:
    """The error envelopes another process sent, once ``count`` have come."""

    def received() -> list[bytes]:
        return [envelope for envelope in FakeSentry.envelopes if b'"type":"event"' in envelope]

    wait_until(lambda: len(received()) >= count, timeout=20, what=f"{count} error envelope(s)")
    return received()


@pytest.mark.postgres
def test_a_workers_job_error_is_sent_with_the_request_that_submitted_it(
    sentry_dsn, queue_app, start_worker, tmp_path
):
    start_worker(SENTRY_DSN=sentry_dsn, HEROKU_SLUG_COMMIT="slug-commit-3")
    argument = str(tmp_path / TOKEN)  # a job's argument: never sent
    queue_app.add_url_rule(
        "/submit",
        "submit",
        lambda: {"ran": jobs.submit(job_probe.fail_until, argument, 1)},
        methods=["POST"],
    )
    queue_app.test_client().post("/submit", headers={"X-Request-ID": "router-11"})
    [envelope] = errors_received(1)
    assert b"run 1 fails" in envelope
    assert b'"request_id":"router-11"' in envelope
    assert b'"release":"slug-commit-3"' in envelope
    assert TOKEN.encode() not in envelope


@pytest.mark.postgres
def test_a_release_phase_error_is_sent_with_the_release(sentry_dsn, postgres_url):
    missing = postgres_url.rsplit("/", 1)[0] + "/no_such_database_for_sentry"
    result = manage(
        "db",
        "upgrade",
        APP_SETTINGS="config.StagingConfig",
        SECRET_KEY="s" * 32,
        TRUSTED_HOSTS="myapp.herokuapp.com",
        DATABASE_URL=missing,
        SENTRY_DSN=sentry_dsn,
        HEROKU_SLUG_COMMIT="slug-commit-4",
    )
    assert result.returncode != 0
    [envelope] = errors_received(1)
    assert b"no_such_database_for_sentry" in envelope
    assert b'"release":"slug-commit-4"' in envelope
    assert b'"environment":"staging"' in envelope


def test_every_category_sentry_collects_is_off():
    from sentry_sdk.data_collection import _resolve_data_collection

    resolved = _resolve_data_collection({"data_collection": error_reports.NOTHING_PERSONAL})

    def switched_on(value: object) -> list[object]:
        if isinstance(value, dict):
            return [on for item in value.values() for on in switched_on(item)]
        return [value] if value is True or value == "denylist" else []

    assert switched_on(resolved) == []
    assert resolved["http_headers"]["request"]["terms"] == error_reports.HEADERS_SENT
