"""The database object, its transactions, column types every app needs, and
your tables.

Alembic compares the models with the database: after changing them, run
``python manage.py db migrate`` and review the revision it writes. Models
defined elsewhere (a blueprint package's own ``models.py``) count too, once
the app imports them.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, DateTime, Dialect, Executable, MetaData, Result, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

# Every constraint and index is named by these patterns (SQLAlchemy's and
# Alembic's documented convention), the same on SQLite and PostgreSQL. Without
# them SQLite leaves a unique constraint nameless and PostgreSQL invents
# "<table>_<column>_key": a revision that drops one, written on one database,
# fails on the other, and autogenerate cannot see the change on SQLite.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """SQLAlchemy 2.0's typed declarative base, under every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# Tables subclass Model. At run time it is db.Model: Base plus
# Flask-SQLAlchemy's table names and binds. Type checkers see Base, since
# they cannot follow a base class held in an attribute (python/mypy#8603).
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


@contextmanager
def transaction() -> Iterator[None]:
    """Commit the session at the end of the block; roll it back when the
    block or the commit raises (the error goes on), so the session is
    usable after: an IntegrityError from COMMIT leaves no broken session."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


# HTTP's safe methods (RFC 9110): a request with one of them only reads.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def reads_only() -> bool:
    """True in a GET, HEAD or OPTIONS request: its connection is in
    autocommit and refuses writes (plumbing/database.py)."""
    return has_request_context() and request.method in SAFE_METHODS


def execute_alone(statement: Executable, params: Mapping[str, Any] | None = None) -> Result[Any]:
    """Run ``statement`` on its own, in autocommit, after committing what
    the session holds, and leave no transaction open: a read after a write
    has committed, or a write one statement makes atomic (``UPDATE ...
    RETURNING``). On PostgreSQL that is one round trip (no BEGIN, no
    COMMIT). The rows are read before it returns."""
    if reads_only():
        # Already so: nothing to commit, and autocommit from checkout. Not
        # switching it twice saves 0.12 of a JSON read's 0.70 CPU ms (bench/).
        return db.session.execute(statement, params)
    db.session.commit()
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    with transaction():  # ends the autocommit: the next statement is in a transaction again
        return db.session.execute(statement, params).freeze()()


# JSONB on PostgreSQL (binary, indexable), plain JSON elsewhere.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC.

    SQLite keeps no time zone and hands back naive values; this puts UTC back
    so the app only ever sees aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one, e.g. datetime.now(UTC)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utc_now() -> datetime:
    return datetime.now(UTC)


# Your tables go here, as classes of Model in the same typed style:
#
#     class Note(Model):
#         id: Mapped[int] = mapped_column(primary_key=True)
#         text: Mapped[str] = mapped_column(Text)
#         created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
