"""Structured logs (plumbing/logs.py), each line parsed back as a log
add-on reads it: one line per request with the router's request id, the
same id on every line the request causes and on its jobs' lines, inline
and in a worker process."""

import logging
import os
import uuid

import pytest
from flask import current_app
from rq import Retry
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from structlog.contextvars import bind_contextvars, clear_contextvars

from extensions import jobs
from models import db
from plumbing.log_format import configure, log
from plumbing.logs import LoggedBody, RequestLog, new_request_id
from tests import job_probe
from tests.support.log_lines import events, file_events, lines
from tests.support.processes import wait_until


def test_a_request_logs_one_line_with_the_routers_request_id(app, capsys):
    # A new connection's first request also counts SQLAlchemy's questions
    # to the server (its version...): the line of the second.
    app.test_client().get("/healthz")
    capsys.readouterr()
    response = app.test_client().get(
        "/healthz?token=not-logged", headers={"X-Request-ID": "router-1"}
    )
    [line] = events(capsys.readouterr().err, "request")
    assert response.headers["X-Request-ID"] == "router-1"
    assert {key: line[key] for key in ("at", "request_id", "method", "path", "status")} == {
        "at": "info",
        "request_id": "router-1",
        "method": "GET",
        "path": "/healthz",
        "status": "200",
    }
    assert line["db_statements"] == "1"
    assert float(line["duration_ms"]) >= float(line["db_ms"]) >= 0
    assert "not-logged" not in str(line)


def test_a_line_stays_one_line_whatever_a_path_holds(app, capsys):
    capsys.readouterr()
    # A newline, a fake field, a carriage return, a tab, a quote, a backslash
    # and a C1 control character (WSGI paths are Latin-1).
    app.test_client().get("/a%0Aat=error%20b%0D%09%22%5C%C2%85end")
    [line] = [text for text in capsys.readouterr().err.splitlines() if "event=request" in text]
    assert r'path="/a\nat=error b\r\t\"\\Â\u0085end"' in line
    assert events(line, "request")[0]["at"] == "info"


@pytest.mark.parametrize("sent", [None, "has spaces", "x" * 129, "semi;colon"])
def test_a_request_without_a_usable_id_gets_one_of_its_own(app, capsys, sent):
    headers = {"X-Request-ID": sent} if sent else {}
    response = app.test_client().get("/healthz", headers=headers)
    logged = capsys.readouterr().err
    [line] = events(logged, "request")
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert len(response.headers["X-Request-ID"]) == 36  # a UUID
    assert sent is None or sent not in logged


def test_request_ids_made_here_are_version_4_uuids_unique_across_forked_workers():
    # gunicorn forks its workers from one process: each must make ids of its own.
    read, write = os.pipe()
    children = []
    for _ in range(2):
        if (pid := os.fork()) == 0:
            os.write(write, (new_request_id() + "\n").encode())
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    ids = [new_request_id(), *os.read(read, 1000).decode().split()]
    os.close(read)
    os.close(write)
    assert len(set(ids)) == 3
    assert all(str(uuid.UUID(id, version=4)) == id for id in ids)


@pytest.mark.parametrize("log_format", ["logfmt", "json"])
def test_the_request_line_is_the_line_the_standard_library_would_write(log_format, capsys):
    configure(log_format, "INFO")
    fields = {"method": "GET", "path": '/a b"c', "status": 200, "duration_ms": 1.5, "ok": True}
    bind_contextvars(request_id="router-5")
    try:
        log(logging.getLogger("request"), logging.INFO, "request", fields)
        fast = capsys.readouterr().err
        logging.getLogger("request").info("request", extra=fields)
        assert fast == capsys.readouterr().err
        assert fast.count("router-5") == 1
    finally:
        clear_contextvars()
        configure("logfmt", "INFO")


def test_a_request_is_logged_once_its_body_is_closed_even_when_closing_it_fails(capsys):
    class Body(list[bytes]):
        def close(self) -> None:
            raise OSError("the client went away")

    def app(environ, start_response):
        start_response("200 OK", [])
        return Body([b"hello"])

    configure("logfmt", "INFO")

    def start_response(status, headers, exc_info=None):
        return lambda data: None

    body = RequestLog(app, slow_ms=10_000)(
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/streamed"}, start_response
    )
    assert isinstance(body, LoggedBody)
    assert list(body) == [b"hello"]
    assert events(capsys.readouterr().err, "request") == []  # not sent yet
    with pytest.raises(OSError, match="went away"):
        body.close()
    [line] = events(capsys.readouterr().err, "request")
    assert (line["path"], line["status"]) == ("/streamed", "200")


def test_the_request_line_reaches_any_other_handler_as_a_record(app, caplog):
    with caplog.at_level(logging.INFO, logger="request"):
        app.test_client().get("/healthz", headers={"X-Request-ID": "router-6"})
    [record] = [record for record in caplog.records if record.name == "request"]
    assert (record.getMessage(), record.path, record.status) == ("request", "/healthz", 200)


def test_every_line_a_request_causes_carries_its_id_and_no_line_after_it(app, capsys):
    def note():
        current_app.logger.warning("noted")
        return "ok"

    app.add_url_rule("/note", "note", note)
    app.test_client().get("/note", headers={"X-Request-ID": "router-2"})
    app.logger.warning("after")
    logged = lines(capsys.readouterr().err)
    assert [(line["event"], line.get("request_id")) for line in logged] == [
        ("noted", "router-2"),
        ("request", "router-2"),
        ("after", None),
    ]


def test_an_error_is_one_line_with_its_traceback_and_the_request_id(app, capsys):
    def boom():
        raise RuntimeError("the view broke")

    app.add_url_rule("/boom", "boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as outside tests: a 500 page
    response = app.test_client().get("/boom", headers={"X-Request-ID": "router-3"})
    error, request = lines(capsys.readouterr().err)
    assert response.status_code == 500
    assert (error["at"], error["request_id"]) == ("error", "router-3")
    assert "RuntimeError: the view broke" in error["exception"]
    assert (request["event"], request["status"]) == ("request", "500")


@pytest.mark.parametrize("app_settings", [{"LOG_FORMAT": "json"}])
def test_json_lines_on_request(app, capsys):
    app.test_client().get("/healthz")  # its new connection's own statements
    capsys.readouterr()
    app.test_client().get("/healthz", headers={"X-Request-ID": "router-4"})
    out = capsys.readouterr().err
    assert out.startswith("{")
    [line] = events(out, "request")
    assert (line["request_id"], line["status"], line["db_statements"]) == ("router-4", 200, 1)


def test_a_statement_that_fails_is_counted_too(app, capsys):
    def query_no_table() -> str:
        try:
            db.session.execute(text("SELECT * FROM no_such_table"))
        except DBAPIError:
            db.session.rollback()
        return "failed"

    app.add_url_rule("/no-table", "no_table", query_no_table)
    app.test_client().get("/healthz")  # a new connection's questions: not this line's
    capsys.readouterr()
    app.test_client().get("/no-table")
    [failed] = events(capsys.readouterr().err, "request")
    assert failed["db_statements"] == "1"


@pytest.mark.parametrize("app_settings", [{"LOG_SLOW_REQUEST_MS": "0.001"}])
def test_a_slow_request_names_its_slowest_statements_without_their_values(app, capsys):
    query = text("SELECT :needle AS found")
    app.add_url_rule(
        "/slow",
        "slow",
        lambda: {"found": db.session.execute(query, {"needle": "a-value"}).one()[0]},
    )
    app.test_client().get("/slow")
    [warning] = events(capsys.readouterr().err, "slow request")
    assert warning["at"] == "warning"
    assert "SELECT" in str(warning["slowest_sql"]) and "a-value" not in str(warning)


def submit_failing_once(app, path: str, headers: dict[str, str]) -> None:
    """A request that submits a job whose first run fails and whose one
    retry succeeds (``path``: its argument)."""
    app.add_url_rule(
        "/submit",
        "submit",
        lambda: {"ran": jobs.submit(job_probe.fail_until, path, 1, retry=Retry(max=1))},
        methods=["POST"],
    )
    app.test_client().post("/submit", headers=headers)


def test_a_jobs_lines_carry_its_id_its_attempt_and_the_request_that_submitted_it(
    jobs_app, capsys, tmp_path
):
    submit_failing_once(jobs_app, str(tmp_path / "flaky"), {"X-Request-ID": "router-5"})
    worker_log = tmp_path / "worker.log"  # the worker's output, when there is one

    inline: list[dict] = []

    def ended() -> list[dict]:
        inline.extend(events(capsys.readouterr().err, "job ended"))
        return inline + file_events(worker_log, "job ended")

    wait_until(lambda: len(ended()) == 2, timeout=20, what="both runs")
    seen = ended()
    assert [(line["attempt"], line["outcome"]) for line in seen] == [("1", "failed"), ("2", "done")]
    assert {line["request_id"] for line in seen} == {"router-5"}
    assert len({line["job_id"] for line in seen}) == 1
    assert seen[0]["job"] == "tests.job_probe.fail_until"


def test_a_jobs_arguments_are_never_logged(jobs_app, capsys, tmp_path):
    # An argument a job may be given: an address, a mailed token.
    submit_failing_once(jobs_app, str(tmp_path / "argument-never-logged"), {})
    worker_log = tmp_path / "worker.log"  # the worker's output, when there is one
    output: list[str] = []

    def ended() -> int:
        output.append(capsys.readouterr().err)
        written = worker_log.read_text() if worker_log.exists() else ""
        return len(events("".join(output) + written, "job ended"))

    wait_until(lambda: ended() == 2, timeout=20, what="both runs")
    written = worker_log.read_text() if worker_log.exists() else ""
    assert "argument-never-logged" not in "".join(output) + written
