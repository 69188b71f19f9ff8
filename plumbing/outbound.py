"""How outbound.fetch() fetches a URL it did not write, safely: a
wall-clock deadline for everything (DNS, connect, TLS, every redirect hop,
the body), a byte limit on the decoded body, a bounded number of
redirects, every hop's host checked (plumbing/outbound_checks.py) and the
connection made to the address that was checked (plumbing/pinned_http.py).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin, urlsplit

from urllib3 import BaseHTTPResponse, HTTPConnectionPool
from urllib3.exceptions import HTTPError, InvalidHeader, NewConnectionError
from urllib3.exceptions import TimeoutError as HTTPTimeoutError
from urllib3.util import Timeout

from plumbing.outbound_checks import (
    Limits,
    OutboundError,
    check_host,
    normalize_url,
    resolve,
    timed_out,
)
from plumbing.pinned_http import Deadline, PinnedHTTPPool, PinnedHTTPSPool

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
CHUNK_SIZE = 64 * 1024
# RFC 9110, 8.6: Content-Length = 1*DIGIT (ASCII digits; str.isdigit would
# also take "¹" or "٣"). A list of equal values is one value.
CONTENT_LENGTH = re.compile(r"[0-9]{1,19}")
# A refusal of a redirect's target is the response's failure, not the caller's URL's.
REDIRECT_CODES = {"invalid_url": "bad_redirect", "blocked_url": "blocked_redirect"}


@dataclass(frozen=True)
class Response:
    """The final response: its URL (after redirects), status, headers and body."""

    url: str
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type, lower case ("text/html"), or "" when none is sent."""
        return _content_type_header(self.headers).get_content_type() if self._typed else ""

    @property
    def charset(self) -> str | None:
        """The charset the Content-Type names, if any."""
        return _content_type_header(self.headers).get_content_charset()

    @property
    def _typed(self) -> bool:
        return "Content-Type" in self.headers


def _content_type_header(headers: Mapping[str, str]) -> Message:
    header = Message()
    header["Content-Type"] = headers.get("Content-Type", "")
    return header


def fetch(url: str, limits: Limits, method: str = "GET", body: bytes | None = None) -> Response:
    """``method`` ``url``, following checked redirects, all within
    ``limits.timeout`` seconds of wall-clock time."""
    url = normalize_url(url)
    check_host(url, limits)
    try:
        with Deadline(limits.timeout) as deadline:
            for hop in range(limits.max_redirects + 1):
                response = _request(url, method, body, deadline, limits, redirected=hop > 0)
                try:
                    location = response.headers.get("Location")
                    if response.status in REDIRECT_STATUSES and location:
                        url = _redirect_target(url, location)
                        if response.status in (301, 302, 303):  # as browsers: GET, no body
                            method, body = ("HEAD", None) if method == "HEAD" else ("GET", None)
                        continue
                    return _read(url, response, deadline, limits)
                finally:
                    response.close()  # never drained: a hostile body may be endless
    except TimeoutError:
        raise timed_out() from None
    raise OutboundError("too_many_redirects", f"More than {limits.max_redirects} redirects.")


def _redirect_target(url: str, location: str) -> str:
    try:
        return normalize_url(urljoin(url, location))
    except (OutboundError, ValueError) as error:
        message = error.message if isinstance(error, OutboundError) else "The URL is not valid."
        raise _refused_redirect("invalid_url", message) from None


def _refused_redirect(code: str, message: str) -> OutboundError:
    return OutboundError(
        REDIRECT_CODES[code], f"The server redirected to a URL that cannot be fetched: {message}"
    )


def _request(
    url: str,
    method: str,
    body: bytes | None,
    deadline: Deadline,
    limits: Limits,
    *,
    redirected: bool,
) -> BaseHTTPResponse:
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    host = (parts.hostname or "").encode("idna").decode("ascii")
    address = _checked_address(url, host, port, deadline, limits, redirected=redirected)
    pool_class: type[HTTPConnectionPool] = PinnedHTTPSPool if https else PinnedHTTPPool
    pool = pool_class(host, port, address=address, deadline=deadline, maxsize=1, retries=False)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        response = pool.urlopen(
            method,
            path,
            body=body,
            headers=request_headers(limits),
            preload_content=False,
            redirect=False,
            timeout=Timeout(total=deadline.remaining()),
        )
    except (HTTPError, OSError) as error:
        pool.close()  # and the connection urllib3 may still hold
        raise _request_error(error, host, deadline) from None
    if deadline.expired:  # the timer's shutdown reads as the end of the headers
        response.close()
        raise timed_out()
    return response


def _checked_address(
    url: str, host: str, port: int, deadline: Deadline, limits: Limits, *, redirected: bool
) -> str:
    """The address to connect to; a redirect's refusal is the response's failure."""
    try:
        if redirected:
            check_host(url, limits)
        return resolve(host, port, limits, deadline.remaining())
    except OutboundError as error:
        if redirected and error.code in REDIRECT_CODES:
            raise _refused_redirect(error.code, error.message) from None
        raise


def request_headers(limits: Limits) -> dict[str, str]:
    headers = {"Accept-Encoding": "gzip, deflate", **limits.headers}
    if limits.accept:
        headers.setdefault("Accept", ", ".join(limits.accept))
    return headers


def _request_error(error: Exception, host: str, deadline: Deadline) -> OutboundError:
    if deadline.expired:
        return timed_out()
    if isinstance(error, InvalidHeader):  # urllib3's own check of Content-Length
        return bad_content_length()
    if isinstance(error, NewConnectionError):  # before timeouts: urllib3 makes it a subclass
        return OutboundError("fetch_failed", f"Could not connect to {host}: {_reason(error)}.")
    if isinstance(error, HTTPTimeoutError | TimeoutError):
        return OutboundError("fetch_timeout", f"{host} did not answer within the time limit.")
    return OutboundError("fetch_failed", f"Could not connect to {host}: {_reason(error)}.")


def _read(url: str, response: BaseHTTPResponse, deadline: Deadline, limits: Limits) -> Response:
    headers = response.headers.copy()
    result = Response(url, response.status, headers, b"")
    if limits.accept and 200 <= response.status < 300 and result.content_type not in limits.accept:
        received = headers.get("Content-Type", "none")
        message = f"The response is not of an accepted type ({received})."
        raise OutboundError("wrong_type", message, headers)
    return Response(url, response.status, headers, _read_body(response, deadline, limits))


def _read_body(response: BaseHTTPResponse, deadline: Deadline, limits: Limits) -> bytes:
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
        message = f"The response could not be read: {_reason(error)}."
        raise OutboundError("fetch_failed", message) from None
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


def bad_content_length() -> OutboundError:
    return OutboundError("bad_response", "The server sent a Content-Length that is not valid.")


def _too_large(limits: Limits) -> OutboundError:
    return OutboundError("too_large", f"The response is larger than {limits.max_bytes:,} bytes.")


def _reason(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    return str(reason).split(": ", 1)[-1] or type(error).__name__
