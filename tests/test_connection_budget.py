"""``python manage.py db connections``: a formation's connections against
the database's limit (plumbing/connection_budget.py)."""

import pytest

from tests.support.commands import manage

pytestmark = pytest.mark.postgres

# One web process holds DB_POOL_SIZE 5 + DB_MAX_OVERFLOW 2 = 7 connections;
# a worker process and its work horse 2; one one-off dyno 7.
FORMATIONS = [
    # (dynos and processes, web, worker, total): Basic dynos, 2 processes each.
    (["--web", "1", "--worker", "1", "--web-concurrency", "2"], 14, 8, 29),
    # Standard-2X: the buildpack sets WEB_CONCURRENCY=4.
    (["--web", "2", "--worker", "1", "--web-concurrency", "4"], 56, 8, 71),
    # One Performance-L dyno: WEB_CONCURRENCY=17.
    (["--web", "1", "--worker", "1", "--web-concurrency", "17"], 119, 8, 134),
]


def max_connections(url: str) -> int:
    script = "print('limit', db.session.scalar(db.text('SHOW max_connections')))"
    output = manage("shell", input=script, DATABASE_URL=url).stdout
    return int(output.split("limit ", 1)[1].split()[0])


@pytest.mark.parametrize("options, web, worker, total", FORMATIONS)
def test_the_budget_of_a_formation_is_printed_against_the_servers_limit(
    postgres_url, options, web, worker, total
):
    limit = max_connections(postgres_url)
    result = manage("db", "connections", *options, "--warn-only", DATABASE_URL=postgres_url)
    assert result.returncode == 0, result.stderr
    assert f" = {web}\n" in result.stdout.split("worker:")[0]
    assert f" = {worker}\n" in result.stdout.split("worker:")[1]
    assert f"total: {total} of max_connections {limit} (" in result.stdout
    over = "Warning: this formation may open" in result.stderr
    assert over is (total > limit)


def test_over_the_limit_fails_unless_only_warned(postgres_url):
    options = ["--web", "10", "--web-concurrency", "17"]  # 10 x 17 x 7 = 1,190
    result = manage("db", "connections", *options, DATABASE_URL=postgres_url)
    assert result.returncode == 1
    assert "Error: this formation may open 1205 connections, over the database's" in result.stderr


def test_sqlite_has_no_connection_budget(tmp_path):
    result = manage("db", "connections", DATABASE_URL=f"sqlite:///{tmp_path / 'app.sqlite3'}")
    assert (result.returncode, result.stdout) == (0, "SQLite: no connection limit to budget.\n")
