"""gunicorn settings, read automatically by ``gunicorn wsgi:app``.

Tuned for a Heroku dyno: bind $PORT, log to stdout, finish in-flight
requests on SIGTERM before Heroku's SIGKILL 30 seconds later.
"""

import os

from config import ConfigError, load_config
from plumbing import log_format, stop_signals
from plumbing.gunicorn_worker import RequestDeadlineWorker

try:
    settings = load_config()
except ConfigError as error:
    raise SystemExit(f"Error: {error}") from None

# Dual-stack, as heroku/python-getting-started binds: [::] takes IPv6 and,
# as IPv4-mapped addresses, IPv4 too, so the app also serves where a dyno's
# network is IPv6-only.
bind = f"[::]:{settings.PORT}"
# Threads, because web apps wait on other servers: a slow call then holds
# one thread, not a whole worker process. gthread, with a deadline for each
# request to arrive (plumbing/gunicorn_worker.py).
worker_class = "plumbing.gunicorn_worker.RequestDeadlineWorker"
workers = settings.WEB_CONCURRENCY
threads = settings.GUNICORN_THREADS
RequestDeadlineWorker.request_timeout = settings.GUNICORN_REQUEST_TIMEOUT

# Import the app once in the master: workers fork with it loaded (faster
# boot, shared memory) and a configuration error stops the start at once.
preload_app = True

timeout = 30
graceful_timeout = 25
# Heroku's Router 2.0 keeps an idle connection to the dyno open for up to 90 s
# and may send the next request down it: gunicorn must not close it first,
# or that request fails. Above the router's idle time, as python-getting-
# started sets it.
keepalive = 95

# One format for every line: gunicorn's own go through the app's handler,
# and the app logs each request itself (plumbing/logs.py), with the id
# Heroku's router gives it (X-Request-ID).
logger_class = "plumbing.gunicorn_worker.AppLogger"
log_format.configure(settings.LOG_FORMAT, settings.LOG_LEVEL)  # before gunicorn's first line


# The master holds the stop signals while it forks, and each worker lets them
# in once its own handlers are in place (plumbing/stop_signals.py says why:
# benoitc/gunicorn#1910). Heroku's SIGTERM reaches every process at once, so a
# worker replaced just before the master stops is in that window.
def on_starting(server: object) -> None:
    os.register_at_fork(after_in_parent=stop_signals.release)


def pre_fork(server: object, worker: object) -> None:
    stop_signals.hold()


def post_worker_init(worker: object) -> None:
    stop_signals.release()
