"""The worker process, ``python manage.py worker``: plumbing a fork never
touches (jobs are submitted with ``jobs.submit``, extensions.py). It is RQ's
``WorkerPool`` of ``HerokuWorker`` processes: jobs wait on the network, so one
dyno runs ``WORKER_CONCURRENCY`` of them at once. On SIGTERM (Heroku's restarts
and deploys) each running job gets ``HerokuWorker.imminent_shutdown_delay``
seconds, then is interrupted and re-queued by RQ's ``Retry``, well within
Heroku's 30 seconds. Each run logs its start and end (plumbing/logs.py).

Each override says the RQ 2.12.0 behaviour it works around; none has an
rq/rq issue yet (searched 2026-12-02): recheck each when upgrading RQ.
"""

import contextlib
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from functools import partial
from types import FrameType
from typing import Any

import click
from flask import current_app, has_app_context
from flask.cli import with_appcontext
from redis import Redis, RedisError
from rq import Queue
from rq.exceptions import StopRequested
from rq.job import Job
from rq.worker import HerokuWorker
from rq.worker_pool import WorkerPool
from sqlalchemy.orm import configure_mappers

from extensions import jobs
from models import db
from plumbing import stop_signals
from plumbing.jobs import logged_run

log = logging.getLogger(__name__)

# How often each worker runs RQ's maintenance (re-queueing or failing jobs
# whose worker died) and the app's maintenance tasks, in seconds.
MAINTENANCE_INTERVAL = 15
# An idle worker wakes up every WORKER_TTL - 15 seconds to heartbeat.
WORKER_TTL = 20
# A worker checks on its running job this often; RQ declares the job
# abandoned 60 seconds after the last check.
JOB_MONITORING_INTERVAL = 5


class AppWorker(HerokuWorker):
    """An RQ worker whose jobs run in the app's context, like requests do.

    Workers are forked from ``manage.py worker``, which has the app context
    pushed; each job and each maintenance round gets a fresh one, so the
    database session is removed after it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", MAINTENANCE_INTERVAL)
        kwargs.setdefault("worker_ttl", WORKER_TTL)
        kwargs.setdefault("job_monitoring_interval", JOB_MONITORING_INTERVAL)
        super().__init__(*args, **kwargs)
        # When the handling of the first stop signal ended (inf while it runs).
        self._stop_handled_at = math.inf
        self._in_maintenance = False

    def _install_signal_handlers(self) -> None:
        super()._install_signal_handlers()  # type: ignore[no-untyped-call]  # unannotated in RQ
        # AppWorkerPool forks its workers with the stop signals held, so that
        # one sent in between waits for RQ's handlers: now they are in place.
        with contextlib.suppress(StopRequested):  # one was waiting: see _shutdown
            stop_signals.release()

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stop_handled_at = math.inf
        try:
            super().request_stop(signum, frame)  # type: ignore[no-untyped-call]  # unannotated in RQ
        finally:
            self._stop_handled_at = time.monotonic()

    def request_force_stop(self, signum: int, frame: FrameType | None) -> None:
        # Heroku's SIGTERM reaches every process of the dyno, and the pool
        # sends each worker a SIGINT too. RQ takes a second signal within a
        # second of the first for such a duplicate, but counts from the start
        # of the first one's handling, which waits for the scheduler process
        # to exit: when that takes longer, the duplicate became a cold
        # shutdown, which SIGKILLs the running job instead of re-queueing it.
        # Count from the end of that handling instead.
        if time.monotonic() - self._stop_handled_at < 1:
            self.log.debug("Worker %s: duplicate stop signal ignored", self.name)
            return
        super().request_force_stop(signum, frame)

    def request_stop_sigrtmin(self, signum: int, frame: FrameType | None) -> None:
        # In the work horse. RQ arms SIGALRM to interrupt the job a few
        # seconds later, but the job's own timeout (UnixSignalDeathPenalty)
        # also uses SIGALRM: a SIGTERM that lands while the job starts has
        # its alarm replaced by the job's timeout, and the job runs on while
        # the dyno waits for it. A timer thread that sends SIGRTMIN again
        # (RQ's handler for it is now the interruption) shares nothing.
        self.log.warning(
            "Imminent shutdown: interrupting the job in %d seconds", self.imminent_shutdown_delay
        )
        signal.signal(signal.SIGRTMIN, self.request_force_stop_sigrtmin)
        timer = threading.Timer(
            self.imminent_shutdown_delay, os.kill, (os.getpid(), signal.SIGRTMIN)
        )
        timer.daemon = True
        timer.start()

    def _shutdown(self) -> None:
        # RQ's signal handler raises StopRequested when no job runs, from
        # wherever the main thread is. Recorded here, the work loop stops at
        # its next check even if something swallows the exception (a
        # logging handler does).
        self._stop_requested = True
        if self._in_maintenance:
            # Raised inside a maintenance task, it would interrupt a query
            # half-sent, and the pool's ROLLBACK of that connection then
            # fails ("another command is already in progress"). The round
            # is short: let it end; the work loop stops right after it.
            if self.scheduler:
                self.stop_scheduler()  # type: ignore[no-untyped-call]  # unannotated in RQ
            return
        super()._shutdown()  # type: ignore[no-untyped-call]  # unannotated in RQ

    def subscribe(self) -> None:
        # RQ's pub/sub thread starts with the stop signals held, so the
        # kernel delivers them to the main thread, which acts on them at
        # once. Delivered to the pub/sub thread, they would wait until the
        # main thread's read from Redis timed out.
        with stop_signals.held():
            super().subscribe()  # type: ignore[no-untyped-call]  # unannotated in RQ

    def perform_job(self, job: Job, queue: Queue) -> bool:
        with current_app.app_context(), logged_run(job) as run:
            return run.finished(super().perform_job(job, queue))

    def run_maintenance_tasks(self) -> None:
        if self._stop_requested:  # stopping: leave maintenance to the other workers
            return
        self._in_maintenance = True
        try:
            with current_app.app_context():  # RQ's first: its failure callbacks use the app
                super().run_maintenance_tasks()  # type: ignore[no-untyped-call]  # unannotated in RQ
            for task in jobs.maintenance_tasks():
                with current_app.app_context():
                    self.run_maintenance_task(task)
        finally:
            self._in_maintenance = False

    def run_maintenance_task(self, task: Callable[[], object]) -> None:
        try:
            task()
        except Exception:  # one failed round must not stop the worker
            self.log.exception("Maintenance task %s failed", task.__qualname__)


class AppWorkerPool(WorkerPool):
    """RQ's pool of ``AppWorker`` processes, safe to stop while it starts."""

    def start_workers(self, *args: Any, **kwargs: Any) -> None:
        # RQ installs the pool's SIGTERM handler only after forking every
        # worker: a SIGTERM in between (a restart during boot) killed the
        # pool and orphaned the workers. Hold the signals until the handler
        # is in place. Workers inherit the held signals and let them in once
        # their own handlers are set.
        with stop_signals.held():
            super().start_workers(*args, **kwargs)
            self._install_signal_handlers()  # type: ignore[no-untyped-call]  # unannotated in RQ


def wait_for_redis(connection: Redis, seconds: float) -> None:
    """Return once Redis answers, or fail in one line after ``seconds``.

    A worker dyno can start before Redis answers (both restarted, a
    maintenance). Started regardless, RQ's pool would restart its crashing
    workers in a loop, a traceback each; this waits instead, then exits,
    and Heroku starts the dyno again later. A worker already running rides
    out an outage: RQ retries its connection."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            connection.ping()
            return
        except RedisError as error:
            if time.monotonic() >= deadline:
                raise click.ClickException(
                    f"Redis did not answer within {seconds:g} s: {error}"
                ) from None
            log.warning("Waiting for Redis: %s", error)
            time.sleep(1)


def release_stop_signals_below(pool_pid: int) -> None:
    """After a fork below the pool's workers (a worker's scheduler, its work
    horses): let in the stop signals, which the worker may still hold."""
    if os.getppid() != pool_pid:
        stop_signals.release()


def forget_inherited_connections() -> None:
    """After a fork, drop the parent's pooled database connections without
    closing them: they belong to the parent (SQLAlchemy's advice for
    multiprocessing)."""
    if not has_app_context():
        return
    for engine in db.engines.values():
        engine.dispose(close=False)


@click.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes (default: WORKER_CONCURRENCY).",
)
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
@click.option(
    "--wait-for-redis",
    "redis_wait",
    type=click.FloatRange(0),
    default=30,
    show_default=True,
    help="Seconds to wait for Redis to answer at start before giving up.",
)
@with_appcontext
def worker_command(concurrency: int | None, burst: bool, redis_wait: float) -> None:
    """Run the background job worker (the Procfile's worker process)."""
    if not jobs.enabled:
        raise click.UsageError(
            "REDIS_URL is not set: the worker needs Redis. Without it, "
            "the web process runs jobs inline and no worker is needed."
        )
    wait_for_redis(jobs.connection, redis_wait)
    os.register_at_fork(after_in_child=forget_inherited_connections)
    os.register_at_fork(after_in_child=partial(release_stop_signals_below, os.getpid()))
    # The models set up once, before forking, not in each process on first use.
    configure_mappers()
    pool = AppWorkerPool(
        [current_app.config["JOBS_QUEUE"]],
        connection=jobs.connection,
        num_workers=concurrency or current_app.config["WORKER_CONCURRENCY"],
        worker_class=AppWorker,
    )
    pool.start(burst=burst)
