"""Background jobs: ``jobs.submit(func, *args)``, on RQ and Redis.

``jobs`` is an extension object like ``db``: created in extensions.py,
bound with ``init_app``. With ``REDIS_URL`` set, ``submit`` queues the call
for the worker process (``python manage.py worker``; plumbing/worker.py).
Without it (a laptop on SQLite) it runs the call at once, before it
returns, with what a worker gives (docs/jobs.md): an app context of its own,
the timeout, the retries, ``on_failure`` once no retry is left, the session
rolled back after a failure; what the call raises is never raised into the
request. Nothing else needs Redis to start.

A job is a function of the app's own (RQ imports it by name in the worker)
taking JSON-like arguments.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, has_request_context

from errors import JobsUnavailable
from models import db
from plumbing import logs, traces
from plumbing.inline_jobs import (
    ClosingClient,
    FailureHandler,
    qualified_name,
    run_after_response,
    run_inline,
)

# RQ and redis-py are imported where they are used: a web process without
# REDIS_URL never needs them, and importing them (asyncio included) would
# make every start-up a third slower (measured with python -X importtime).
if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue, Retry
    from rq.job import Job

log = logging.getLogger(__name__)

# RQ's own default when a job names no timeout (rq.defaults.DEFAULT_JOB_TIMEOUT).
DEFAULT_TIMEOUT = 180

Task = Callable[[], object]


@dataclass
class JobsState:
    """What ``init_app`` keeps for one app in ``app.extensions["jobs"]``."""

    redis: "Redis | None"
    queue_name: str
    maintenance: list[Task] = field(default_factory=list)


class Jobs:
    """The job queue of the current app."""

    def init_app(self, app: Flask) -> None:
        url = app.config["REDIS_URL"]
        if not url and app.config["ENV_NAME"] in ("staging", "production"):
            app.logger.warning(
                "REDIS_URL is not set: jobs run inline, in the web request that submits them "
                "(add Redis and a worker dyno: docs/heroku.md)"
            )
        if app.test_client_class is None:  # a production-configured app's tests too
            app.test_client_class = ClosingClient
        app.extensions["jobs"] = JobsState(
            redis=redis_connection(url, app.config["REDIS_VERIFY_TLS"]) if url else None,
            queue_name=app.config["JOBS_QUEUE"],
        )

    def submit(
        self,
        func: Callable[..., object],
        *args: object,
        job_id: str | None = None,
        timeout: int | None = None,
        retry: "Retry | None" = None,
        on_failure: FailureHandler | None = None,
        after_response: bool = False,
    ) -> bool:
        """Queue ``func(*args)`` for a worker, or run it now without Redis.

        ``timeout`` (seconds, RQ's 180 by default) stops a run; ``retry``
        runs it again after a failure; ``on_failure(*args, error=...)``
        then records the failure. True when the call ran here and has
        finished; False when it waits in the queue. When Redis refuses,
        hangs or drops the connection it raises JobsUnavailable (errors.py)
        within two seconds.

        ``after_response``: without Redis, run the call once the response
        has gone to the client (WSGI's close), not before it: how long the
        call takes (a slow mail server, say) then shows in no response."""
        if self._state.redis is None:
            timeout = timeout or DEFAULT_TIMEOUT
            run = partial(run_inline, func, args, timeout, retry, on_failure, traces.job_context())
            if after_response and has_request_context():
                run_after_response(run)
                return False
            run()
            return True
        from redis import RedisError

        try:
            self._enqueue(func, args, job_id, timeout, retry, on_failure)
        except RedisError as error:
            log.warning("Could not queue %s: %s", qualified_name(func), error)
            raise JobsUnavailable(str(error)) from error
        return False

    def _enqueue(
        self,
        func: Callable[..., object],
        args: tuple[object, ...],
        job_id: str | None,
        timeout: int | None,
        retry: "Retry | None",
        on_failure: FailureHandler | None,
    ) -> None:
        from rq import Callback

        self.queue().enqueue(
            func,
            *args,
            job_id=job_id,
            job_timeout=timeout,
            # What RQ's worker logs of the job: its name, never its arguments,
            # which may hold an address or a mailed token (RQ's default).
            description=qualified_name(func),
            retry=retry,
            on_failure=Callback(failure_callback) if on_failure else None,
            meta={
                # The request's id: the job's log lines carry it, retries too.
                "request_id": logs.current_request_id(),
                # RQ keeps only the retries left: the attempt is counted from this.
                "retries": retry.max if retry else 0,
                **({"on_failure": qualified_name(on_failure)} if on_failure else {}),
                # The request's trace, which the job's run joins (plumbing/traces.py).
                **({"trace": trace} if (trace := traces.job_context()) else {}),
            },
            # The app stores outcomes; Redis needs a job only while it runs.
            result_ttl=60,
            failure_ttl=24 * 3600,
        )

    def fetch_many(self, job_ids: list[str]) -> "list[Job | None]":
        """The jobs with these ids; None for each that Redis no longer has."""
        from rq.job import Job

        return Job.fetch_many(job_ids, connection=self.connection)

    def add_maintenance_task(self, app: Flask, task: Task) -> None:
        """Run ``task`` (in an app context) every few seconds in one of the
        workers: for sweeps that repair what a lost job left behind."""
        app.extensions["jobs"].maintenance.append(task)

    def maintenance_tasks(self) -> list[Task]:
        return list(self._state.maintenance)

    @property
    def enabled(self) -> bool:
        """True when REDIS_URL is set: work goes to the queue, not inline."""
        return self._state.redis is not None

    @property
    def connection(self) -> "Redis":
        if self._state.redis is None:
            raise RuntimeError("REDIS_URL is not set: check jobs.enabled first")
        return self._state.redis

    def queue(self) -> "Queue":
        from rq import Queue

        return Queue(self._state.queue_name, connection=self.connection)

    @property
    def _state(self) -> JobsState:
        state: JobsState = current_app.extensions["jobs"]
        return state


def failure_callback(
    job: "Job",
    connection: "Redis",
    exc_type: type[BaseException] | None,
    exc_value: BaseException | None,
    traceback: TracebackType | None,
) -> None:
    """RQ's failure callback for every job submitted with ``on_failure``:
    hands the failure to it once RQ will not run the job again."""
    if job.retries_left:
        return
    from rq.utils import import_attribute

    handler: FailureHandler = import_attribute(job.meta["on_failure"])
    if exc_value is None:
        exc_value = exc_type() if exc_type is not None else RuntimeError("the job failed")
    db.session.rollback()  # whatever the failed run left open
    handler(*job.args, error=exc_value)


def redis_connection(url: str, verify_tls: bool) -> "Redis":
    from redis.backoff import NoBackoff
    from redis.retry import Retry as ConnectionRetry

    options: dict[str, Any] = {
        # A web request learns within two seconds that Redis is away (refused,
        # hung or dropped): each step half a second, and one more try on a
        # new connection, which also replaces one Redis closed while idle.
        # The worker's RQ raises socket_timeout above its blocking waits.
        "socket_connect_timeout": 0.5,
        "socket_timeout": 0.5,
        "retry": ConnectionRetry(NoBackoff(), 1),
    }
    if url.startswith("rediss://") and not verify_tls:
        # Heroku Key-Value Store presents a self-signed certificate: the
        # traffic is encrypted, but the server cannot be verified.
        options["ssl_cert_reqs"] = "none"
    from redis import Redis

    return Redis.from_url(url, **options)


@contextmanager
def logged_run(job: "Job") -> "Iterator[logs.Timings]":
    """A worker's run of ``job``, logged and traced as an inline run is."""
    name, attempt = str(job.func_name), attempt_of(job)
    try:
        with (
            logs.job_logged(name, job.id, attempt, job.meta.get("request_id")) as run,
            traces.job_span(name, job.id, attempt, job.meta.get("trace", {}), run),
        ):
            yield run
    finally:
        traces.flush()  # the work horse ends with os._exit: no exit handler sends them


def attempt_of(job: "Job") -> int:
    """1 for a job's first run, 2 for its first retry (``_enqueue``
    keeps how many retries it was given in the job's meta)."""
    return int(job.meta.get("retries", 0)) - (job.retries_left or 0) + 1
