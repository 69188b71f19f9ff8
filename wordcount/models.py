"""The example's table: one row per counted page."""

from datetime import datetime

from sqlalchemy import Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from models import JSONDocument, UTCDateTime, db, utc_now


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
