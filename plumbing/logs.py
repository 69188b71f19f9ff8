"""What is logged, and with which fields (plumbing/log_format.py says how a
line looks). ``RequestLog`` writes one ``request`` line per request, once the
response is sent, with its time in SQL, and binds the fields every line the
request causes carries: ``request_id`` (Heroku's X-Request-ID, or one made here
and sent back) and, once a log-in is known, ``user_id``. ``job_logged`` does the same
for a job's run. A slow request or job also logs a warning naming its slowest
SQL statements (their text: values are parameters, never logged).
"""

import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from plumbing import log_format

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# structlog is imported where it is used, by the first app built, not by
# ``import web``: its import (asyncio included) is a tenth of the start-up.
log = logging.getLogger("request")
jobs_log = logging.getLogger("job")
# Heroku's router sends a UUID; anything else is replaced, not logged.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MAX_PATH = 200  # characters of a path in a log line
SLOWEST = 3  # statements named in a slow request's warning
# RFC 9562 5.4: version 4 in bits 48-51, the variant 0b10 in bits 64-65.
VERSION_4_MASK = ~(0xF << 76 | 0x3 << 62)
VERSION_4_BITS = 0x4 << 76 | 0x2 << 62


@dataclass
class Timings:
    """How long one request or job takes, and the database's share."""

    started: float = field(default_factory=time.perf_counter)
    db_seconds: float = 0.0
    statements: int = 0
    slowest: list[tuple[float, str]] = field(default_factory=list)
    outcome: str = "failed"  # a job's, until it says otherwise
    status: str = "500"  # a request's, once its response starts

    def add(self, seconds: float, statement: str) -> None:
        self.db_seconds += seconds
        self.statements += 1
        if len(self.slowest) < SLOWEST or seconds > self.slowest[-1][0]:
            self.slowest = sorted([*self.slowest, (seconds, statement)], reverse=True)[:SLOWEST]

    def finished(self, done: bool) -> bool:
        """Record a job's outcome; ``done`` is returned."""
        self.outcome = "done" if done else "failed"
        return done

    def fields(self) -> dict[str, object]:
        return {
            "duration_ms": round((time.perf_counter() - self.started) * 1000, 1),
            "db_ms": round(self.db_seconds * 1000, 1),
            "db_statements": self.statements,
        }


timings: ContextVar[Timings | None] = ContextVar("timings", default=None)


def init_app(app: Flask) -> None:
    """Call first in the factory: the lines of what follows are structured."""
    log_format.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])


def wrap(app: Flask) -> None:
    """Call last: the request log is the outermost middleware."""
    app.wsgi_app = RequestLog(  # type: ignore[method-assign]
        app.wsgi_app, app.config["LOG_SLOW_REQUEST_MS"]
    )


def timed(run: str) -> "Callable[..., bool]":
    """A listener for the dialect event ``run`` (plumbing/database.py
    registers it) that runs the statement itself with the dialect's method
    of the same name, timed, when a request or job is being logged; True
    tells SQLAlchemy it ran. A statement that fails is timed too."""

    def run_timed(cursor: object, statement: str, *args: Any) -> bool:
        current = timings.get()
        if current is None:
            return False  # the dialect runs it, untimed
        started = time.perf_counter()
        try:
            getattr(args[-1].dialect, run)(cursor, statement, *args)  # args[-1]: the context
        finally:
            current.add(time.perf_counter() - started, statement)
        return True

    return run_timed


def request_id(environ: "WSGIEnvironment") -> str:
    sent = environ.get("HTTP_X_REQUEST_ID", "")
    return sent if REQUEST_ID.fullmatch(sent) else new_request_id()


def new_request_id() -> str:
    """A random UUID (version 4), as Heroku's router makes. An id needs to be
    unique, not secret: the random module's generator (reseeded in every
    forked process) instead of uuid.uuid4's system call and UUID object, a
    third of this middleware's cost where no router sends an id (bench/)."""
    bits = f"{random.getrandbits(128) & VERSION_4_MASK | VERSION_4_BITS:032x}"
    return f"{bits[:8]}-{bits[8:12]}-{bits[12:16]}-{bits[16:20]}-{bits[20:]}"


class RequestLog:
    """WSGI middleware, outermost: binds the request's id (and returns it as
    X-Request-ID), then logs one ``request`` line once the response has
    been sent, for pages, static files and refusals alike."""

    def __init__(self, wsgi_app: "WSGIApplication", slow_ms: float):
        self.wsgi_app = wsgi_app
        self.slow_ms = slow_ms

    def __call__(
        self, environ: "WSGIEnvironment", start_response: "StartResponse"
    ) -> "Iterable[bytes]":
        from structlog.contextvars import bind_contextvars, clear_contextvars

        clear_contextvars()  # a thread serves many requests
        request = request_id(environ)
        bind_contextvars(request_id=request)
        current = Timings()
        timings.set(current)

        # Annotated as strings: a nested function's annotations are
        # otherwise evaluated on every request.
        def start(line: "str", headers: "list[tuple[str, str]]", exc_info: "Any" = None) -> "Any":
            current.status = line[:3]
            headers.append(("X-Request-ID", request))
            return start_response(line, headers, exc_info)

        def finish() -> "None":
            self.finish(environ, current)

        try:
            return LoggedBody(self.wsgi_app(environ, start), finish)
        except BaseException:
            finish()
            raise

    def finish(self, environ: "WSGIEnvironment", current: Timings) -> None:
        status = current.status
        fields = {
            "method": environ.get("REQUEST_METHOD", "")[:16],
            "path": environ.get("PATH_INFO", "")[:MAX_PATH],  # no query string
            "status": int(status) if status.isdigit() else status,
            **current.fields(),
        }
        log_format.log(log, logging.INFO, "request", fields)
        warn_if_slow("slow request", current, fields, self.slow_ms)
        timings.set(None)
        from structlog.contextvars import clear_contextvars

        clear_contextvars()  # what the thread logs next is not this request's


class LoggedBody:
    """The app's response body, which the server iterates itself (nothing of
    ours runs per chunk: Werkzeug's ClosingIterator calls a function for
    each), and ``finished`` once the server has closed it (PEP 3333), after
    the body's own ``close``, even when that raises."""

    __slots__ = ("body", "finished")

    def __init__(self, body: "Iterable[bytes]", finished: "Callable[[], None]") -> None:
        self.body = body
        self.finished = finished

    def __iter__(self) -> "Iterator[bytes]":
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.finished()


def warn_if_slow(what: str, current: Timings, fields: dict[str, Any], slow_ms: float) -> None:
    if fields["duration_ms"] >= slow_ms:
        slowest = [
            {"ms": round(seconds * 1000, 1), "sql": " ".join(statement.split())[:500]}
            for seconds, statement in current.slowest
        ]
        log.warning(what, extra={**fields, "slowest_sql": slowest})


@contextmanager
def job_logged(name: str, job_id: str, attempt: int, request: str | None) -> Iterator[Timings]:
    """Log a job's run: a line when it starts, one when it ends (with
    ``run.outcome``, which the block sets), every line between carrying the
    job's id and the id of the request that submitted it. Call in an app
    context (LOG_SLOW_JOB_MS)."""
    from structlog.contextvars import bind_contextvars

    bind_contextvars(job_id=job_id, **({"request_id": request} if request else {}))
    run = Timings()
    timings.set(run)
    jobs_log.info("job started", extra={"job": name, "attempt": attempt})
    try:
        yield run
    finally:
        fields = {"job": name, "attempt": attempt, "outcome": run.outcome, **run.fields()}
        level = logging.INFO if run.outcome == "done" else logging.WARNING
        jobs_log.log(level, "job ended", extra=fields)
        warn_if_slow("slow job", run, fields, current_app.config["LOG_SLOW_JOB_MS"])
        timings.set(None)


def current_request_id() -> str | None:
    """The id of the request being served, to hand to the jobs it submits."""
    from structlog.contextvars import get_contextvars

    request: str | None = get_contextvars().get("request_id")
    return request
