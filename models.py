"""The database object and the tables.

Alembic compares these classes with the database: after changing them, run
``python manage.py db migrate`` and review the revision it writes.
"""

from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, DateTime, Integer, Text, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

db = SQLAlchemy()

# JSONB on PostgreSQL (binary, indexable), plain JSON elsewhere.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime, stored in UTC.

    SQLite keeps no time zone and hands back naive values; this puts UTC back
    so the app only ever sees aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one, e.g. datetime.now(UTC)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utc_now() -> datetime:
    return datetime.now(UTC)


class Result(db.Model):
    """One counted page: its URL and the word counts, most frequent first.

    The counts are lists of ``[word, count]`` pairs rather than objects
    because JSONB does not keep the order of an object's keys.
    """

    __tablename__ = "results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    total_words: Mapped[int]
    unique_words: Mapped[int]
    result_all: Mapped[list] = mapped_column(JSONDocument)
    result_no_stop_words: Mapped[list] = mapped_column(JSONDocument)

    def __repr__(self) -> str:
        return f"<Result {self.id} {self.url}>"
