"""How a job runs without Redis (jobs.submit, inline): as a worker would
run it, as far as a web request can (docs/jobs.md says where it cannot)."""

import contextvars
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flask import Flask, after_this_request, current_app
from flask.testing import FlaskClient
from werkzeug.wrappers import Response

from models import db
from plumbing import error_reports, logs, traces

if TYPE_CHECKING:
    from rq import Retry

log = logging.getLogger("plumbing.jobs")

FailureHandler = Callable[..., None]


def run_inline(
    func: Callable[..., object],
    args: tuple[object, ...],
    timeout: float,
    retry: "Retry | None",
    on_failure: FailureHandler | None,
    trace: dict[str, str],
) -> None:
    """Run ``func(*args)`` as a worker would: each attempt in a thread with
    an app context of its own, stopped after ``timeout`` seconds; then the
    retries (at once: a request cannot sit out their intervals); then
    ``on_failure``. Each run is a span of ``trace`` (the submitter's trace
    context, plumbing/traces.py). A run stopped mid-call is not tried again while its
    thread still runs (it stops at the next line of Python it reaches)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's proxy
    job_id = f"inline-{uuid.uuid4().hex[:16]}"  # one id for every attempt, as in RQ
    for attempt in range(1 + (retry.max if retry else 0)):
        job = (job_id, attempt + 1, trace)
        error, still_running = run_attempt(app, func, args, timeout, job)
        if error is None:
            return
        # Not the arguments: a job's may hold an address or a mailed token.
        log.error("Job %s failed (attempt %d): %r", qualified_name(func), attempt + 1, error)
        if still_running:
            break
    db.session.rollback()  # whatever the request's session holds
    if on_failure is not None:
        on_failure(*args, error=error)


def run_after_response(run: Callable[[], None]) -> None:
    """``run()`` (a ``run_inline`` call), once the WSGI server has sent the
    response and closes it (Werkzeug's call_on_close), with an app context
    of its own: the request's is gone by then."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's proxy

    def run_in_app() -> None:
        with app.app_context():
            run()

    @after_this_request
    def on_close(response: Response) -> Response:
        response.call_on_close(run_in_app)
        return response


def run_attempt(
    app: Flask,
    func: Callable[..., object],
    args: tuple[object, ...],
    timeout: float,
    job: tuple[str, int, dict[str, str]],  # its id, the attempt, the trace context
) -> tuple[BaseException | None, bool]:
    """One run, and whether its thread still runs after the timeout; logged
    and traced as a worker's run is (the job's id and attempt, the request's
    id, the request's trace)."""
    from rq.timeouts import JobTimeoutException, TimerDeathPenalty

    outcome: list[BaseException | None] = []

    def attempt() -> None:
        with observed_run(app, qualified_name(func), job) as run:
            try:
                # RQ's own way to stop a job in a thread: JobTimeoutException
                # raised in it, at its next line of Python, after ``timeout``.
                with TimerDeathPenalty(timeout, JobTimeoutException):  # type: ignore[no-untyped-call]
                    func(*args)
                outcome.append(None)
                run.finished(True)
            except BaseException as error:  # what a worker catches too
                db.session.rollback()  # whatever the failed run left open
                outcome.append(error)
                error_reports.report(error)

    # A thread starts with no context: it runs in a copy of the request's,
    # whose log fields (the request's id) its lines then carry.
    context = contextvars.copy_context()
    thread = threading.Thread(
        target=context.run, args=(attempt,), name=f"job {qualified_name(func)}", daemon=True
    )
    thread.start()
    thread.join(timeout)
    if outcome:
        return outcome[0], False
    message = f"Task exceeded maximum timeout value ({timeout} seconds)"
    return JobTimeoutException(message), thread.is_alive()


@contextmanager
def observed_run(
    app: Flask, name: str, job: tuple[str, int, dict[str, str]]
) -> Iterator[logs.Timings]:
    """An app context for one run, logged and traced as a worker's run is."""
    job_id, number, trace = job
    request = logs.current_request_id()
    with (
        app.app_context(),
        logs.job_logged(name, job_id, number, request) as run,
        traces.job_span(name, job_id, number, trace, run),
    ):
        yield run


def qualified_name(func: Callable[..., object]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


class ClosingClient(FlaskClient):
    """Every app's test client (jobs.init_app): it closes each response as a
    WSGI server does once it has sent it (Werkzeug's client leaves an
    unbuffered response open), so what runs on close runs in tests too
    (``jobs.submit(..., after_response=True)``)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)
