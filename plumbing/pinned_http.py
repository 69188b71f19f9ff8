"""The low end of outbound HTTP (plumbing/outbound.py): a wall-clock
deadline that cuts every connection of a fetch, a DNS look-up with a time
limit, and urllib3 connection pools that connect to an address chosen in
advance (so a second DNS answer cannot point the request elsewhere)."""

import contextlib
import os
import socket
import threading
import time
from types import TracebackType
from typing import Any

from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection


class Deadline:
    """A wall-clock limit for a whole fetch: DNS, connect, TLS, status line,
    headers, body, every redirect hop.

    Socket timeouts bound each read, not their sum: a server that sends a
    byte a second never trips them. So when the time is up, a timer shuts
    down every connection the fetch opened, and whatever read is blocked on
    one returns at once; ``expired`` then tells the caller why.
    """

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        # Duplicates of the connections' sockets: shutdown() through one
        # reaches the connection, even once TLS has wrapped the original,
        # and the descriptor cannot be reused by another socket meanwhile.
        self._sockets: list[socket.socket] = []
        self._opened: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "Deadline":
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            # An original that an error left open: urllib3 drops a response
            # whose headers it refused without closing its file object, which
            # keeps the socket open however often it is closed. Take its
            # descriptor back and close that.
            for sock in self._opened:
                if sock.fileno() != -1:
                    os.close(sock.detach())
            self._sockets.clear()
            self._opened.clear()

    def remaining(self) -> float:
        """Seconds left; raises TimeoutError when there are none."""
        remaining = self.at - time.monotonic()
        if remaining <= 0 or self.expired:
            raise TimeoutError("the deadline has passed")
        return remaining

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._opened.append(sock)
            self._sockets.append(sock.dup())
            if self.expired:
                _shut_down(self._sockets[-1])

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut_down(sock)


def _shut_down(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the server
        sock.shutdown(socket.SHUT_RDWR)


def getaddrinfo_within(timeout: float, host: str, port: int) -> list[Any]:
    """socket.getaddrinfo, given up after ``timeout`` seconds (TimeoutError):
    it takes no timeout of its own, so it runs in a thread of its own, which
    is left to end by itself (the system resolver's own time-outs bound it)."""
    answer: list[Any] = []

    def lookup() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except Exception as error:
            answer.append(error)

    thread = threading.Thread(target=lookup, name="resolve", daemon=True)
    thread.start()
    thread.join(timeout)
    if not answer:
        raise TimeoutError(f"no DNS answer for {host} within {timeout:.1f} s")
    if isinstance(answer[0], BaseException):
        raise answer[0]
    infos: list[Any] = answer[0]
    return infos


class PinnedHTTPConnection(HTTPConnection):
    """Connect to an address chosen in advance; Host, SNI and TLS still use the host name."""

    # urllib3's own arguments pass through unchanged.
    def __init__(self, *args: Any, address: str, deadline: Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pinned_address = address
        self.deadline = deadline

    def _new_conn(self) -> socket.socket:
        # urllib3's own _new_conn, but with no second DNS lookup.
        try:
            sock = create_connection(
                (self.pinned_address, self.port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except TimeoutError as error:  # the built-in one: socket.timeout
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from error
        except OSError as error:
            raise NewConnectionError(
                self, f"Failed to establish a new connection: {error}"
            ) from error
        self.deadline.watch(sock)  # before TLS: the handshake is bounded too
        return sock


class PinnedHTTPSConnection(PinnedHTTPConnection, HTTPSConnection):
    """The same over TLS: HTTPSConnection's connect() calls our _new_conn()."""


class PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = PinnedHTTPConnection


class PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = PinnedHTTPSConnection
