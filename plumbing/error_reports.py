"""Errors reach a person: with SENTRY_DSN set, every unhandled exception of
a view, a job (inline or in the worker), the worker itself and the release
phase goes to Sentry, tagged with the id of the request that caused it, the
release (the slug's commit, HEROKU_SLUG_COMMIT) and the environment's name.

Nothing personal goes with it: no cookie, no header but a few named ones,
no request body or form field, no query string, no stack frame's
variables, no user, no SQL parameter; an email address anywhere in the
event (an exception's message, a log line) is masked. Without SENTRY_DSN,
sentry_sdk is not even imported.
"""

import os
import re
import sys
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:  # sentry_sdk is imported only when started
    from sentry_sdk._types import Breadcrumb, Event

# Something@something: an address, in any text of an event.
ADDRESS = re.compile(r"[^\s<>\"'(),;:@]+@[^\s<>\"'(),;:@]+")
HEADERS_SENT = ["accept", "content-length", "content-type", "user-agent", "x-request-id"]
# Every category sentry_sdk collects, each named: one left out is collected
# (a test resolves this as sentry_sdk does and finds nothing left on).
NOTHING_PERSONAL = {
    "user_info": False,
    "cookies": {"mode": "off"},
    "http_headers": {"request": {"mode": "allowlist", "terms": HEADERS_SENT}},
    "http_bodies": [],
    "url_query_params": {"mode": "off"},
    "graphql": {"document": False, "variables": False},
    "gen_ai": {"inputs": False, "outputs": False},
    "mcp": {"inputs": False, "outputs": False},
    "database_query_data": False,
    "queues": False,  # a job's arguments: an address, a mailed token
    "stack_frame_variables": False,
}


def init_app(app: Flask) -> None:
    if app.config["SENTRY_DSN"]:
        start(app.config["SENTRY_DSN"], app.config["ENV_NAME"])


def start(dsn: str, environment: str) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.rq import RqIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=os.environ.get("HEROKU_SLUG_COMMIT"),
        integrations=[FlaskIntegration(), RqIntegration()],
        data_collection=NOTHING_PERSONAL,  # type: ignore[arg-type]  # a TypedDict of sentry's
        before_send=tagged_and_masked,
        before_breadcrumb=masked_breadcrumb,
    )


def report(error: BaseException) -> None:
    """Send ``error`` (a job's, caught by the code that runs it) to Sentry,
    if Sentry was started; nothing otherwise."""
    if "sentry_sdk" in sys.modules:
        sys.modules["sentry_sdk"].capture_exception(error)


def tagged_and_masked(event: "Event", hint: dict[str, Any]) -> "Event":
    from structlog.contextvars import get_contextvars

    fields = get_contextvars()
    tags = event.setdefault("tags", {})
    for name in ("request_id", "job_id"):
        if name in fields:
            tags[name] = fields[name]
    masked: Event = mask(event)
    return masked


def masked_breadcrumb(crumb: "Breadcrumb", hint: dict[str, Any]) -> "Breadcrumb":
    masked: Breadcrumb = mask(crumb)
    return masked


def mask(value: Any) -> Any:
    """``value`` with every address in its strings masked, however deep."""
    if isinstance(value, str):
        return ADDRESS.sub("[address]", value)
    if isinstance(value, dict):
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask(item) for item in value]
    return value
