"""Fixtures: the app on SQLite and PostgreSQL, a CLI runner, a local web site.

PostgreSQL: tests create and drop their own databases on the server named by
TEST_DATABASE_URL (default: the local server). Without a server they skip,
saying why; with REQUIRE_POSTGRES=1 (CI) they fail instead.
"""

import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask, Response, request
from jsonschema import Draft202012Validator
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from config import TestingConfig, sqlalchemy_url
from models import Result, db
from web import create_app

PROJECT_DIR = Path(__file__).resolve().parent.parent

POSTGRES_SERVER = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
OPENAPI = json.loads((PROJECT_DIR / "openapi.json").read_text())


# --- PostgreSQL ----------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_admin():
    """An AUTOCOMMIT engine on the test server, for CREATE/DROP DATABASE."""
    engine = create_engine(sqlalchemy_url(POSTGRES_SERVER), isolation_level="AUTOCOMMIT")
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
        name = f"hcfa_test_{uuid.uuid4().hex[:12]}"
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
    violations = check_api_responses(app)
    with app.app_context():
        if request.param == "sqlite":
            flask_migrate.upgrade()
    yield app
    with app.app_context():
        if request.param == "postgresql":
            db.session.execute(text("TRUNCATE results RESTART IDENTITY"))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert not violations, "API responses that break openapi.json:\n" + "\n".join(violations)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def stored_rows(app) -> Callable[[], int]:
    """How many results the app's database holds, when called."""
    def count() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(Result))
    return count


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def check_api_responses(app: Flask) -> list[str]:
    """Check every /api/ response against openapi.json; return the violations."""
    violations: list[str] = []

    @app.after_request
    def check(response):
        if request.path.startswith("/api/") and request.url_rule is not None:
            problem = openapi_problem(request.url_rule.rule, request.method, response)
            if problem:
                violations.append(f"{request.method} {request.full_path}: {problem}")
        return response

    return violations


def openapi_problem(rule: str, method: str, response) -> str | None:
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
    operation = OPENAPI["paths"].get(path, {}).get(method.lower())
    if operation is None:
        return f"{method} {path} is not documented"
    documented = operation["responses"].get(str(response.status_code))
    if documented is None:
        return f"status {response.status_code} is not documented"
    if "$ref" in documented:
        documented = OPENAPI["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    schema = documented["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": OPENAPI["components"]})
    errors = [error.message for error in validator.iter_errors(response.get_json())]
    return "; ".join(errors) or None


# --- A local web site to count -------------------------------------------------

class LocalSite:
    """A threaded HTTP server on 127.0.0.1 whose routes tests set up.

    ``site.add("/page", body)`` serves a page; ``site.requests`` lists the
    paths that were asked for, so a test can prove none was.
    """

    def __init__(self):
        self.routes: dict[str, Callable[[], Response]] = {}
        self.requests: list[str] = []
        self.app = Flask("local_site")
        self.app.add_url_rule("/", "any", self.dispatch, defaults={"path": ""})
        self.app.add_url_rule("/<path:path>", "any", self.dispatch)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, body: bytes | str = b"", status: int = 200,
            content_type: str = "text/html; charset=utf-8", headers: dict | None = None):
        self.routes[path] = lambda: Response(body, status, headers, content_type=content_type)
        return self.url(path)

    def add_view(self, path: str, view: Callable[[], Response]) -> str:
        self.routes[path] = view
        return self.url(path)

    def dispatch(self, path: str):
        self.requests.append("/" + path)
        view = self.routes.get("/" + path)
        return view() if view else Response("not found", 404)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def _site_server():
    site = LocalSite()
    yield site
    site.close()


@pytest.fixture
def local_site(_site_server) -> LocalSite:
    _site_server.routes.clear()
    _site_server.requests.clear()
    return _site_server
