"""gunicorn settings, read automatically by ``gunicorn wsgi:app``.

Tuned for a Heroku dyno: bind $PORT, log to stdout, finish in-flight
requests on SIGTERM before Heroku's SIGKILL 30 seconds later.
"""

import os
import signal

from config import ConfigError, Environment
from gunicorn_worker import RequestDeadlineWorker

env = Environment(os.environ)
try:
    bind = f"0.0.0.0:{env.integer('PORT', 8000, minimum=1)}"
    # Threads, because web apps wait on other servers: a slow call then
    # holds one thread, not a whole worker process.
    # gthread, with a deadline for each request to arrive (gunicorn_worker.py).
    worker_class = "gunicorn_worker.RequestDeadlineWorker"
    workers = env.integer("WEB_CONCURRENCY", 2, minimum=1)
    threads = env.integer("GUNICORN_THREADS", 4, minimum=1)
    request_timeout = env.number("GUNICORN_REQUEST_TIMEOUT", 10.0)
    if not request_timeout > 0:
        raise ConfigError(f"GUNICORN_REQUEST_TIMEOUT must be above 0, not {request_timeout:g}")
    RequestDeadlineWorker.request_timeout = request_timeout
except ConfigError as error:
    raise SystemExit(f"Error: {error}") from None

# Import the app once in the master: workers fork with it loaded (faster
# boot, shared memory) and a configuration error stops the start at once.
preload_app = True

timeout = 30
graceful_timeout = 25
keepalive = 5

accesslog = "-"
errorlog = "-"
# Heroku's router gives each request an X-Request-ID: log it to trace requests.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}i)s'


# gunicorn loses a stop signal that reaches a worker between its fork and the
# moment it installs its own handlers (benoitc/gunicorn#1910): the master's
# handler, inherited, queues the signal where no one reads it, and the dyno then
# takes graceful_timeout to stop. Heroku's SIGTERM goes to every process at
# once, so a worker that exits on it may be replaced just before the master
# stops, and the replacement is in that window. So the master holds the stop
# signals while it forks, and each worker lets them in once its handlers are
# in place: a held SIGTERM is then delivered, and the worker exits at once.
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGQUIT}


def on_starting(server: object) -> None:
    os.register_at_fork(
        after_in_parent=lambda: signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    )


def pre_fork(server: object, worker: object) -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def post_worker_init(worker: object) -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
