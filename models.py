"""The database object, column types every app needs, and your tables.

Alembic compares the models with the database: after changing them, run
``python manage.py db migrate`` and review the revision it writes. Models
defined elsewhere (a blueprint package's own ``models.py``) count too, once
the app imports them.
"""

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, DateTime, Dialect, MetaData, TypeDecorator
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
