"""gunicorn settings, read automatically by ``gunicorn web:app``.

Tuned for a Heroku dyno: bind $PORT, log to stdout, finish in-flight
requests on SIGTERM before Heroku's SIGKILL 30 seconds later.
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"

# Threads, because web apps wait on other servers: a slow call then holds
# one thread, not a whole worker process.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

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
