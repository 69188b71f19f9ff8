"""gunicorn's threaded worker, with a deadline for each request to arrive.

gunicorn bounds only the wait for a request's first byte. A client that then
sends its request line, headers or body a byte at a time (slowloris) holds a
worker thread for as long as it likes: 10 such connections held all 8
threads of a default dyno, and /healthz did not answer for over 130 s.
Heroku's router buffers request headers but not bodies, so a slow body
reaches the dyno there too.

Here every request must arrive, headers and body, within
GUNICORN_REQUEST_TIMEOUT seconds of its first byte; past that its reads
fail and gunicorn closes the connection, freeing the thread. Sending the
response is not bounded here (gunicorn's own ``timeout`` and the router's
30 seconds are).
"""

import socket
import time
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]  # gunicorn ships no types
from gunicorn.workers.gthread import (  # type: ignore[import-untyped]  # gunicorn ships no types
    TConn,
    ThreadWorker,
)


class DeadlineSocket:
    """A client socket whose reads share one deadline, set per request."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.deadline: float | None = None

    def recv(self, size: int, *flags: int) -> bytes:
        if self.deadline is None:
            return self._sock.recv(size, *flags)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in time")
        previous = self._sock.gettimeout()
        self._sock.settimeout(remaining)
        try:
            return self._sock.recv(size, *flags)
        finally:
            self._sock.settimeout(previous)

    def __getattr__(self, name: str) -> Any:
        # Everything else (send, fileno, setblocking, close...) is the socket's.
        return getattr(self._sock, name)


class RequestDeadlineWorker(ThreadWorker):  # type: ignore[misc]  # an untyped base class
    """``gthread``, with DeadlineSocket around every plain-HTTP connection."""

    # Seconds; gunicorn.conf.py sets it from GUNICORN_REQUEST_TIMEOUT.
    request_timeout: float = 10.0

    def handle(self, conn: TConn) -> Any:
        if not self.cfg.is_ssl and not isinstance(conn.sock, DeadlineSocket):
            conn.sock = DeadlineSocket(conn.sock)
        if isinstance(conn.sock, DeadlineSocket):
            conn.sock.deadline = time.monotonic() + self.request_timeout
        try:
            return super().handle(conn)
        finally:
            if isinstance(conn.sock, DeadlineSocket):
                conn.sock.deadline = None  # kept alive: idle time is keepalive's


class AppLogger(Logger):  # type: ignore[misc]  # an untyped base class
    """gunicorn's error log (start, stop, a worker's timeout) in the app's
    log format: its lines go to the process's one handler (plumbing/logs.py)
    instead of gunicorn's own. Its access log is off: the app logs each
    request itself, with its id and database time (logs.RequestLog)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.error_log.handlers = []
        self.error_log.propagate = True
        self.access_log.handlers = []
        self.access_log.propagate = False
