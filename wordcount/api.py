"""Wordcount's JSON API (openapi.json describes it)."""

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import NotRequired, TypedDict

from flask import Blueprint, Response, current_app, request, url_for
from flask.typing import ResponseReturnValue

from errors import answer_errors_in_json
from wordcount import counts
from wordcount.counts import MAX_ID, MAX_TOP_WORDS, TOP_WORDS, CountRow
from wordcount.error_codes import Failed, Refused
from wordcount.models import UNFINISHED, Status
from wordcount.query_args import ASCII_NUMBER, int_arg

bp = Blueprint("wordcount_api", __name__, url_prefix="/api")
answer_errors_in_json(bp)

OPENAPI_FILE = Path(__file__).with_name("openapi.json")
# The key is a Structured Field string (RFC 8941): quoted, with \" and \\
# escapes; a bare token is taken too. A comma outside quotes means a list:
# two Idempotency-Key headers, which the server joins into one with a comma.
QUOTED_KEY = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\]){1,255})"')
BARE_KEY = re.compile(r"[\x20\x21\x23-\x2b\x2d-\x7e]{1,255}")


class WordCount(TypedDict):
    word: str
    count: int


class CountError(TypedDict):
    code: str
    message: str


class CountJSON(TypedDict):
    """A count as the API shows it (openapi.json's Count): the counts once
    done, the error once failed."""

    id: int
    url: str
    status: str
    created_at: str
    finished_at: str | None
    total_words: NotRequired[int]
    unique_words: NotRequired[int]
    top_words: NotRequired[list[WordCount]]
    top_all_words: NotRequired[list[WordCount]]
    error: NotRequired[CountError]


@bp.post("/counts")
def create_count() -> ResponseReturnValue:
    if not request.is_json:
        raise Refused("unsupported_media_type", "Send the request body as application/json.")
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than Python's JSON decoder goes
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("url"), str):
        raise Refused("bad_request", 'Send a JSON object such as {"url": "https://example.com/"}.')
    n = int_arg("n", TOP_WORDS, 1, MAX_TOP_WORDS)
    count_id, accepted = counts.accept_once(payload["url"], idempotency_key())
    headers = {"Location": url_for(".get_count", count_id=count_id)}
    if accepted is None:
        headers["Idempotent-Replayed"] = "true"
    wait = preferred_wait()
    if wait:
        with waiting_slot() as waiting:
            if waiting:  # else answer at once: RFC 7240 lets a server ignore it
                counts.wait_for(count_id, wait)
    if accepted is None or accepted.finished or wait:  # it may have moved on: read it
        body = count_json(counts.get_or_404(count_id, n))
    else:
        body = accepted_json(accepted)
    if "error" in body:  # the page's failure: the URL itself was accepted
        raise Failed(body["error"]["code"], body["error"]["message"], headers)
    if body["status"] == Status.DONE:
        return body, 201, headers
    headers["Retry-After"] = retry_after(body)
    return body, 202, headers


@bp.get("/counts/<int:count_id>")
def get_count(count_id: int) -> ResponseReturnValue:
    body = count_json(counts.get_or_404(count_id, int_arg("n", TOP_WORDS, 1, MAX_TOP_WORDS)))
    response = current_app.json.response(body)
    if body["status"] in UNFINISHED:
        response.headers["Retry-After"] = retry_after(body)
    return response


@bp.get("/counts")
def list_counts() -> ResponseReturnValue:
    limit = int_arg("limit", 20, 1, 100)
    before = int_arg("before", None, 1, MAX_ID + 1)
    n = int_arg("n", TOP_WORDS, 1, MAX_TOP_WORDS)
    rows = counts.newest(before, limit + 1, n)
    items = [count_json(row) for row in rows[:limit]]
    more = len(rows) > limit
    next_url = (
        url_for(".list_counts", limit=limit, before=rows[limit - 1].id, n=n) if more else None
    )
    return {"items": items, "next": next_url}


@bp.get("/openapi.json")
def openapi() -> Response:
    return current_app.response_class(OPENAPI_FILE.read_bytes(), mimetype="application/json")


def count_json(row: CountRow) -> CountJSON:
    body: CountJSON = {
        "id": row.id,
        "url": row.url,
        "status": row.status,
        "created_at": row.created_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }
    if row.status == Status.DONE:
        body["total_words"] = row.total_words
        body["unique_words"] = row.unique_words
        body["top_words"] = [{"word": w, "count": c} for w, c in row.top_words]
        body["top_all_words"] = [{"word": w, "count": c} for w, c in row.top_all_words]
    elif row.status == Status.FAILED:
        body["error"] = {"code": row.error_code, "message": row.error_message}
    return body


def accepted_json(accepted: counts.Accepted) -> CountJSON:
    return {
        "id": accepted.id,
        "url": accepted.url,
        "status": Status.QUEUED,
        "created_at": accepted.created_at.isoformat(),
        "finished_at": None,
    }


def retry_after(body: CountJSON) -> str:
    """Retry-After for an unfinished count, from its age."""
    return str(counts.refresh_seconds(datetime.fromisoformat(body["created_at"])))


def idempotency_key() -> str | None:
    """The Idempotency-Key header: one quoted string, or one bare string,
    of 1 to 255 printable ASCII characters; None when absent."""
    values = request.headers.getlist("Idempotency-Key")
    if not values:
        return None
    raw = ",".join(values).strip(" \t")
    if quoted := QUOTED_KEY.fullmatch(raw):
        return re.sub(r"\\(.)", r"\1", quoted.group(1))
    if BARE_KEY.fullmatch(raw):
        return raw
    raise Refused(
        "bad_request",
        "Send one Idempotency-Key of 1 to 255 printable ASCII characters "
        '(a comma or a double quote only inside a "quoted string").',
    )


def preferred_wait() -> float:
    """Seconds from ``Prefer: wait=N`` (RFC 7240), capped; 0 without it.
    A preference that cannot be read is ignored, as the RFC asks."""
    for preference in request.headers.getlist("Prefer"):
        for token in preference.split(","):
            name, _, value = token.split(";")[0].strip().partition("=")
            if name.lower() == "wait" and ASCII_NUMBER.fullmatch(value.strip()):
                longest: int = current_app.config["WORDCOUNT_MAX_WAIT"]
                return min(int(value), longest)
    return 0


@contextmanager
def waiting_slot() -> Iterator[bool]:
    """One of the process's WORDCOUNT_WAITING_REQUESTS places for a request
    that waits on a count; False when all are taken. Waiting requests hold
    a server thread each; the bound keeps threads free for everyone else."""
    slots: threading.BoundedSemaphore = current_app.extensions["wordcount_waiting"]
    taken = slots.acquire(blocking=False)
    try:
        yield taken
    finally:
        if taken:
            slots.release()
