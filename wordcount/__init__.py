"""Wordcount, the example app: count the words on a web page.

Everything of the example lives in this package: its pages (``pages``) and
JSON API (``api``), which call ``counts``; the job that counts a page
(``tasks``), the table (``models``), the counter and the fetcher,
templates, the OpenAPI document, tests and benchmarks. ``create_app()``
wires it in with one call.
"""

import threading

from flask import Flask

from config import Environment
from extensions import csrf, jobs
from wordcount import api, pages
from wordcount.tasks import sweep


def init_app(app: Flask) -> None:
    """Read the example's settings, register its blueprints, and have the
    worker sweep for counts that no job will finish."""
    load_settings(app)
    waiting = app.config["WORDCOUNT_WAITING_REQUESTS"]
    app.extensions["wordcount_waiting"] = threading.BoundedSemaphore(waiting)
    app.register_blueprint(pages.bp)
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)
    jobs.add_maintenance_task(app, sweep)


def load_settings(app: Flask) -> None:
    """The WORDCOUNT_* settings, read like every setting (config.py). Local
    pages can be counted in development with OUTBOUND_ALLOW_LOOPBACK."""
    env: Environment = app.config["ENVIRONMENT"]
    app.config.update(
        WORDCOUNT_FETCH_TIMEOUT=env.number("WORDCOUNT_FETCH_TIMEOUT", 10.0, above=0),
        WORDCOUNT_MAX_BYTES=env.integer("WORDCOUNT_MAX_BYTES", 5_000_000, 1),
        # A count's job is stopped after this long (then retried, then
        # failed); a count still unfinished this long after it was accepted
        # fails.
        WORDCOUNT_JOB_TIMEOUT=env.integer("WORDCOUNT_JOB_TIMEOUT", 60, 1),
        WORDCOUNT_COUNT_DEADLINE=env.integer("WORDCOUNT_COUNT_DEADLINE", 600, 1),
        # The longest a client's "Prefer: wait=N" may hold a request
        # (Heroku's router gives up at 30 seconds).
        WORDCOUNT_MAX_WAIT=env.integer("WORDCOUNT_MAX_WAIT", 20, 0),
        # How many requests of one web process may wait on a count at once:
        # half its threads, so that the other half always serves everyone
        # else (past the bound a POST answers 202 at once, as RFC 7240 allows).
        WORDCOUNT_WAITING_REQUESTS=env.integer(
            "WORDCOUNT_WAITING_REQUESTS", app.config["GUNICORN_THREADS"] // 2, 0
        ),
    )
