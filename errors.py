"""Errors a view raises and how an API blueprint answers them.

``raise AppError(code, message, status)`` answers with that status: JSON
(``{"error": {"code": ..., "message": ...}}``) under a blueprint registered
with ``answer_errors_in_json`` (an unknown URL under its prefix too), for
/healthz, and for a client that asks for JSON first (``Accept``); an HTML
page otherwise. The handlers themselves are plumbing
(plumbing/error_pages.py).
"""

from flask import Blueprint
from flask.blueprints import BlueprintSetupState


class AppError(Exception):
    """An expected failure with a machine-readable code and an HTTP status."""

    def __init__(
        self, code: str, message: str, status: int = 400, headers: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers


class JobsUnavailable(AppError):
    """``jobs.submit`` could not queue the job: Redis refused, hung or
    dropped the connection (within a second or two, never longer). Left
    alone it answers 503 with Retry-After; a view that can do without the
    job catches it and says what it did instead."""

    RETRY_AFTER = 30  # seconds: long enough for a Redis restart

    def __init__(self, reason: str):
        super().__init__(
            "jobs_unavailable",
            "The job queue is unavailable; try again shortly.",
            503,
            {"Retry-After": str(self.RETRY_AFTER)},
        )
        self.reason = reason


def answer_errors_in_json(blueprint: Blueprint) -> None:
    """Answer the errors of ``blueprint``'s URLs in JSON. Call it where the
    blueprint is made: Flask takes no setup after its first registration."""

    def record(state: BlueprintSetupState) -> None:
        answers = state.app.extensions.setdefault(
            "json_errors", {"names": set(), "prefixes": set()}
        )
        answers["names"].add(state.name)
        if prefix := (state.url_prefix or "").rstrip("/"):
            answers["prefixes"].add(prefix)

    blueprint.record_once(record)
