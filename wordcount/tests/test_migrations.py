"""The example's revision: its table and column types on each database."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from config import sqlalchemy_url
from tests.helpers import manage


def test_results_columns_are_jsonb_on_postgresql(postgres_url):
    assert manage("db", "upgrade", DATABASE_URL=postgres_url).returncode == 0
    engine = create_engine(sqlalchemy_url(postgres_url))
    with engine.connect() as connection:
        types: dict[str, str] = dict(
            connection.execute(
                text(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = 'results'"
                )
            ).all()
        )
    engine.dispose()
    assert types["result_all"] == types["result_no_stop_words"] == "jsonb"
    assert types["created_at"] == "timestamp with time zone"


def test_routes_list_the_api():
    result = manage("routes")
    assert "wordcount_api.create_count  POST" in result.stdout


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_status_revision_keeps_existing_counts_and_downgrades(database, request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'counts.sqlite3'}"
        if database == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
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

    assert manage("db", "upgrade", DATABASE_URL=url).returncode == 0
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
