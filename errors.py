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
