"""The example's fixtures: those of tests/support/fixtures.py, an OpenAPI check
on every API response, and a local web site to count."""

import json
import re
from collections.abc import Callable

import pytest
from flask import Flask, request
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from models import db
from wordcount.api import OPENAPI_FILE
from wordcount.models import Count

OPENAPI = json.loads(OPENAPI_FILE.read_text())


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
