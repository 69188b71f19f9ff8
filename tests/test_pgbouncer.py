"""PgBouncer in transaction mode (Debian's pgbouncer, started here): what the
app needs from it, and what breaks without DB_PREPARED_STATEMENTS=false.
``make test-pgbouncer`` runs the PostgreSQL tests through it as well."""

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from config import ProductionConfig
from models import db
from tests.support.commands import manage
from tests.support.servers import PgBouncer
from web import create_app

pytestmark = pytest.mark.postgres
SETTINGS = {"SECRET_KEY": "s" * 32, "TRUSTED_HOSTS": "127.0.0.1"}


@pytest.fixture
def bouncer(postgres_admin):
    if shutil.which("pgbouncer") is None:
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    server = postgres_admin.url
    # Not under pytest's tmp_path: as root, pgbouncer runs as postgres, which
    # cannot enter root's private temporary folders.
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    bouncer = PgBouncer(folder, server.host, server.port or 5432)
    bouncer.start()
    yield bouncer
    bouncer.stop()
    shutil.rmtree(folder, ignore_errors=True)


def engine_through(bouncer: PgBouncer, database: str, prepared: str):
    url = bouncer.url(database.rsplit("/", 1)[1])
    config = ProductionConfig({**SETTINGS, "DATABASE_URL": url, "DB_PREPARED_STATEMENTS": prepared})
    return create_engine(config.SQLALCHEMY_DATABASE_URI, **config.SQLALCHEMY_ENGINE_OPTIONS)


def run_interleaved(engine, statements: int = 40) -> None:
    """The same query from several connections at once, each statement its
    own transaction: PgBouncer hands each to whichever server connection is
    free, as it does under load."""

    def work(_):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for _ in range(statements):
                connection.execute(
                    text("SELECT count(*) FROM pg_class WHERE relpages > :n"), {"n": 0}
                )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(8)))


def test_prepared_statements_break_behind_transaction_pooling(bouncer, postgres_url):
    engine = engine_through(bouncer, postgres_url, "true")
    try:
        missing = r"prepared statement \S+ (does not exist|already exists)"
        with pytest.raises(ProgrammingError, match=missing):
            run_interleaved(engine)
    finally:
        engine.dispose()


def test_db_prepared_statements_false_works_behind_transaction_pooling(bouncer, postgres_url):
    engine = engine_through(bouncer, postgres_url, "false")
    try:
        run_interleaved(engine)
    finally:
        engine.dispose()


def test_migrations_run_through_pgbouncer(bouncer, postgres_url):
    url = bouncer.url(postgres_url.rsplit("/", 1)[1])
    for command in (("upgrade",), ("check",), ("downgrade", "base"), ("upgrade",)):
        result = manage("db", *command, DATABASE_URL=url, DB_PREPARED_STATEMENTS="false")
        assert result.returncode == 0, result.stderr


def test_the_app_serves_through_pgbouncer(bouncer, postgres_url):
    url = bouncer.url(postgres_url.rsplit("/", 1)[1])
    app = create_app(
        ProductionConfig({**SETTINGS, "DATABASE_URL": url, "DB_PREPARED_STATEMENTS": "false"})
    )
    client = app.test_client()
    headers = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
    statuses = {client.get("/healthz", headers=headers).status_code for _ in range(20)}
    with app.app_context():
        db.engine.dispose()
    assert statuses == {200}
