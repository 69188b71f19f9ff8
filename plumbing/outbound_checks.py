"""What outbound.fetch() may fetch: a URL of http(s) only, well formed and
bounded, whose host resolves, within the deadline, only to addresses that
are public by the IANA registries (plumbing/addresses.py), or loopback
where OUTBOUND_ALLOW_LOOPBACK allows it (development and tests)."""

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from errors import AppError
from plumbing.addresses import is_loopback_address, is_public_address
from plumbing.pinned_http import getaddrinfo_within

MAX_URL_LENGTH = 2048


class OutboundError(AppError):
    """The URL cannot be fetched, or its response cannot be used; ``code``
    says why (outbound.py lists the codes). 422 if a view lets it through.
    ``headers``: those of a response refused for its type."""

    def __init__(self, code: str, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(code, message, 422)
        self.response_headers = headers or {}


@dataclass(frozen=True)
class Limits:
    timeout: float
    max_bytes: int
    max_redirects: int
    allow_loopback: bool = False
    loopback_hint: str = ""  # appended to a refusal of a loopback address
    accept: tuple[str, ...] = ()  # media types a 2xx response may have; () is any
    headers: Mapping[str, str] = field(default_factory=dict)


def timed_out() -> OutboundError:
    return OutboundError("fetch_timeout", "The server took longer than the time limit.")


def normalize_url(raw: str) -> str:
    """``raw`` as an absolute http(s) URL (a bare host such as
    ``example.com/page`` gets ``http://``), or ``invalid_url``."""
    if len(raw) > MAX_URL_LENGTH:  # what was sent, before stripping
        raise OutboundError("invalid_url", f"The URL is longer than {MAX_URL_LENGTH} characters.")
    url = raw.strip()
    if not url:
        raise OutboundError("invalid_url", "Enter a URL, such as https://example.com/.")
    if not _encodes(url):
        raise OutboundError("invalid_url", "The URL contains characters that are not valid text.")
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise OutboundError("invalid_url", "The URL contains spaces or control characters.")
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise OutboundError("invalid_url", "The URL is not valid.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise OutboundError("invalid_url", "Only http:// and https:// URLs can be fetched.")
    if parts.username is not None or parts.password is not None:
        raise OutboundError("invalid_url", "URLs with a user name or password are not supported.")
    if not parts.hostname:
        raise OutboundError("invalid_url", "The URL has no host name.")
    try:
        port = parts.port  # urlsplit checks the port only when asked
        parts.hostname.encode("idna")
    except (ValueError, UnicodeError):
        raise OutboundError("invalid_url", "The URL's host or port is not valid.") from None
    if port == 0:
        raise OutboundError("invalid_url", "The URL's port must be from 1 to 65535.")
    return url


def _encodes(text: str) -> bool:
    """False for text with a lone surrogate (JSON can send one), which no
    database or HTTP request can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def allowed(address: str, limits: Limits) -> bool:
    return is_public_address(address) or (limits.allow_loopback and is_loopback_address(address))


def refused_host(host: str, addresses: list[str], limits: Limits) -> OutboundError:
    hint = limits.loopback_hint if any(map(is_loopback_address, addresses)) else ""
    return OutboundError("blocked_url", f"{host!r} is not a public internet address.{hint}")


def check_host(url: str, limits: Limits) -> None:
    """Refuse a normalized URL whose host is known not to be public without
    asking DNS: localhost (RFC 6761), or an address in any form the
    resolver reads as one (``127.0.0.1``, ``2130706433``, ``0x7f.1``,
    ``[::1]``). A name that resolves to such an address is refused when
    the URL is fetched."""
    host = (urlsplit(url).hostname or "").encode("idna").decode("ascii")
    if host == "localhost" or host.endswith(".localhost"):
        if not limits.allow_loopback:
            raise refused_host(host, ["127.0.0.1"], limits)
        return
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        return  # a name: resolve() checks its addresses
    addresses = [str(info[4][0]) for info in infos]
    if not all(allowed(address, limits) for address in addresses):
        raise refused_host(host, addresses, limits)


def resolve(host: str, port: int, limits: Limits, timeout: float) -> str:
    """Resolve ``host`` once, within ``timeout`` seconds; the address to use."""
    try:
        infos = getaddrinfo_within(timeout, host, port)
    except TimeoutError:
        raise timed_out() from None
    except (OSError, UnicodeError):
        raise OutboundError("fetch_failed", f"Could not find the host {host!r}.") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise OutboundError("fetch_failed", f"The host {host!r} has no address.")
    if not all(allowed(address, limits) for address in addresses):
        raise refused_host(host, addresses, limits)
    return addresses[0]
