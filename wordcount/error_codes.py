"""Every error code the example answers with, in one place, with its status.

A request the API refuses (``Refused``) gets the status of its code. A count
whose URL was accepted and whose page then failed (``Failed``) is stored on
its row with its code; a POST that waited for it reports it as 422, and
reading it is 200 (openapi.json's Count.error). Codes every page
answers with (not_found, db_unavailable, ...) are plumbing/error_pages.py's.
"""

from errors import AppError

REFUSED = {
    "bad_request": 400,
    "invalid_url": 400,
    "blocked_url": 400,
    "unsupported_media_type": 415,
    "idempotency_key_reused": 422,
}
FAILED = frozenset(
    {
        # The page (fetching.py)
        "blocked_url",
        "fetch_failed",
        "fetch_timeout",
        "not_html",
        "too_large",
        "bad_response",
        "bad_redirect",
        "blocked_redirect",
        # The count (tasks.py)
        "count_failed",
        "count_timeout",
        "worker_lost",
        "expired",
        "internal_error",
    }
)


class Refused(AppError):
    """The request is refused and nothing is stored."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message, REFUSED[code])


class Failed(AppError):
    """The count was accepted and failed: 422, with the count's Location."""

    def __init__(self, code: str, message: str, headers: dict[str, str] | None = None):
        if code not in FAILED:
            raise ValueError(f"{code!r} is not a failure code")
        super().__init__(code, message, 422, headers)
