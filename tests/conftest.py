"""Fixtures: the app on SQLite and PostgreSQL, and a CLI runner.

PostgreSQL: tests create and drop their own databases on the server named by
TEST_DATABASE_URL (default: the local server). Without a server they skip,
saying why; with REQUIRE_POSTGRES=1 (CI) they fail instead.

These fixtures know nothing of any blueprint or table: they serve the
template's own tests and, imported, those of your app.
"""

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.helpers import isolate_environment

# Before the app is imported: web.py builds one from the environment, and a
# developer's .env or exported settings must not change what a test sees.
isolate_environment()

import flask_migrate  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import create_engine, delete, text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from config import TestingConfig, sqlalchemy_url  # noqa: E402
from models import db  # noqa: E402
from web import create_app  # noqa: E402

POSTGRES_SERVER = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Test databases start with this prefix, so a leftover one is easy to spot.
TEST_DATABASE_PREFIX = "hcfa_test_"


# --- PostgreSQL ----------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_admin():
    """An AUTOCOMMIT engine on the test server, for CREATE/DROP DATABASE."""
    engine = create_engine(sqlalchemy_url(POSTGRES_SERVER), isolation_level="AUTOCOMMIT",
                           connect_args={"connect_timeout": 5})
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        reason = f"no PostgreSQL server at TEST_DATABASE_URL={POSTGRES_SERVER}: {error.orig}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def make_postgres_database(postgres_admin) -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty databases, all dropped at the end."""
    created = []

    def make() -> str:
        name = f"{TEST_DATABASE_PREFIX}{uuid.uuid4().hex[:12]}"
        with postgres_admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return postgres_admin.url.set(database=name).render_as_string(hide_password=False)

    yield make
    with postgres_admin.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_database(make_postgres_database) -> str:
    """One migrated database shared by the app tests (emptied after each)."""
    url = make_postgres_database()
    app = create_app(TestingConfig({"TEST_DATABASE_URL": url}))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def postgres_url(make_postgres_database) -> str:
    """A fresh, empty database of this test's own."""
    return make_postgres_database()


# --- The app -------------------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request) -> Iterator[Flask]:
    """The app with a migrated, empty database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        url = "sqlite://"
    else:
        url = request.getfixturevalue("postgres_database")
    app = create_app(TestingConfig({"TEST_DATABASE_URL": url}))
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        if request.param == "sqlite":
            flask_migrate.upgrade()
    yield app
    with app.app_context():
        if request.param == "postgresql":
            empty_every_table()
        db.session.remove()
        db.engine.dispose()


def empty_every_table() -> None:
    """Delete every row of every model's table, children first, and restart
    PostgreSQL's id sequences, so the next test starts from id 1."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    db.session.execute(text(
        "SELECT setval(s.oid::regclass, 1, false) FROM pg_class s WHERE s.relkind = 'S'"))
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
