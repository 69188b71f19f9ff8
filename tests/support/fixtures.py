"""Fixtures: the app on SQLite and PostgreSQL, and a CLI runner.

PostgreSQL: tests create and drop their own databases on the server named by
TEST_DATABASE_URL (default: the local server). Without a server they skip,
saying why; with REQUIRE_POSTGRES=1 (CI) they fail instead.

Redis: each test process starts a private ``redis-server`` of its own on a
free port, so no test writes to a server it did not start; TEST_REDIS_URL
names a server to use instead (the tests then own that database and empty
it). Without ``redis-server`` they skip, saying why; with REQUIRE_REDIS=1
(CI) they fail instead.

Killed runs leave nothing behind for long: test databases are named after
the machine and the process that made them, and a later run drops those of
processes that are gone.

These fixtures know nothing of any blueprint or table: they serve the
tests of the plumbing and those of every package (a plugin, loaded by
pyproject.toml's addopts, so a package's conftest.py imports nothing).
docs/testing.md lists them, with examples.
"""

import hashlib
import os
import re
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import flask_migrate
import pytest
from flask import Flask
from hypothesis import settings
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import create_engine, delete, text
from sqlalchemy.exc import OperationalError

from config import TestingConfig, sqlalchemy_url
from models import db
from tests.network_guard.plugin import guard_log
from tests.support.environment import isolate_environment
from tests.support.local_site import LocalSite
from tests.support.processes import Dyno, worker_dyno
from tests.support.round_trips import RoundTrips
from tests.support.servers import RedisServer
from web import create_app

# >>> accounts
# With accounts: a verified user, a client logged in as that user, and the
# mail the app sent (tests/support/users.py; its app_settings sends the
# app fixture's mail to the outbox).
pytest_plugins = ["tests.support.users"]

# <<< accounts
# A developer's .env or exported settings must not change what a test sees
# (the app reads settings when it is built, from the mapping it is given;
# manage.py and the servers tests start read the environment).
isolate_environment()
# Nothing a test runs may reach past loopback (tests/network_guard).
guard_log()
# Property tests judge results, never speed: no deadline (a loaded 2-core
# machine once took 200 ms on a correct case), and a failure prints the blob
# that replays it. make test prints its random seed and takes HYPOTHESIS_SEED=N.
settings.register_profile("suite", deadline=None, print_blob=True)
settings.load_profile("suite")

POSTGRES_SERVER = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Test databases start with this prefix, so a leftover one is easy to spot,
# then name this machine and the process that made them (see drop_leftovers).
TEST_DATABASE_PREFIX = "hcfa_test_"
THIS_MACHINE = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def redis_test_url(url: str) -> str:
    """TEST_REDIS_URL, when given. Under pytest-xdist, each worker owns its
    own database: gw0 the one named (15 when the URL names none, as Heroku
    CI's in-dyno Redis does not), gw1 the number below it, and so on."""
    parts = urlsplit(url)
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    database = int(parts.path.strip("/") or 15) - worker
    return parts._replace(path=f"/{database}").geturl()


def testing_config(database: str, **settings: str) -> TestingConfig:
    """TestingConfig on ``database``. Under ``make test-pgbouncer``,
    TEST_DB_PREPARED_STATEMENTS=false turns prepared statements off, as
    PgBouncer's transaction mode needs."""
    prepared = os.environ.get("TEST_DB_PREPARED_STATEMENTS")
    if prepared:
        settings["DB_PREPARED_STATEMENTS"] = prepared
    return TestingConfig({"TEST_DATABASE_URL": database, **settings})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The slow tests first: make test's two processes take test files in
    # this order, so one runs them while the other runs the rest.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# --- PostgreSQL ----------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_admin():
    """An AUTOCOMMIT engine on the test server, for CREATE/DROP DATABASE."""
    engine = create_engine(
        sqlalchemy_url(POSTGRES_SERVER),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        reason = f"no PostgreSQL server at TEST_DATABASE_URL={POSTGRES_SERVER}: {error.orig}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    drop_leftovers(engine)
    yield engine
    engine.dispose()


def drop_leftovers(admin) -> None:
    """Drop the test databases that this machine's killed runs left: those
    whose process is gone (another machine's are left alone)."""
    mine = re.compile(rf"{TEST_DATABASE_PREFIX}{THIS_MACHINE}_(\d+)_[0-9a-f]+")
    with admin.connect() as connection:
        names = connection.scalars(
            text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
            {"prefix": f"{TEST_DATABASE_PREFIX}%"},
        ).all()
        for name in names:
            match = mine.fullmatch(name)
            if match and not process_alive(int(match.group(1))):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


@pytest.fixture(scope="session")
def make_postgres_database(postgres_admin) -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty databases, all dropped at the end."""
    created = []

    def make() -> str:
        name = f"{TEST_DATABASE_PREFIX}{THIS_MACHINE}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
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
    app = create_app(testing_config(url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def postgres_url(make_postgres_database) -> str:
    """A fresh, empty database of this test's own."""
    return make_postgres_database()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """A fresh, empty database of this test's own: once SQLite, once PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return request.getfixturevalue("postgres_url")


# --- Round trips ----------------------------------------------------------------


@pytest.fixture
def round_trips(app, tmp_path) -> Iterator[RoundTrips]:
    """Counts the app's round trips to PostgreSQL (its tests skip on SQLite)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("round trips are counted on PostgreSQL")
    counter = RoundTrips(engine, tmp_path)
    yield counter
    counter.close()


# --- Redis ---------------------------------------------------------------------


def require_redis(reason: str) -> None:
    if os.environ.get("REQUIRE_REDIS") == "1":
        pytest.fail(reason + " (REQUIRE_REDIS=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[str]:
    """The URL of the Redis database the tests own: on a private
    redis-server this test process starts (and stops), or TEST_REDIS_URL's."""
    if os.environ.get("TEST_REDIS_URL"):
        url = redis_test_url(os.environ["TEST_REDIS_URL"])
        client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        try:
            client.ping()
        except RedisError as error:
            require_redis(f"no Redis server at TEST_REDIS_URL={url}: {error}")
        finally:
            client.close()
        yield url
        return
    if shutil.which("redis-server") is None:
        require_redis("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> Iterator[str]:
    """The tests' Redis database, empty at the start and end of the test."""
    client = Redis.from_url(redis_server, socket_timeout=5)
    client.flushdb()
    yield redis_server
    client.flushdb()
    client.close()


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, to restart or flush."""
    if shutil.which("redis-server") is None:
        require_redis("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


# >>> accounts|example
# --- A browser -----------------------------------------------------------------


@pytest.fixture
def browser():
    """Headless Chromium; skipped without it, failed without it in CI."""
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: apt-get install -y chromium")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# <<< accounts|example
# --- Web sites to fetch ---------------------------------------------------------


@pytest.fixture(scope="session")
def _site_server() -> Iterator[LocalSite]:
    site = LocalSite()
    yield site
    site.close()


@pytest.fixture
def local_site(_site_server) -> LocalSite:
    """A web site on 127.0.0.1 with no pages yet: ``local_site.add(path,
    body)`` returns the URL of a page."""
    _site_server.routes.clear()
    _site_server.requests.clear()
    return _site_server


# --- The app -------------------------------------------------------------------


@pytest.fixture
def app_settings() -> dict[str, str]:
    """Settings of the ``app`` fixture's app: a package's conftest.py, or a
    test module, overrides this fixture to set its own."""
    return {}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request, app_settings) -> Iterator[Flask]:
    """The app with a migrated, empty database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        yield from sqlite_app(app_settings)
    else:
        yield from postgres_app(request.getfixturevalue("postgres_database"), app_settings)


@pytest.fixture(params=["inline", pytest.param("worker", marks=pytest.mark.postgres)])
def jobs_app(request, app_settings, tmp_path) -> Iterator[Flask]:
    """The app, with its jobs run once inline (SQLite, no REDIS_URL: a job
    runs in the request that submits it) and once by a worker process
    (PostgreSQL, Redis and ``python manage.py worker`` with the same
    settings, stopped after the test). Wait for what a job does with
    ``wait_until`` (tests.support.processes)."""
    if request.param == "inline":
        yield from sqlite_app(app_settings)
        return
    database = request.getfixturevalue("postgres_database")
    redis = request.getfixturevalue("redis_url")
    worker = worker_dyno(tmp_path / "worker.log", database, redis, **app_settings)
    try:
        yield from postgres_app(database, {**app_settings, "REDIS_URL": redis})
    finally:
        worker.stop()


def sqlite_app(settings: dict[str, str]) -> Iterator[Flask]:
    """An app on a migrated in-memory SQLite database of its own."""
    app = create_app(testing_config("sqlite://", **settings))
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def postgres_app(database: str, settings: dict[str, str]) -> Iterator[Flask]:
    """An app on the shared PostgreSQL test database, emptied after."""
    app = create_app(testing_config(database, **settings))
    app.config["WTF_CSRF_ENABLED"] = False
    yield app
    with app.app_context():
        empty_every_table()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def queue_app(postgres_database, redis_url) -> Iterator[Flask]:
    """The app with REDIS_URL set, on a PostgreSQL database that worker
    processes share (emptied after the test)."""
    yield from postgres_app(postgres_database, {"REDIS_URL": redis_url})


@pytest.fixture
def start_worker(tmp_path, postgres_database, redis_url) -> Iterator[Callable[..., Dyno]]:
    """Starts ``manage.py worker`` processes for queue_app; all are stopped
    (SIGTERM, as Heroku does) after the test."""
    started: list[Dyno] = []

    def start(concurrency: int = 1, **env: str) -> Dyno:
        log = tmp_path / f"worker-{len(started) + 1}.log"
        started.append(worker_dyno(log, postgres_database, redis_url, concurrency, **env))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


def empty_every_table() -> None:
    """Delete every row of every model's table, children first, and restart
    PostgreSQL's id sequences, so the next test starts from id 1."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    db.session.execute(
        text("SELECT setval(s.oid::regclass, 1, false) FROM pg_class s WHERE s.relkind = 'S'")
    )
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
