"""Fetch a web page for counting, safely.

Only http(s); a total time limit and a byte limit; at most a few redirects;
HTML bodies only. Unless private hosts are allowed, every hop's host is
resolved once, refused if any address is not public, and the connection goes
to the address that was checked, so a second DNS answer (DNS rebinding)
cannot point the request somewhere else.
"""

import socket
import time
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urljoin, urlsplit

from urllib3 import BaseHTTPResponse, HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as HTTPTimeoutError
from urllib3.util import Timeout
from urllib3.util.connection import create_connection

from wordcount.addresses import is_public_address

HTML_TYPES = ("text/html", "application/xhtml+xml")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_URL_LENGTH = 2048
CHUNK_SIZE = 64 * 1024
USER_AGENT = "Wordcount/1.0 (a Flask template's example app)"


class FetchError(Exception):
    """The page could not be fetched; ``code`` says why, for the API."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


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


def resolve(host: str, port: int, allow_private: bool) -> str:
    """Resolve ``host`` once and return the address to connect to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchError("fetch_failed", f"Could not find the host {host!r}.") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise FetchError("fetch_failed", f"The host {host!r} has no address.")
    if not allow_private and not all(is_public_address(a) for a in addresses):
        raise FetchError("blocked_url", f"{host!r} is not a public internet address.")
    return addresses[0]


def fetch_page(url: str, limits: FetchLimits = FetchLimits()) -> Page:
    """GET ``url`` and return its HTML body, following checked redirects."""
    deadline = time.monotonic() + limits.timeout
    url = normalize_url(url)
    for _ in range(limits.max_redirects + 1):
        response = _request(url, deadline, limits)
        try:
            location = response.headers.get("Location")
            if response.status in REDIRECT_STATUSES and location:
                url = normalize_url(urljoin(url, location))
                continue
            charset = _check_html(response)
            return Page(url, _read_body(response, deadline, limits), charset)
        finally:
            # Close, never drain: the rest of a hostile body may be endless.
            response.close()
    raise FetchError("fetch_failed", f"More than {limits.max_redirects} redirects.")


def _request(url: str, deadline: float, limits: FetchLimits) -> BaseHTTPResponse:
    parts = urlsplit(url)
    assert parts.hostname is not None  # normalize_url refuses URLs without one
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    host = parts.hostname.encode("idna").decode("ascii")
    address = resolve(host, port, limits.allow_private_hosts)
    pool_class: type[HTTPConnectionPool] = _PinnedHTTPSPool if https else _PinnedHTTPPool
    pool = pool_class(host, port, address=address, maxsize=1, retries=False)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        return pool.urlopen(
            "GET",
            path,
            preload_content=False,
            redirect=False,
            timeout=Timeout(total=_remaining(deadline)),
            headers={
                "User-Agent": USER_AGENT,
                "Accept": ", ".join(HTML_TYPES),
                "Accept-Encoding": "gzip, deflate",
            },
        )
    except NewConnectionError as error:  # before timeouts: urllib3 makes it a subclass
        message = f"Could not connect to {host}: {_reason(error)}."
        raise FetchError("fetch_failed", message) from None
    except HTTPTimeoutError:
        message = f"{host} did not answer within the time limit."
        raise FetchError("fetch_timeout", message) from None
    except (HTTPError, OSError) as error:
        message = f"Could not connect to {host}: {_reason(error)}."
        raise FetchError("fetch_failed", message) from None


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


def _read_body(response: BaseHTTPResponse, deadline: float, limits: FetchLimits) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise _too_large(limits)
    assert isinstance(response.connection, _PinnedHTTPConnection)  # _request's pools make them
    sock = response.connection.body_socket
    assert sock is not None  # set by connect()
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            # Each read waits at most for what is left of the total time.
            remaining = _remaining(deadline)
            if sock.fileno() != -1:  # -1 once urllib3 has read to the end
                sock.settimeout(remaining)
            chunk = response.read1(CHUNK_SIZE)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limits.max_bytes:
                raise _too_large(limits)
            chunks.append(chunk)
    except (HTTPTimeoutError, TimeoutError):
        raise FetchError("fetch_timeout", "The page took longer than the time limit.") from None
    except (HTTPError, OSError) as error:
        raise FetchError("fetch_failed", f"The page could not be read: {_reason(error)}.") from None


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError("fetch_timeout", "The page took longer than the time limit.")
    return remaining


def _too_large(limits: FetchLimits) -> FetchError:
    return FetchError("too_large", f"The page is larger than {limits.max_bytes:,} bytes.")


def _reason(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    return str(reason).split(": ", 1)[-1] or type(error).__name__


class _PinnedHTTPConnection(HTTPConnection):
    """Connect to an address chosen in advance; Host, SNI and TLS still use the host name."""

    # urllib3's own arguments pass through unchanged.
    def __init__(self, *args: Any, address: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pinned_address = address
        self.body_socket: socket.socket | None = None

    def _new_conn(self) -> socket.socket:
        # urllib3's own _new_conn, but with no second DNS lookup.
        try:
            return create_connection(
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

    def connect(self) -> None:
        super().connect()
        # http.client forgets .sock when the response will close the
        # connection; keep it so every body read can be given a timeout.
        self.body_socket = self.sock


class _PinnedHTTPSConnection(_PinnedHTTPConnection, HTTPSConnection):
    """The same over TLS: HTTPSConnection's connect() calls our _new_conn()."""


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection
