"""The example's revision: its table and column types on each database."""

from sqlalchemy import create_engine, text

from config import sqlalchemy_url
from tests.helpers import manage


def test_results_columns_are_jsonb_on_postgresql(postgres_url):
    assert manage("db", "upgrade", DATABASE_URL=postgres_url).returncode == 0
    engine = create_engine(sqlalchemy_url(postgres_url))
    with engine.connect() as connection:
        types = dict(connection.execute(text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'results'")).all())
    engine.dispose()
    assert types["result_all"] == types["result_no_stop_words"] == "jsonb"
    assert types["created_at"] == "timestamp with time zone"


def test_routes_list_the_api():
    result = manage("routes")
    assert "wordcount_api.create_count  POST" in result.stdout
