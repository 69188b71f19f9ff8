"""Counts: accepting one, waiting for it, and the queries that read them.

The pages (pages.py) and the API (api.py) call these; the job that does
the counting is tasks.py's. Every read here is one statement run alone
(``execute_alone``): one round trip on PostgreSQL, in a GET as in a POST.
"""

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Row,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import JSONPATH
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from models import JSONDocument, UTCDateTime, db, execute_alone, transaction, utc_now
from wordcount.error_codes import Refused
from wordcount.fetching import FetchError, check_url
from wordcount.models import UNFINISHED, Count, Status
from wordcount.tasks import EXPIRED_MESSAGE, expired_before, submit_count

TOP_WORDS = 10
MAX_TOP_WORDS = 100
MAX_ID = 2**31 - 1  # ids are 32-bit integers
# How often a page or client following an unfinished count should look
# again: every second at first, less often as the count ages (a tenth of its
# age), at most every 30 seconds.
MIN_REFRESH_SECONDS = 1
MAX_REFRESH_SECONDS = 30
# A row of these queries: its columns are known by name, not by type.
CountRow = Row[*tuple[Any, ...]]


@dataclass(frozen=True)
class Accepted:
    """A count as accepted: stored queued, and handed to a worker."""

    id: int
    url: str
    created_at: datetime
    finished: bool  # counted already, inline (no worker): read it afresh


def accept(raw_url: str, idempotency_key: str | None = None) -> Accepted:
    """Store a queued count of ``raw_url`` and hand it to a worker (or
    count it now when there is no queue). A URL that is not valid, or whose
    host is plainly private, is refused (``Refused``, nothing stored); every
    other failure is the count's outcome, stored on its row."""
    try:
        url = check_url(raw_url)
    except FetchError as error:
        raise Refused(error.code, error.message) from None
    count = Count(url=url, requested_url=url, idempotency_key=idempotency_key)
    with transaction():
        db.session.add(count)
        db.session.flush()  # INSERT ... RETURNING id
        count_id, created_at = count.id, count.created_at
    return Accepted(count_id, url, created_at, finished=submit_count(count_id))


def accept_once(raw_url: str, key: str | None) -> tuple[int, Accepted | None]:
    """``accept``, unless a count with the same Idempotency-Key exists:
    then that count's id, and None."""
    if key is not None and (earlier := find_by_key(key)) is not None:
        return replay(earlier, raw_url), None
    try:
        accepted = accept(raw_url, key)
    except IntegrityError:  # a concurrent request with the same key won
        earlier = find_by_key(key) if key is not None else None
        if earlier is None:  # not the key's constraint
            raise
        return replay(earlier, raw_url), None
    return accepted.id, accepted


def find_by_key(key: str) -> Row[tuple[int, str | None]] | None:
    query = select(Count.id, Count.requested_url).where(Count.idempotency_key == key)
    return execute_alone(query).first()


def replay(earlier: Row[tuple[int, str | None]], raw_url: str) -> int:
    try:
        same = check_url(raw_url) == earlier.requested_url
    except FetchError:
        same = False
    if not same:
        raise Refused(
            "idempotency_key_reused",
            "This Idempotency-Key was used for another URL; use a new key.",
        )
    return int(earlier.id)


def wait_for(count_id: int, seconds: float) -> None:
    """Wait up to ``seconds`` for the count to finish, reading its status
    with a short, growing pause: one round trip a look, no transaction."""
    deadline = time.monotonic() + seconds
    pause = 0.05
    while time.monotonic() < deadline:
        status = execute_alone(select(Count.status).where(Count.id == count_id)).scalar()
        if status not in UNFINISHED:
            return
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 0.5)


def refresh_seconds(created_at: datetime) -> int:
    age = (utc_now() - created_at).total_seconds()
    return int(min(max(age / 10, MIN_REFRESH_SECONDS), MAX_REFRESH_SECONDS))


# --- Queries ------------------------------------------------------------------


class top_pairs(FunctionElement[Any]):
    """``top_pairs(column, n)``: the first ``n`` [word, count] pairs of a
    words column, sliced in the database: reading a page with 50,000
    distinct words costs no more than one with ten, because the full list
    never leaves the database. Compiled for each database below."""

    type = JSONDocument
    inherit_cache = True


@compiles(top_pairs, "postgresql")
def _top_pairs_postgresql(element: top_pairs, compiler: SQLCompiler, **kw: Any) -> str:
    column, n = element.clauses
    path = cast(constant("$[0 to $last]"), JSONPATH)
    last = func.jsonb_build_object(constant("last"), n - constant(1))
    return compiler.process(func.jsonb_path_query_array(column, path, last), **kw)


@compiles(top_pairs, "sqlite")
def _top_pairs_sqlite(element: top_pairs, compiler: SQLCompiler, **kw: Any) -> str:
    column, n = element.clauses
    pairs = func.json_each(column).table_valued("key", "value")
    first = select(func.json_group_array(func.json(pairs.c.value))).where(pairs.c.key < n)
    return compiler.process(first.scalar_subquery(), **kw)


def constant(value: str | int) -> ColumnElement[Any]:
    """``value`` written into the statement's SQL. ``literal()`` would send
    it as a parameter, and every parameter is processed on every execution:
    11 of the read's 15 were constants (bench/)."""
    if isinstance(value, int):
        return literal_column(str(value), Integer)
    return literal_column("'" + value.replace("'", "''") + "'", String)


# The queries are built once, with their values as parameters: SQLAlchemy
# then neither rebuilds nor re-hashes them on every request (bench/ measures
# it). They select the table's columns, not the model's: a read that builds
# no objects skips the ORM's per-row work, a third of a request's time.
COUNTS = Count.__table__.c
# A count past its deadline reads as failed ("expired") whether or not a
# worker is there to store it: ``expired_before`` is bound on every read.
# The statuses as constants: a list given to in_() is an "expanding"
# parameter, which SQLAlchemy renders again on every execution (bench/).
EXPIRED = and_(
    COUNTS.status.in_([constant(status.value) for status in UNFINISHED]),
    COUNTS.created_at <= bindparam("expired_before", type_=UTCDateTime),
)
SUMMARY = (
    COUNTS.id,
    COUNTS.url,
    COUNTS.requested_url,
    case((EXPIRED, constant(Status.FAILED.value)), else_=COUNTS.status).label("status"),
    COUNTS.created_at,
    case((EXPIRED, bindparam("now", type_=UTCDateTime)), else_=COUNTS.finished_at).label(
        "finished_at"
    ),
    case((EXPIRED, constant("expired")), else_=COUNTS.error_code).label("error_code"),
    case((EXPIRED, constant(EXPIRED_MESSAGE)), else_=COUNTS.error_message).label("error_message"),
    COUNTS.total_words,
    COUNTS.unique_words,
)
TOP_WORDS_COLUMNS = (
    top_pairs(COUNTS.words, bindparam("n", type_=Integer)).label("top_words"),
    top_pairs(COUNTS.all_words, bindparam("n", type_=Integer)).label("top_all_words"),
)
# Keyset pagination (id < before) and an index: a page costs the same
# however many rows the table holds.
NEWEST = (
    select(*SUMMARY)
    .where(COUNTS.id < bindparam("before", type_=BigInteger))
    .order_by(COUNTS.id.desc())
    .limit(bindparam("limit", type_=Integer))
)
NEWEST_WITH_TOP_WORDS = NEWEST.add_columns(*TOP_WORDS_COLUMNS)
COUNT_BY_ID = select(*SUMMARY, *TOP_WORDS_COLUMNS).where(COUNTS.id == bindparam("count_id"))


def read_time() -> dict[str, datetime]:
    """The parameters every read binds: now, and the deadline's edge."""
    return {"now": utc_now(), "expired_before": expired_before()}


def get_or_404(count_id: int, n: int = TOP_WORDS) -> CountRow:
    """The count with its top ``n`` words; 404 when there is none."""
    # An id the column cannot hold would make PostgreSQL raise, not miss.
    row = None
    if count_id <= MAX_ID:
        row = execute_alone(COUNT_BY_ID, {"count_id": count_id, "n": n, **read_time()}).first()
    if row is None:
        abort(404, description=f"No count with id {count_id}.")
    return row


def newest(before: int | None, limit: int, n: int | None = None) -> list[CountRow]:
    """Counts newest first, with ids below ``before``, and their top ``n``
    words when ``n`` is given."""
    query, values = NEWEST, {"before": before or MAX_ID + 1, "limit": limit, **read_time()}
    if n is not None:
        query, values = NEWEST_WITH_TOP_WORDS, {**values, "n": n}
    return list(execute_alone(query, values))
