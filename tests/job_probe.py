"""Jobs and an app for the worker tests: what a job sees, and how long it runs."""

import time

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
