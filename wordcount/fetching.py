"""Fetch a web page for counting, through outbound.fetch: an HTML page with
a successful status, or a FetchError whose code is the count's outcome.

Everything about fetching safely (addresses, redirects, the deadline, the
byte limit) is outbound's; this module says what a countable page is.
"""

from dataclasses import dataclass

import outbound
from errors import AppError
from wordcount.error_codes import FAILED, REFUSED

HTML_TYPES = ("text/html", "application/xhtml+xml")
# outbound's codes that the example's API names otherwise (openapi.json).
CODES = {"too_many_redirects": "fetch_failed"}


class FetchError(AppError):
    """The URL or its page cannot be counted; ``code`` says why. Raised by
    a fetch, it is the count's failure (422); raised while a request is
    checked, accept() turns it into a refusal (error_codes.py)."""

    def __init__(self, code: str, message: str):
        code = CODES.get(code, code)
        super().__init__(code, message, 422 if code in FAILED else REFUSED[code])


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = 10.0
    max_bytes: int = 5_000_000


@dataclass(frozen=True)
class Page:
    url: str
    body: bytes
    charset: str | None


def check_url(raw: str) -> str:
    """``raw`` normalized, or FetchError if no fetch could ever count it."""
    try:
        return outbound.check_url(raw)
    except outbound.OutboundError as error:
        raise FetchError(error.code, error.message) from None


def fetch_page(url: str, limits: FetchLimits = FetchLimits()) -> Page:
    """GET ``url`` and return its HTML body, within ``limits``."""
    try:
        response = outbound.fetch(
            url, accept=HTML_TYPES, timeout=limits.timeout, max_bytes=limits.max_bytes
        )
    except outbound.OutboundError as error:
        if error.code == "wrong_type":
            received = error.response_headers.get("Content-Type") or "none"
            message = f"The URL is not an HTML page (Content-Type: {received})."
            raise FetchError("not_html", message) from None
        raise FetchError(error.code, error.message) from None
    if response.status >= 400:
        raise FetchError("fetch_failed", f"The server answered {response.status}.")
    if response.content_type not in HTML_TYPES:  # a 1xx or 3xx without a Location
        raise FetchError("not_html", "The URL is not an HTML page.")
    return Page(response.url, response.body, response.charset)
