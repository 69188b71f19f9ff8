"""Wordcount's pages and JSON API.

The logic lives in ``counting`` and ``fetching``; this module only turns
requests into calls to them and results into responses.
"""

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NotRequired, TypedDict, overload

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy import (
    BigInteger,
    Integer,
    Row,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import JSONPATH
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from wtforms import StringField
from wtforms.validators import InputRequired

from database import without_transaction
from errors import AppError
from jobs import jobs
from models import JSONDocument, UTCDateTime, db, utc_now
from wordcount.fetching import FetchError, normalize_url, refuse_known_private_host
from wordcount.models import UNFINISHED, Result, Status
from wordcount.tasks import EXPIRED_MESSAGE, expired_before, fetch_limits, submit_count

bp = Blueprint(
    "wordcount",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/wordcount/static",
)
api = Blueprint("wordcount_api", __name__, url_prefix="/api")

OPENAPI_FILE = Path(__file__).with_name("openapi.json")
TOP_WORDS = 10
MAX_TOP_WORDS = 100
HISTORY_PAGE_SIZE = 50
LATEST_ON_INDEX = 10


class URLForm(FlaskForm):
    url = StringField("Page URL", validators=[InputRequired("Enter a URL to count.")])


class WordCount(TypedDict):
    word: str
    count: int


class CountError(TypedDict):
    code: str
    message: str


class Count(TypedDict):
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
    top_words_all: NotRequired[list[WordCount]]
    error: NotRequired[CountError]


def accept_count(raw_url: str, idempotency_key: str | None = None) -> Count:
    """Store a queued count of ``raw_url``, hand it to a worker (or count it
    now when there is no queue), and return the count as accepted. A URL
    that is not valid, or whose host is plainly private, is refused here
    (AppError, nothing stored); every other failure is the count's outcome,
    stored on its row."""
    try:
        url = normalize_url(raw_url)
        refuse_known_private_host(url, fetch_limits())
    except FetchError as error:
        raise AppError(error.code, error.message, 400) from None
    result = Result(url=url, requested_url=url, idempotency_key=idempotency_key)
    db.session.add(result)
    db.session.flush()  # INSERT ... RETURNING id
    accepted: Count = {
        "id": result.id,
        "url": url,
        "status": Status.QUEUED,
        "created_at": result.created_at.isoformat(),
        "finished_at": None,
    }
    db.session.commit()  # expires result: read nothing more from it
    submit_count(accepted["id"])
    return accepted


def wait_for_count(result_id: int, seconds: float) -> None:
    """Wait up to ``seconds`` for the count to finish, reading its status
    with a short, growing pause: one round trip a look, no transaction."""
    deadline = time.monotonic() + seconds
    pause = 0.05
    while time.monotonic() < deadline:
        without_transaction()
        status = db.session.scalar(select(Result.status).where(Result.id == result_id))
        db.session.rollback()
        if status not in UNFINISHED:
            return
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.5)


class top_pairs(FunctionElement[Any]):
    """``top_pairs(column, n)``: the first ``n`` [word, count] pairs of a
    counts column, sliced in the database: reading a page with 50,000
    distinct words costs no more than one with ten, because the full list
    never leaves the database. Compiled for each database below."""

    type = JSONDocument
    inherit_cache = True


@compiles(top_pairs, "postgresql")
def _top_pairs_postgresql(element: top_pairs, compiler: SQLCompiler, **kw: Any) -> str:
    column, n = element.clauses
    path = cast(literal("$[0 to $last]"), JSONPATH)
    last = func.jsonb_build_object("last", n - 1)
    return compiler.process(func.jsonb_path_query_array(column, path, last), **kw)


@compiles(top_pairs, "sqlite")
def _top_pairs_sqlite(element: top_pairs, compiler: SQLCompiler, **kw: Any) -> str:
    column, n = element.clauses
    pairs = func.json_each(column).table_valued("key", "value")
    first = select(func.json_group_array(func.json(pairs.c.value))).where(pairs.c.key < n)
    return compiler.process(first.scalar_subquery(), **kw)


# The queries are built once, with their values as parameters: SQLAlchemy
# then neither rebuilds nor re-hashes them on every request (bench/ measures
# it). They select the table's columns, not the model's: a read that builds
# no objects skips the ORM's per-row work, a third of a request's time.
RESULTS = Result.__table__.c
# A count past its deadline reads as failed ("expired") whether or not a
# worker is there to store it: ``expired_before`` is bound on every read.
EXPIRED = and_(
    RESULTS.status.in_(UNFINISHED),
    RESULTS.created_at <= bindparam("expired_before", type_=UTCDateTime),
)
SUMMARY = (
    RESULTS.id,
    RESULTS.url,
    RESULTS.requested_url,
    case((EXPIRED, literal(Status.FAILED.value)), else_=RESULTS.status).label("status"),
    RESULTS.created_at,
    case((EXPIRED, bindparam("now", type_=UTCDateTime)), else_=RESULTS.finished_at).label(
        "finished_at"
    ),
    case((EXPIRED, literal("expired")), else_=RESULTS.error_code).label("error_code"),
    case((EXPIRED, literal(EXPIRED_MESSAGE)), else_=RESULTS.error_message).label("error_message"),
    RESULTS.total_words,
    RESULTS.unique_words,
)
TOP_WORDS_COLUMNS = (
    top_pairs(RESULTS.result_no_stop_words, bindparam("n", type_=Integer)).label("top_words"),
    top_pairs(RESULTS.result_all, bindparam("n", type_=Integer)).label("top_words_all"),
)
# Keyset pagination (id < before) and an index: a page costs the same
# however many rows the table holds.
NEWEST = (
    select(*SUMMARY)
    .where(RESULTS.id < bindparam("before", type_=BigInteger))
    .order_by(RESULTS.id.desc())
    .limit(bindparam("limit", type_=Integer))
)
NEWEST_WITH_TOP_WORDS = NEWEST.add_columns(*TOP_WORDS_COLUMNS)
RESULT_BY_ID = select(*SUMMARY, *TOP_WORDS_COLUMNS).where(RESULTS.id == bindparam("result_id"))
MAX_ID = 2**31 - 1  # ids are 32-bit integers
ASCII_NUMBER = re.compile(r"[0-9]{1,19}")
# The key is a Structured Field string (RFC 8941): quoted, with \" and \\
# escapes; a bare token is taken too. A comma outside quotes means a list:
# two Idempotency-Key headers, which the server joins into one with a comma.
QUOTED_KEY = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\]){1,255})"')
BARE_KEY = re.compile(r"[\x20\x21\x23-\x2b\x2d-\x7e]{1,255}")
# How often a page or client following an unfinished count should look
# again: every second at first, less often as the count ages (a tenth of its
# age), at most every 30 seconds; never once it has ended.
MIN_REFRESH_SECONDS = 1
MAX_REFRESH_SECONDS = 30
# A row of these queries: its columns are known by name, not by type.
AnyRow = Row[*tuple[Any, ...]]


def read_time() -> dict[str, datetime]:
    """The parameters every read binds: now, and the deadline's edge."""
    return {"now": utc_now(), "expired_before": expired_before()}


def refresh_seconds(created_at: datetime) -> int:
    age = (utc_now() - created_at).total_seconds()
    return int(min(max(age / 10, MIN_REFRESH_SECONDS), MAX_REFRESH_SECONDS))


def retry_after(count: Count) -> str:
    """Retry-After for an unfinished count, from its age."""
    return str(refresh_seconds(datetime.fromisoformat(count["created_at"])))


def get_result(result_id: int, n: int = TOP_WORDS) -> AnyRow:
    # An id the column cannot hold would make PostgreSQL raise, not miss.
    row = None
    if result_id <= MAX_ID:
        values = {"result_id": result_id, "n": n, **read_time()}
        row = db.session.execute(RESULT_BY_ID, values).first()
    if row is None:
        abort(404, description=f"No result with id {result_id}.")
    return row


def newest_results(before: int | None, limit: int, n: int | None = None) -> list[AnyRow]:
    """Results newest first, with ids below ``before``, and their top ``n``
    words when ``n`` is given."""
    query, values = NEWEST, {"before": before or MAX_ID + 1, "limit": limit, **read_time()}
    if n is not None:
        query, values = NEWEST_WITH_TOP_WORDS, {**values, "n": n}
    return list(db.session.execute(query, values))


# --- Pages -------------------------------------------------------------------


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_index(URLForm())


@bp.post("/")
def submit() -> ResponseReturnValue:
    form = URLForm()
    if not form.validate_on_submit():
        return render_index(form), 400
    assert form.url.data is not None  # InputRequired
    try:
        accepted = accept_count(form.url.data)
    except AppError as error:
        return render_index(form, error.message), error.status
    return redirect(url_for(".result", result_id=accepted["id"]), code=303)


@bp.errorhandler(CSRFError)
def form_expired(error: CSRFError) -> ResponseReturnValue:
    # Show the form again with the URL kept, rather than a bare error page.
    return render_index(URLForm(), "The form expired; please submit it again."), 400


def render_index(form: URLForm, error: str | None = None) -> str:
    latest = newest_results(None, LATEST_ON_INDEX)
    return render_template("wordcount/index.html", form=form, error=error, latest=latest)


@bp.get("/results/<int:result_id>")
def result(result_id: int) -> str:
    row = get_result(result_id)
    # A failed count offers the form again, filled in, to try again.
    form = URLForm(url=row.requested_url or row.url) if row.status == Status.FAILED else None
    return render_template(
        "wordcount/result.html",
        result=row,
        form=form,
        refresh_seconds=refresh_seconds(row.created_at),
    )


@bp.get("/history")
def history() -> str:
    before = int_arg("before", None, 1, MAX_ID + 1)
    rows = newest_results(before, HISTORY_PAGE_SIZE + 1)
    older = rows[-2].id if len(rows) > HISTORY_PAGE_SIZE else None
    return render_template("wordcount/history.html", results=rows[:HISTORY_PAGE_SIZE], older=older)


# --- JSON API ----------------------------------------------------------------


@overload
def int_arg(name: str, default: int, low: int, high: int) -> int: ...
@overload
def int_arg(name: str, default: None, low: int, high: int) -> int | None: ...
def int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    """A query parameter of ASCII digits within [low, high] (str.isdigit
    would also take '²' and '٣', which int() refuses or reads as 3)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not ASCII_NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        raise AppError("bad_request", f"{name} must be a whole number from {low} to {high}.")
    return int(raw)


def result_body(row: AnyRow) -> Count:
    body: Count = {
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
        body["top_words_all"] = [{"word": w, "count": c} for w, c in row.top_words_all]
    elif row.status == Status.FAILED:
        body["error"] = {"code": row.error_code, "message": row.error_message}
    return body


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
    raise AppError(
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


def find_by_key(key: str) -> Result | None:
    return db.session.scalar(select(Result).where(Result.idempotency_key == key))


def create_or_replay(url: str, key: str | None) -> tuple[int, Count | None]:
    """The new count's id and body as accepted; or the id of the earlier
    count with the same key, and None."""
    if key is not None and (earlier := find_by_key(key)) is not None:
        return replay(earlier, url), None
    try:
        accepted = accept_count(url, key)
    except IntegrityError:  # a concurrent request with the same key won
        db.session.rollback()
        earlier = find_by_key(key) if key is not None else None
        if earlier is None:  # not the key's constraint
            raise
        return replay(earlier, url), None
    return accepted["id"], accepted


def replay(earlier: Result, url: str) -> int:
    try:
        same = normalize_url(url) == earlier.requested_url
    except FetchError:
        same = False
    if not same:
        raise AppError(
            "idempotency_key_reused",
            "This Idempotency-Key was used for another URL; use a new key.",
            422,
        )
    return earlier.id


@api.post("/counts")
def create_count() -> ResponseReturnValue:
    if not request.is_json:
        raise AppError("unsupported_media_type", "Send the request body as application/json.", 415)
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than Python's JSON decoder goes
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("url"), str):
        raise AppError("bad_request", 'Send a JSON object such as {"url": "https://example.com/"}.')
    n = int_arg("n", TOP_WORDS, 1, MAX_TOP_WORDS)
    result_id, count = create_or_replay(payload["url"], idempotency_key())
    headers = {"Location": url_for(".get_count", result_id=result_id)}
    if count is None:
        headers["Idempotent-Replayed"] = "true"
    db.session.commit()  # ends find_by_key's read: waiting holds no transaction
    wait = preferred_wait()
    if wait:
        with waiting_slot() as waiting:
            if waiting:  # else answer at once: RFC 7240 lets a server ignore it
                wait_for_count(result_id, wait)
    if count is None or wait or not jobs.enabled:  # the count may have moved on: read it
        db.session.commit()
        without_transaction()
        count = result_body(get_result(result_id, n))
    if "error" in count:  # the page's failure: the URL itself was accepted
        raise AppError(count["error"]["code"], count["error"]["message"], 422, headers)
    if count["status"] == Status.DONE:
        return count, 201, headers
    headers["Retry-After"] = retry_after(count)
    return count, 202, headers


@api.get("/counts/<int:result_id>")
def get_count(result_id: int) -> ResponseReturnValue:
    body = result_body(get_result(result_id, int_arg("n", TOP_WORDS, 1, MAX_TOP_WORDS)))
    response = current_app.json.response(body)
    if body["status"] in UNFINISHED:
        response.headers["Retry-After"] = retry_after(body)
    return response


@api.get("/counts")
def list_counts() -> ResponseReturnValue:
    limit = int_arg("limit", 20, 1, 100)
    before = int_arg("before", None, 1, MAX_ID + 1)
    n = int_arg("n", TOP_WORDS, 1, MAX_TOP_WORDS)
    rows = newest_results(before, limit + 1, n)
    items = [result_body(row) for row in rows[:limit]]
    more = len(rows) > limit
    next_url = (
        url_for(".list_counts", limit=limit, before=rows[limit - 1].id, n=n) if more else None
    )
    return {"items": items, "next": next_url}


@api.get("/openapi.json")
def openapi() -> Response:
    return current_app.response_class(OPENAPI_FILE.read_bytes(), mimetype="application/json")
