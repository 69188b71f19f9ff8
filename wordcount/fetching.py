"""Fetch a web page for counting, safely.

Only http(s); a wall-clock deadline for the whole fetch and a byte limit; at
most a few redirects; HTML bodies only. Unless private hosts are allowed, every hop's host is
resolved once, refused if any address is not public, and the connection goes
to the address that was checked, so a second DNS answer (DNS rebinding)
cannot point the request somewhere else.
"""

import contextlib
import os
import re
import socket
import threading
import time
from dataclasses import dataclass
from email.message import Message
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

from urllib3 import BaseHTTPResponse, HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, HTTPError, InvalidHeader, NewConnectionError
from urllib3.exceptions import TimeoutError as HTTPTimeoutError
from urllib3.util import Timeout
from urllib3.util.connection import create_connection

from errors import AppError
from wordcount.addresses import is_public_address
from wordcount.error_codes import FAILED, REFUSED

HTML_TYPES = ("text/html", "application/xhtml+xml")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_URL_LENGTH = 2048
CHUNK_SIZE = 64 * 1024
USER_AGENT = "Wordcount/1.0 (a Flask example app)"
# RFC 9110, 8.6: Content-Length = 1*DIGIT (ASCII digits; str.isdigit would
# also take "¹" or "٣"). A list of equal values is one value.
CONTENT_LENGTH = re.compile(r"[0-9]{1,19}")
# A refusal of a redirect's target is the page's failure, not the client's.
REDIRECT_CODES = {"invalid_url": "bad_redirect", "blocked_url": "blocked_redirect"}


class FetchError(AppError):
    """The URL or its page cannot be counted; ``code`` says why. Raised by
    a fetch, it is the count's failure (422); raised while a request is
    checked, accept() turns it into a refusal (error_codes.py)."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message, 422 if code in FAILED else REFUSED[code])


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = 10.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_private_hosts: bool = False


@dataclass(frozen=True)
class Page:
    url: str
    body: bytes
    charset: str | None


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
        """Seconds left; raises ``fetch_timeout`` when there are none."""
        remaining = self.at - time.monotonic()
        if remaining <= 0 or self.expired:
            raise timed_out()
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


def timed_out() -> FetchError:
    return FetchError("fetch_timeout", "The page took longer than the time limit.")


def normalize_url(raw: str) -> str:
    """Return ``raw`` as an absolute http(s) URL, or raise ``invalid_url``.

    A bare host such as ``example.com/page`` gets ``http://`` prepended.
    """
    # The limit applies to what was sent, before stripping (as openapi.json says).
    if len(raw) > MAX_URL_LENGTH:
        raise FetchError("invalid_url", f"The URL is longer than {MAX_URL_LENGTH} characters.")
    url = raw.strip()
    if not url:
        raise FetchError("invalid_url", "Enter a URL, such as https://example.com/.")
    if not _encodes(url):
        raise FetchError("invalid_url", "The URL contains characters that are not valid text.")
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise FetchError("invalid_url", "The URL contains spaces or control characters.")
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise FetchError("invalid_url", "The URL is not valid.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError("invalid_url", "Only http:// and https:// URLs can be counted.")
    if parts.username is not None or parts.password is not None:
        raise FetchError("invalid_url", "URLs with a user name or password are not supported.")
    if not parts.hostname:
        raise FetchError("invalid_url", "The URL has no host name.")
    try:
        port = parts.port  # urlsplit checks the port only when asked
        parts.hostname.encode("idna")
    except (ValueError, UnicodeError):
        raise FetchError("invalid_url", "The URL's host or port is not valid.") from None
    if port == 0:
        raise FetchError("invalid_url", "The URL's port must be from 1 to 65535.")
    return url


def refuse_known_private_host(url: str, limits: FetchLimits) -> None:
    """Raise ``blocked_url`` for a normalized URL whose host is known to be
    private without asking DNS: localhost (RFC 6761), or an address in any
    form the resolver reads as one (``127.0.0.1``, ``2130706433``,
    ``0x7f.1``, ``[::1]``). A name that resolves to a private address is
    refused by ``resolve``, when the page is fetched."""
    if limits.allow_private_hosts:
        return
    host = (urlsplit(url).hostname or "").encode("idna").decode("ascii")
    if host == "localhost" or host.endswith(".localhost"):
        raise FetchError("blocked_url", f"{host!r} is not a public internet address.")
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        return  # a name: resolve() checks its addresses
    if not all(is_public_address(str(info[4][0])) for info in infos):
        raise FetchError("blocked_url", f"{host!r} is not a public internet address.")


def _encodes(text: str) -> bool:
    """False for text with a lone surrogate (JSON can send one), which no
    database or HTTP request can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def resolve(host: str, port: int, allow_private: bool, timeout: float = 10.0) -> str:
    """Resolve ``host`` once, within ``timeout`` seconds, and return the
    address to connect to."""
    try:
        infos = _getaddrinfo_within(timeout, host, port)
    except (socket.gaierror, UnicodeError):
        raise FetchError("fetch_failed", f"Could not find the host {host!r}.") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise FetchError("fetch_failed", f"The host {host!r} has no address.")
    if not allow_private and not all(is_public_address(a) for a in addresses):
        raise FetchError("blocked_url", f"{host!r} is not a public internet address.")
    return addresses[0]


def _getaddrinfo_within(timeout: float, host: str, port: int) -> list[Any]:
    """socket.getaddrinfo, given up after ``timeout`` seconds: it takes no
    timeout of its own, so it runs in a thread of its own, which is left to
    end by itself (the system resolver's own time-outs bound it)."""
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
        raise timed_out()
    if isinstance(answer[0], BaseException):
        raise answer[0]
    infos: list[Any] = answer[0]
    return infos


def fetch_page(url: str, limits: FetchLimits = FetchLimits()) -> Page:
    """GET ``url`` and return its HTML body, following checked redirects,
    all within ``limits.timeout`` seconds of wall-clock time."""
    url = normalize_url(url)
    with Deadline(limits.timeout) as deadline:
        for hop in range(limits.max_redirects + 1):
            response = _request(url, deadline, limits, redirected=hop > 0)
            try:
                location = response.headers.get("Location")
                if response.status in REDIRECT_STATUSES and location:
                    url = _redirect_target(url, location)
                    continue
                charset = _check_html(response)
                return Page(url, _read_body(response, deadline, limits), charset)
            finally:
                # Close, never drain: the rest of a hostile body may be endless.
                response.close()
    raise FetchError("fetch_failed", f"More than {limits.max_redirects} redirects.")


def _redirect_target(url: str, location: str) -> str:
    try:
        return normalize_url(urljoin(url, location))
    except (FetchError, ValueError) as error:
        message = error.message if isinstance(error, FetchError) else "The URL is not valid."
        raise _refused_redirect("invalid_url", message) from None


def _refused_redirect(code: str, message: str) -> FetchError:
    return FetchError(
        REDIRECT_CODES[code], f"The page redirected to a URL that cannot be counted: {message}"
    )


def _request(
    url: str, deadline: Deadline, limits: FetchLimits, *, redirected: bool
) -> BaseHTTPResponse:
    parts = urlsplit(url)
    assert parts.hostname is not None  # normalize_url refuses URLs without one
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    host = parts.hostname.encode("idna").decode("ascii")
    try:
        address = resolve(host, port, limits.allow_private_hosts, deadline.remaining())
    except FetchError as error:
        if redirected and error.code in REDIRECT_CODES:
            raise _refused_redirect(error.code, error.message) from None
        raise
    pool_class: type[HTTPConnectionPool] = _PinnedHTTPSPool if https else _PinnedHTTPPool
    pool = pool_class(host, port, address=address, deadline=deadline, maxsize=1, retries=False)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        response = pool.urlopen(
            "GET",
            path,
            preload_content=False,
            redirect=False,
            timeout=Timeout(total=deadline.remaining()),
            headers={
                "User-Agent": USER_AGENT,
                "Accept": ", ".join(HTML_TYPES),
                "Accept-Encoding": "gzip, deflate",
            },
        )
    except (HTTPError, OSError) as error:
        pool.close()  # and the connection urllib3 may still hold
        raise _request_error(error, host, deadline) from None
    if deadline.expired:  # the timer's shutdown reads as the end of the headers
        response.close()
        raise timed_out()
    return response


def _request_error(error: Exception, host: str, deadline: Deadline) -> FetchError:
    if deadline.expired:
        return timed_out()
    if isinstance(error, InvalidHeader):  # urllib3's own check of Content-Length
        return bad_content_length()
    if isinstance(error, NewConnectionError):  # before timeouts: urllib3 makes it a subclass
        return FetchError("fetch_failed", f"Could not connect to {host}: {_reason(error)}.")
    if isinstance(error, HTTPTimeoutError | TimeoutError):
        return FetchError("fetch_timeout", f"{host} did not answer within the time limit.")
    return FetchError("fetch_failed", f"Could not connect to {host}: {_reason(error)}.")


def _check_html(response: BaseHTTPResponse) -> str | None:
    """Refuse non-HTML and error responses; return the declared charset."""
    if response.status >= 400:
        raise FetchError("fetch_failed", f"The server answered {response.status}.")
    header = Message()
    header["Content-Type"] = response.headers.get("Content-Type", "")
    if header.get_content_type() not in HTML_TYPES or "Content-Type" not in response.headers:
        raise FetchError(
            "not_html",
            "The URL is not an HTML page "
            f"(Content-Type: {response.headers.get('Content-Type', 'none')}).",
        )
    return header.get_content_charset()


def _read_body(response: BaseHTTPResponse, deadline: Deadline, limits: FetchLimits) -> bytes:
    declared = _content_length(response)
    if declared is not None and declared > limits.max_bytes:
        raise _too_large(limits)
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := response.read1(CHUNK_SIZE):
            size += len(chunk)
            if size > limits.max_bytes:
                raise _too_large(limits)
            chunks.append(chunk)
            deadline.remaining()  # a body that never ends still ends here
    except (HTTPError, OSError) as error:
        if deadline.expired or isinstance(error, HTTPTimeoutError | TimeoutError):
            raise timed_out() from None
        raise FetchError("fetch_failed", f"The page could not be read: {_reason(error)}.") from None
    if deadline.expired:  # the timer's shutdown can look like the end of the body
        raise timed_out()
    return b"".join(chunks)


def _content_length(response: BaseHTTPResponse) -> int | None:
    """The Content-Length by RFC 9110: ASCII digits, or a list of equal ones;
    anything else makes the response unusable (``bad_response``)."""
    declared = response.headers.get("Content-Length")
    if declared is None:
        return None
    values = {value.strip() for value in declared.split(",")}
    if len(values) != 1 or not CONTENT_LENGTH.fullmatch(value := values.pop()):
        raise bad_content_length()
    return int(value)


def bad_content_length() -> FetchError:
    return FetchError("bad_response", "The server sent a Content-Length that is not valid.")


def _too_large(limits: FetchLimits) -> FetchError:
    return FetchError("too_large", f"The page is larger than {limits.max_bytes:,} bytes.")


def _reason(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    return str(reason).split(": ", 1)[-1] or type(error).__name__


class _PinnedHTTPConnection(HTTPConnection):
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


class _PinnedHTTPSConnection(_PinnedHTTPConnection, HTTPSConnection):
    """The same over TLS: HTTPSConnection's connect() calls our _new_conn()."""


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection
