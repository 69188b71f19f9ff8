"""The example's table: one row per count, from the moment it is accepted."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models import JSONDocument, Model, UTCDateTime, utc_now


class Status(StrEnum):
    """A count's life: queued -> running -> done or failed. The row is the
    source of truth; a job in Redis only carries the work."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


UNFINISHED = (Status.QUEUED, Status.RUNNING)


class Count(Model):
    """One count of a page: its URL, its status and, once done, the words
    and how often each occurs, most frequent first.

    The counts are lists of ``[word, count]`` pairs rather than objects
    because JSONB does not keep the order of an object's keys.
    """

    __tablename__ = "counts"
    __table_args__ = (
        # Named ck_counts_status and uq_counts_idempotency_key by the
        # naming convention (models.py).
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        UniqueConstraint("idempotency_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What was asked for (normalized), and the page counted, after redirects.
    requested_url: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    status: Mapped[str] = mapped_column(String(16), default=Status.QUEUED, index=True)
    # Every change of status sets it: the sweep finds stale counts by it.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many times a worker started counting it; capped, so a page that
    # kills its worker every time fails instead of looping.
    attempts: Mapped[int] = mapped_column(default=0)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    # A client's Idempotency-Key header: a repeated POST gets this row back.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    total_words: Mapped[int | None]
    unique_words: Mapped[int | None]
    # [word, count] pairs: every word, and the words without stop words.
    all_words: Mapped[list[tuple[str, int]] | None] = mapped_column(JSONDocument)
    words: Mapped[list[tuple[str, int]] | None] = mapped_column(JSONDocument)

    def __repr__(self) -> str:
        return f"<Count {self.id} {self.status} {self.url}>"
