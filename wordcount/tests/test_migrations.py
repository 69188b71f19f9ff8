"""The example's revision: its table and column types on each database."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from config import sqlalchemy_url
from tests.support.commands import manage


def test_the_word_columns_are_jsonb_on_postgresql(postgres_url):
    assert manage("db", "upgrade", DATABASE_URL=postgres_url).returncode == 0
    engine = create_engine(sqlalchemy_url(postgres_url))
    with engine.connect() as connection:
        types: dict[str, str] = dict(
            connection.execute(
                text(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = 'counts'"
                )
            ).all()
        )
    engine.dispose()
    assert types["all_words"] == types["words"] == "jsonb"
    assert types["created_at"] == "timestamp with time zone"


def test_routes_list_the_api():
    result = manage("routes")
    assert "wordcount_api.create_count  POST" in result.stdout


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path) -> str:
    """An empty database of the test's own, on each database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'counts.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def test_the_status_revision_keeps_existing_counts_and_downgrades(url):
    assert manage("db", "upgrade", "0001", DATABASE_URL=url).returncode == 0
    engine = create_engine(sqlalchemy_url(url))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO results (url, created_at, total_words, unique_words, result_all, "
                "result_no_stop_words) VALUES ('http://a.example/', :at, 3, 2, "
                '\'[["a", 2], ["b", 1]]\', \'[["b", 1]]\')'
            ),
            {"at": "2026-01-02 03:04:05+00:00"},
        )

    assert manage("db", "upgrade", "0002", DATABASE_URL=url).returncode == 0
    with engine.begin() as connection:
        row = connection.execute(
            text("SELECT status, attempts, requested_url, total_words FROM results")
        ).one()
        assert tuple(row) == ("done", 1, "http://a.example/", 3)
        connection.execute(
            text(
                "INSERT INTO results (url, requested_url, created_at, updated_at, status, "
                "attempts) VALUES ('http://b.example/', 'http://b.example/', :at, :at, 'queued', 0)"
            ),
            {"at": "2026-01-02 03:04:05+00:00"},
        )
        with pytest.raises(IntegrityError), connection.begin_nested():
            connection.execute(text("UPDATE results SET status = 'lost'"))

    downgrade = manage("db", "downgrade", "0001", DATABASE_URL=url)
    assert downgrade.returncode == 0, downgrade.stderr
    with engine.connect() as connection:
        # The old table cannot hold an unfinished count; the done one stays whole.
        rows = connection.execute(text("SELECT url, total_words FROM results")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("http://a.example/", 3)]


def test_the_rename_to_counts_keeps_every_row_both_ways(url):
    assert manage("db", "upgrade", "0002", DATABASE_URL=url).returncode == 0
    engine = create_engine(sqlalchemy_url(url))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO results (url, requested_url, created_at, updated_at, status, "
                "attempts, result_all, result_no_stop_words, idempotency_key) VALUES "
                "('http://a.example/', 'http://a.example/', :at, :at, 'done', 1, "
                "'[[\"a\", 2]]', '[[\"b\", 1]]', 'k1')"
            ),
            {"at": "2026-01-02 03:04:05+00:00"},
        )
    upgrade = manage("db", "upgrade", DATABASE_URL=url)
    assert upgrade.returncode == 0, upgrade.stderr
    with engine.begin() as connection:
        row = connection.execute(text("SELECT url, all_words, words FROM counts")).one()
        assert row.url == "http://a.example/"
        # The constraints came along, under their new names.
        with pytest.raises(IntegrityError), connection.begin_nested():
            connection.execute(text("UPDATE counts SET status = 'lost'"))
        with pytest.raises(IntegrityError), connection.begin_nested():
            connection.execute(
                text(
                    "INSERT INTO counts (url, created_at, updated_at, status, attempts, "
                    "idempotency_key) VALUES ('http://b.example/', :at, :at, 'queued', 0, 'k1')"
                ),
                {"at": "2026-01-02 03:04:05+00:00"},
            )
    downgrade = manage("db", "downgrade", "0002", DATABASE_URL=url)
    assert downgrade.returncode == 0, downgrade.stderr
    with engine.connect() as connection:
        urls = connection.execute(text("SELECT url FROM results")).scalars().all()
    engine.dispose()
    assert urls == ["http://a.example/"]
