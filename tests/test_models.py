"""The column types every app gets from models.py."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from models import UTCDateTime, utc_now

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
