"""The database object, column types every app needs, and your tables.

Alembic compares the models with the database: after changing them, run
``python manage.py db migrate`` and review the revision it writes. Models
defined elsewhere (a blueprint package's own ``models.py``) count too, once
the app imports them.
"""

from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB

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


# Your tables go here, as classes of db.Model in the same typed style:
#
#     class Note(db.Model):
#         id: Mapped[int] = mapped_column(primary_key=True)
#         text: Mapped[str] = mapped_column(Text)
#         created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
