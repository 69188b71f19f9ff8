"""Wordcount's pages and JSON API.

The logic lives in ``counting`` and ``fetching``; this module only turns
requests into calls to them and results into responses.
"""

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy import BigInteger, Integer, Row, bindparam, cast, func, literal, select
from sqlalchemy.dialects.postgresql import JSONPATH
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from wtforms import StringField
from wtforms.validators import InputRequired

from errors import AppError
from models import JSONDocument, db
from wordcount.counting import count_page
from wordcount.fetching import FetchError, FetchLimits, fetch_page
from wordcount.models import Result

bp = Blueprint("wordcount", __name__, template_folder="templates")
api = Blueprint("wordcount_api", __name__, url_prefix="/api")

OPENAPI_FILE = Path(__file__).with_name("openapi.json")
STATUS_FOR_FETCH_ERROR = {"invalid_url": 400, "blocked_url": 400}  # others: 422
TOP_WORDS = 10
MAX_TOP_WORDS = 100
HISTORY_PAGE_SIZE = 50
LATEST_ON_INDEX = 10


class URLForm(FlaskForm):
    url = StringField("Page URL", validators=[InputRequired("Enter a URL to count.")])


def count_url(url: str) -> Result:
    """Fetch ``url``, count its words and store the result."""
    config = current_app.config
    limits = FetchLimits(
        timeout=config["WORDCOUNT_FETCH_TIMEOUT"],
        max_bytes=config["WORDCOUNT_MAX_BYTES"],
        allow_private_hosts=config["WORDCOUNT_ALLOW_PRIVATE_HOSTS"],
    )
    try:
        page = fetch_page(url, limits)
    except FetchError as error:
        status = STATUS_FOR_FETCH_ERROR.get(error.code, 422)
        raise AppError(error.code, error.message, status) from None
    counts = count_page(page.body, page.charset)
    result = Result(
        url=page.url,
        total_words=counts.total_words,
        unique_words=counts.unique_words,
        result_all=counts.all_words,
        result_no_stop_words=counts.no_stop_words,
    )
    db.session.add(result)
    db.session.commit()
    return result


class top_pairs(FunctionElement):
    """``top_pairs(column, n)``: the first ``n`` [word, count] pairs of a
    counts column, sliced in the database: reading a page with 50,000
    distinct words costs no more than one with ten, because the full list
    never leaves the database. Compiled for each database below."""

    type = JSONDocument
    inherit_cache = True


@compiles(top_pairs, "postgresql")
def _top_pairs_postgresql(element: top_pairs, compiler, **kw) -> str:
    column, n = element.clauses
    path = cast(literal("$[0 to $last]"), JSONPATH)
    last = func.jsonb_build_object("last", n - 1)
    return compiler.process(func.jsonb_path_query_array(column, path, last), **kw)


@compiles(top_pairs, "sqlite")
def _top_pairs_sqlite(element: top_pairs, compiler, **kw) -> str:
    column, n = element.clauses
    pairs = func.json_each(column).table_valued("key", "value")
    first = select(func.json_group_array(func.json(pairs.c.value))).where(pairs.c.key < n)
    return compiler.process(first.scalar_subquery(), **kw)


# The queries are built once, with their values as parameters: SQLAlchemy
# then neither rebuilds nor re-hashes them on every request (bench/ measures it).
SUMMARY = (Result.id, Result.url, Result.created_at, Result.total_words, Result.unique_words)
TOP_WORDS_COLUMNS = (
    top_pairs(Result.result_no_stop_words, bindparam("n", type_=Integer)).label("top_words"),
    top_pairs(Result.result_all, bindparam("n", type_=Integer)).label("top_words_all"),
)
# Keyset pagination (id < before) and an index: a page costs the same
# however many rows the table holds.
NEWEST = (select(*SUMMARY).where(Result.id < bindparam("before", type_=BigInteger))
          .order_by(Result.id.desc()).limit(bindparam("limit", type_=Integer)))
NEWEST_WITH_TOP_WORDS = NEWEST.add_columns(*TOP_WORDS_COLUMNS)
RESULT_BY_ID = select(*SUMMARY, *TOP_WORDS_COLUMNS).where(Result.id == bindparam("result_id"))
MAX_ID = 2**31 - 1  # ids are 32-bit integers
ASCII_NUMBER = re.compile(r"[0-9]{1,19}")


def get_result(result_id: int, n: int = TOP_WORDS) -> Row:
    # An id the column cannot hold would make PostgreSQL raise, not miss.
    row = None
    if result_id <= MAX_ID:
        row = db.session.execute(RESULT_BY_ID, {"result_id": result_id, "n": n}).first()
    if row is None:
        abort(404, description=f"No result with id {result_id}.")
    return row


def newest_results(before: int | None, limit: int, n: int | None = None) -> list[Row]:
    """Results newest first, with ids below ``before``, and their top ``n``
    words when ``n`` is given."""
    query, values = NEWEST, {"before": before or MAX_ID + 1, "limit": limit}
    if n is not None:
        query, values = NEWEST_WITH_TOP_WORDS, {**values, "n": n}
    return list(db.session.execute(query, values))


# --- Pages -------------------------------------------------------------------

@bp.get("/")
def index():
    return render_index(URLForm())


@bp.post("/")
def submit():
    form = URLForm()
    if not form.validate_on_submit():
        return render_index(form), 400
    try:
        result = count_url(form.url.data)
    except AppError as error:
        return render_index(form, error.message), error.status
    return redirect(url_for(".result", result_id=result.id), code=303)


@bp.errorhandler(CSRFError)
def form_expired(error: CSRFError):
    # Show the form again with the URL kept, rather than a bare error page.
    return render_index(URLForm(), "The form expired; please submit it again."), 400


def render_index(form: URLForm, error: str | None = None):
    latest = newest_results(None, LATEST_ON_INDEX)
    return render_template("wordcount/index.html", form=form, error=error, latest=latest)


@bp.get("/results/<int:result_id>")
def result(result_id: int):
    return render_template("wordcount/result.html", result=get_result(result_id))


@bp.get("/history")
def history():
    before = int_arg("before", None, 1, MAX_ID + 1)
    rows = newest_results(before, HISTORY_PAGE_SIZE + 1)
    older = rows[-2].id if len(rows) > HISTORY_PAGE_SIZE else None
    return render_template("wordcount/history.html", results=rows[:HISTORY_PAGE_SIZE], older=older)


# --- JSON API ----------------------------------------------------------------

def int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    """A query parameter of ASCII digits within [low, high] (str.isdigit
    would also take '²' and '٣', which int() refuses or reads as 3)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not ASCII_NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        raise AppError("bad_request", f"{name} must be a whole number from {low} to {high}.")
    return int(raw)


def result_body(row: Row) -> dict:
    return {
        "id": row.id,
        "url": row.url,
        "created_at": row.created_at.isoformat(),
        "total_words": row.total_words,
        "unique_words": row.unique_words,
        "top_words": [{"word": w, "count": c} for w, c in row.top_words],
        "top_words_all": [{"word": w, "count": c} for w, c in row.top_words_all],
    }


@api.post("/counts")
def create_count():
    if not request.is_json:
        raise AppError("unsupported_media_type",
                       "Send the request body as application/json.", 415)
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than Python's JSON decoder goes
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("url"), str):
        raise AppError("bad_request", 'Send a JSON object such as {"url": "https://example.com/"}.')
    n = int_arg("n", TOP_WORDS, 1, MAX_TOP_WORDS)
    result = count_url(payload["url"])
    location = url_for(".get_count", result_id=result.id)
    return result_body(get_result(result.id, n)), 201, {"Location": location}


@api.get("/counts/<int:result_id>")
def get_count(result_id: int):
    return result_body(get_result(result_id, int_arg("n", TOP_WORDS, 1, MAX_TOP_WORDS)))


@api.get("/counts")
def list_counts():
    limit = int_arg("limit", 20, 1, 100)
    before = int_arg("before", None, 1, MAX_ID + 1)
    n = int_arg("n", TOP_WORDS, 1, MAX_TOP_WORDS)
    rows = newest_results(before, limit + 1, n)
    items = [result_body(row) for row in rows[:limit]]
    more = len(rows) > limit
    next_url = (url_for(".list_counts", limit=limit, before=rows[limit - 1].id, n=n)
                if more else None)
    return {"items": items, "next": next_url}


@api.get("/openapi.json")
def openapi():
    return current_app.response_class(OPENAPI_FILE.read_bytes(), mimetype="application/json")
