"""Jobs and an app for the worker tests: what a job sees, and how long it runs."""

import time
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import text

from extensions import jobs
from models import db
from plumbing.worker import worker_command
from web import create_app

MAINTENANCE_KEY = "job-probe:maintenance-runs"


def app_and_database() -> dict:
    """Runs in a worker: the app's name, and one query through its database."""
    return {"app": current_app.name, "database": db.session.scalar(text("SELECT 1"))}


def touch(path: str) -> None:
    """Leave a file that the test sees, whichever process ran the job."""
    with open(path, "x"):
        pass


def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


# What record_failure was handed, in this process.
FAILURES: list[tuple[tuple[object, ...], BaseException]] = []


def fail(message: str) -> None:
    raise RuntimeError(message)


def record_failure(*args: object, error: BaseException) -> None:
    """A failure handler (``jobs.submit``'s on_failure)."""
    FAILURES.append((args, error))


def count_maintenance_run() -> None:
    jobs.connection.incr(MAINTENANCE_KEY)


def app_with_maintenance_task() -> Flask:
    """The app, plus a maintenance task that counts its runs in Redis, and
    manage.py's worker command."""
    app = create_app()
    app.cli.add_command(worker_command)
    jobs.add_maintenance_task(app, count_maintenance_run)
    return app


# --- The promises of docs/jobs.md: each job leaves its traces in files, which
# the test reads whichever process ran it.


def spin_then_mark(path: str, seconds: float) -> None:
    """Busy for ``seconds`` (Python all along), then leave ``path``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    Path(path).write_text("finished")


def fail_until(path: str, failures: int) -> None:
    """Fail the first ``failures`` runs; each run is a line of ``path``, and
    a run that succeeds leaves ``path + ".ok"``."""
    runs = Path(path)
    before = len(runs.read_text().splitlines()) if runs.exists() else 0
    with runs.open("a") as lines:
        lines.write(f"run {before + 1}\n")
    if before < failures:
        raise RuntimeError(f"run {before + 1} fails")
    Path(path + ".ok").write_text(current_app.name)


def note_failure(path: str, *args: object, error: BaseException) -> None:
    """An on_failure handler: one line per call in ``path + ".failures"``."""
    with Path(path + ".failures").open("a") as lines:
        lines.write(f"{type(error).__name__}\n")


def runs_of(path: str) -> int:
    return len(Path(path).read_text().splitlines()) if Path(path).exists() else 0


def failures_of(path: str) -> list[str]:
    noted = Path(path + ".failures")
    return noted.read_text().splitlines() if noted.exists() else []


def fetch_and_query(url: str) -> int:
    """A job with an outbound call and one SQL statement: the parts of a trace."""
    import outbound

    size = len(outbound.fetch(url).body)
    db.session.execute(text("SELECT 1"))
    return size
