"""Counting as a background job, and the sweep that lets no count get stuck.

The ``results`` row is the source of truth; an RQ job only carries the work.
Who finishes a count that went wrong:

- a job that raises (a database restart, a bug): RQ's ``Retry``, with
  pauses, then ``count_failed``;
- a job past its ``job_timeout``: RQ stops it, ``Retry``, then
  ``count_failed`` ("count_timeout");
- a worker SIGTERMed mid-job: ``HerokuWorker`` interrupts the job, and
  ``Retry`` queues it again;
- a worker SIGKILLed mid-job: RQ's maintenance finds the job abandoned
  (about 80 seconds later), then ``Retry`` or ``count_failed``;
- Redis restarted or flushed, an enqueue that failed after the row was
  committed, a job that ran out of retries while the database was away:
  ``sweep``, which queues the row again or fails it ("worker_lost");
- a page the counter cannot handle: stored as failed ("count_failed") at
  once, not retried (the same page would fail the same way);
- inline (no REDIS_URL), anything else a count raises: stored as failed
  ("internal_error"), never raised into the request;
- a count past WORDCOUNT_COUNT_DEADLINE: it reads as failed ("expired")
  whether or not a worker runs (counts.py), no run may store an outcome for it
  any more, and the sweep stores the failure.
"""

import logging
from datetime import datetime, timedelta

from flask import current_app
from rq import Retry
from rq.exceptions import AbandonedJobError
from rq.job import Job, JobStatus
from rq.timeouts import JobTimeoutException
from sqlalchemy import ColumnElement, select, true, update

from errors import JobsUnavailable
from extensions import jobs
from models import db, execute_alone, transaction, utc_now
from wordcount.counting import count_page
from wordcount.fetching import FetchError, FetchLimits, fetch_page
from wordcount.models import UNFINISHED, Count, Status

log = logging.getLogger(__name__)

# RQ runs a job that raised up to this many more times, after these pauses.
RETRY = Retry(max=3, interval=[2, 10, 30])
MAX_ATTEMPTS = RETRY.max + 1
# A queued or running row that nothing touched for this long is looked at
# by the sweep (enqueueing takes milliseconds; the running job's worker is
# checked by RQ, not by us).
STALE_AFTER = timedelta(seconds=20)
ALIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
EXPIRED_MESSAGE = "The count did not finish in time. Try again."


def job_id(count_id: int) -> str:
    return f"wordcount-count-{count_id}"


def fetch_limits() -> FetchLimits:
    config = current_app.config
    return FetchLimits(
        timeout=config["WORDCOUNT_FETCH_TIMEOUT"], max_bytes=config["WORDCOUNT_MAX_BYTES"]
    )


def submit_count(count_id: int) -> bool:
    """Queue the count of a committed row, or run it now without a queue;
    True when it has run (see ``jobs.submit``)."""
    try:
        return jobs.submit(
            run_count,
            count_id,
            job_id=job_id(count_id),
            timeout=current_app.config["WORDCOUNT_JOB_TIMEOUT"],
            retry=RETRY,
            on_failure=count_failed,
        )
    except JobsUnavailable:
        # The row is committed and stays queued: the sweep enqueues it again.
        log.warning("Could not enqueue count %s; the sweep will retry", count_id, exc_info=True)
        return False


def run_count(count_id: int) -> None:
    """Fetch and count the page of row ``count_id``, once.

    Safe to run twice: a finished row is left alone, and only the run that
    holds the row as ``running`` stores its outcome.
    """
    url = claim(count_id)
    if url is None:
        return
    try:
        page = fetch_page(url, fetch_limits())
    except FetchError as error:
        finish(count_id, Status.FAILED, error_code=error.code, error_message=error.message)
        return
    try:
        page_count = count_page(page.body, page.charset)
    except Exception:  # a page the counter cannot handle: a retry would fail alike
        log.exception("Count %s: the page could not be counted", count_id)
        fail(count_id, "count_failed", "The page could not be counted.")
        return
    finish(
        count_id,
        Status.DONE,
        url=page.url,
        total_words=page_count.total_words,
        unique_words=page_count.unique_words,
        all_words=page_count.all_words,
        words=page_count.words,
    )


def claim(count_id: int) -> str | None:
    """Mark the row running and return its URL; None if it is finished.
    One statement, atomic alone: no transaction is held while the page
    downloads."""
    return execute_alone(
        update(Count)
        .where(Count.id == count_id, Count.status.in_(UNFINISHED), not_expired())
        .values(status=Status.RUNNING, attempts=Count.attempts + 1, updated_at=utc_now())
        .returning(Count.url)
    ).scalar()


def not_expired() -> ColumnElement[bool]:
    """Rows accepted less than WORDCOUNT_COUNT_DEADLINE seconds ago."""
    return Count.created_at > expired_before()


def expired_before() -> datetime:
    return utc_now() - timedelta(seconds=current_app.config["WORDCOUNT_COUNT_DEADLINE"])


def finish(count_id: int, status: Status, *, expiring: bool = False, **values: object) -> bool:
    """Store the outcome if the row is still unfinished, and not past its
    deadline (unless this is the expiry); True if stored."""
    now = utc_now()
    stored = execute_alone(
        update(Count)
        .where(Count.id == count_id, Count.status.in_(UNFINISHED))
        .where(true() if expiring else not_expired())
        .values(status=status, updated_at=now, finished_at=now, **values)
        .returning(Count.id)
    ).scalar()
    return stored is not None


def fail(count_id: int, code: str, message: str, *, expiring: bool = False) -> bool:
    return finish(
        count_id, Status.FAILED, expiring=expiring, error_code=code, error_message=message
    )


def count_failed(count_id: int, *, error: BaseException) -> None:
    """The job's failure handler (``jobs.submit``): fail the row once no
    retry is left."""
    if isinstance(error, JobTimeoutException):
        timeout = current_app.config["WORDCOUNT_JOB_TIMEOUT"]
        code, message = "count_timeout", f"Counting took longer than {timeout} seconds."
    elif isinstance(error, AbandonedJobError):
        code, message = "worker_lost", "The worker counting this page stopped. Try again."
    else:
        code, message = "internal_error", "Counting failed unexpectedly. Try again."
    fail(count_id, code, message)


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Requeue or fail the unfinished counts that no job will finish.

    A worker runs it every few seconds (``jobs.add_maintenance_task``).
    Rows are re-queued at most until MAX_ATTEMPTS; a count older than
    WORDCOUNT_COUNT_DEADLINE fails ("expired") whatever its state.
    """
    now = now or utc_now()
    deadline = now - timedelta(seconds=current_app.config["WORDCOUNT_COUNT_DEADLINE"])
    stale = execute_alone(
        select(Count.id, Count.attempts, Count.created_at, Count.updated_at)
        .where(Count.status.in_(UNFINISHED), Count.updated_at < now - STALE_AFTER)
        .order_by(Count.id)
    ).all()
    job_of = dict(zip(stale, jobs.fetch_many([job_id(row.id) for row in stale]), strict=True))
    report = {"requeued": 0, "expired": 0, "lost": 0}
    for row, job in job_of.items():
        if row.created_at < deadline:
            report["expired"] += fail(row.id, "expired", EXPIRED_MESSAGE, expiring=True)
        elif job is not None and job.get_status(refresh=False) in ALIVE:
            continue  # RQ still has it: queued, running or waiting to retry
        elif row.attempts >= MAX_ATTEMPTS:
            report["lost"] += fail(
                row.id, "worker_lost", f"Counting was interrupted {row.attempts} times. Try again."
            )
        elif requeue(row.id, row.updated_at, job):
            report["requeued"] += 1
    if any(report.values()):
        log.info("Sweep: %s", report)
    return report


def requeue(count_id: int, seen_at: datetime, job: Job | None) -> bool:
    """Queue the row's job again, unless someone touched the row since."""
    with transaction():
        touched = db.session.scalar(
            update(Count)
            .where(Count.id == count_id, Count.status.in_(UNFINISHED), Count.updated_at == seen_at)
            .values(status=Status.QUEUED, updated_at=utc_now())
            .returning(Count.id)
        )
    if touched is None:
        return False
    if job is not None:
        job.delete()  # a failed or finished job of the same id
    submit_count(count_id)
    return True
