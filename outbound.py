"""Outbound HTTP for every URL your app did not write itself: a URL a user
typed, a webhook's target, an avatar, a link preview.

    from outbound import OutboundError, fetch

    try:
        response = fetch(url, timeout=10, max_bytes=1_000_000)
    except OutboundError as error:
        ...  # error.code says why; error.message says it to a person
    response.url, response.status, response.headers, response.body

What it guarantees, whatever the URL and the server:
- only http(s) URLs of at most 2,048 characters, without credentials;
- every address of every host, on every redirect hop, is public by the
  IANA special-purpose registries: no loopback, private range, link-local
  (cloud metadata at 169.254.169.254), carrier-grade NAT, documentation,
  multicast or reserved address, in any spelling (``2130706433``,
  ``0x7f.1``, ``[::ffff:127.0.0.1]``, a public name that resolves to one);
- the connection goes to the address that was checked (no second DNS
  answer can redirect it), with TLS verified against the host name;
- ``timeout`` seconds of wall-clock time cover everything: DNS, connect,
  TLS, every redirect, the body, however slowly the server trickles;
- at most ``max_bytes`` of body, counted after gzip/deflate decoding, and
  at most ``max_redirects`` redirects.

The error codes: ``invalid_url``, ``blocked_url`` (not a public address),
``bad_redirect`` and ``blocked_redirect`` (a redirect to such a URL),
``too_many_redirects``, ``fetch_timeout``, ``fetch_failed`` (DNS or the
connection failed), ``too_large``, ``bad_response`` (e.g. a Content-Length
RFC 9110 refuses), ``wrong_type`` (a 2xx response of a type ``accept``
does not list). A status of 4xx or 5xx is a response, not an error.

OUTBOUND_ALLOW_LOOPBACK=true lets development reach this machine's own
servers (tests have it on); staging and production refuse to start with it.
"""

from collections.abc import Mapping

from flask import current_app, has_app_context

from plumbing.outbound import Response
from plumbing.outbound import fetch as fetch_within
from plumbing.outbound_checks import Limits, OutboundError, check_host, normalize_url

__all__ = ["OutboundError", "Response", "check_url", "fetch"]

LOOPBACK_HINT = " Set OUTBOUND_ALLOW_LOOPBACK=true to reach this machine in development."
# The defaults of every fetch, which a call may change.
TIMEOUT = 10.0  # seconds, for everything: DNS, every hop, the body
MAX_BYTES = 5_000_000
MAX_REDIRECTS = 5


def fetch(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    accept: tuple[str, ...] = (),
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    max_redirects: int = MAX_REDIRECTS,
) -> Response:
    """``method`` ``url`` (redirects followed and checked) and the final
    response, or OutboundError. ``accept``: the media types a successful
    response may have, sent as Accept and checked before the body is read."""
    if not (timeout > 0 and max_bytes > 0 and max_redirects >= 0):
        raise ValueError("timeout and max_bytes must be above 0, max_redirects 0 or more")
    bounds = limits(headers, accept, timeout, max_bytes, max_redirects)
    return fetch_within(url, bounds, method, body)


def check_url(url: str) -> str:
    """``url`` normalized (``example.com`` becomes ``http://example.com``),
    or OutboundError when it could never be fetched: for a form to refuse
    at once what a job would fail on later. A name is resolved only by
    ``fetch``."""
    normalized = normalize_url(url)
    check_host(normalized, limits(None, (), TIMEOUT, MAX_BYTES, MAX_REDIRECTS))
    return normalized


def limits(
    headers: Mapping[str, str] | None,
    accept: tuple[str, ...],
    timeout: float,
    max_bytes: int,
    max_redirects: int,
) -> Limits:
    config = current_app.config if has_app_context() else {}
    allow_loopback = bool(config.get("OUTBOUND_ALLOW_LOOPBACK", False))
    development = config.get("ENV_NAME") in ("development", "testing")
    return Limits(
        timeout=timeout,
        max_bytes=max_bytes,
        max_redirects=max_redirects,
        allow_loopback=allow_loopback,
        loopback_hint=LOOPBACK_HINT if development and not allow_loopback else "",
        accept=accept,
        headers={"User-Agent": f"{config.get('APP_NAME', 'app')}/1.0", **(headers or {})},
    )
