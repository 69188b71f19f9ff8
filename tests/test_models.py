"""The column types every app gets from models.py."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from models import UTCDateTime, db, utc_now

DIALECT = sqlite.dialect()


def test_utc_datetime_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="naive datetime: pass an aware one"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1, 12), DIALECT)


def test_utc_datetime_stores_utc_and_reads_back_aware():
    paris = timezone(timedelta(hours=1))
    stored = UTCDateTime().process_bind_param(datetime(2026, 1, 1, 13, tzinfo=paris), DIALECT)
    assert stored == datetime(2026, 1, 1, 12, tzinfo=UTC) and stored.tzinfo == UTC
    read = UTCDateTime().process_result_value(datetime(2026, 1, 1, 12), DIALECT)
    assert read == datetime(2026, 1, 1, 12, tzinfo=UTC)
    aware = datetime(2026, 1, 1, 13, tzinfo=paris)  # PostgreSQL hands back aware values
    assert UTCDateTime().process_result_value(aware, DIALECT) is aware


def test_utc_now_is_aware_and_in_utc():
    assert utc_now().tzinfo is UTC


def test_a_foreign_key_is_enforced_on_sqlite_as_on_postgresql(app):
    # SQLite checks foreign keys only when asked to (plumbing/database.py asks).
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE probe_parents (id INTEGER PRIMARY KEY)"))
            connection.execute(
                text(
                    "CREATE TABLE probe_children (id INTEGER PRIMARY KEY, parent_id INTEGER "
                    "REFERENCES probe_parents (id) ON DELETE CASCADE)"
                )
            )
            connection.execute(text("INSERT INTO probe_parents (id) VALUES (1)"))
            connection.execute(text("INSERT INTO probe_children (id, parent_id) VALUES (1, 1)"))
        try:
            with pytest.raises(IntegrityError), db.engine.begin() as connection:
                connection.execute(text("INSERT INTO probe_children (id, parent_id) VALUES (2, 9)"))
            with db.engine.begin() as connection:
                connection.execute(text("DELETE FROM probe_parents"))
                assert connection.scalar(text("SELECT count(*) FROM probe_children")) == 0
        finally:
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE probe_children"))
                connection.execute(text("DROP TABLE probe_parents"))
