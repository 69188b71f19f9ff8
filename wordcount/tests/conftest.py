"""The example's fixtures: those of tests/support/fixtures.py, an OpenAPI check
on every API response, and a local web site to count."""

import json
import re
import threading
from collections.abc import Callable

import pytest
from flask import Flask, Response, request
from hypothesis import settings
from jsonschema import Draft202012Validator
from sqlalchemy import func, select
from werkzeug.serving import make_server

from models import db
from wordcount.api import OPENAPI_FILE
from wordcount.models import Count

OPENAPI = json.loads(OPENAPI_FILE.read_text())

# Property tests judge results, never speed: no deadline (a loaded 2-core
# machine once took 200 ms on a correct case), and a failure prints the
# blob that replays it. make test prints its random seed and takes
# HYPOTHESIS_SEED=N to run the same cases again.
settings.register_profile("suite", deadline=None, print_blob=True)
settings.load_profile("suite")


@pytest.fixture  # replaces the client fixture (tests/support/fixtures.py)
def client(app):
    """A test client whose every /api/ response is checked against openapi.json."""
    violations = check_api_responses(app)
    yield app.test_client()
    assert not violations, "API responses that break openapi.json:\n" + "\n".join(violations)


@pytest.fixture
def queue_client(queue_app):
    """``client``, for the app with a queue (REDIS_URL set)."""
    violations = check_api_responses(queue_app)
    yield queue_app.test_client()
    assert not violations, "API responses that break openapi.json:\n" + "\n".join(violations)


@pytest.fixture
def stored_rows(app) -> Callable[[], int]:
    """How many results the app's database holds, when called."""

    def count() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(Count)) or 0

    return count


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

    def add(
        self,
        path: str,
        body: bytes | str = b"",
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict | None = None,
    ):
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
