"""Web security of the app as deployed, and of its dependencies and code."""

import subprocess

import pytest

from config import ProductionConfig, StagingConfig
from tests.support.environment import PROJECT_DIR, project_env
from tests.support.processes import free_port
from web import create_app

PAGES = [
    "/",
    "/history",
    "/counts/1",
    "/counts/999",
    "/api/counts",
    "/api/counts/999",
    "/api/openapi.json",
    "/static/style.css",
    "/healthz",
    "/no-such-page",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_has_the_security_headers(production_app, path):
    status, headers, _ = production_app.call("GET", path)
    assert status in (200, 404)
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_the_form_needs_its_csrf_token(production_app, local_site):
    status, _, body = production_app.call(
        "POST", "/", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 400
    assert b"The form expired; please submit it again." in body
    assert local_site.requests == []


@pytest.mark.parametrize("config_class", [StagingConfig, ProductionConfig])
def test_errors_show_no_debugger_or_traceback(config_class):
    app = create_app(
        config_class(
            {"DATABASE_URL": "sqlite://", "SECRET_KEY": "s" * 40, "TRUSTED_HOSTS": "localhost"}
        )
    )

    @app.get("/explode")
    def explode():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/explode", headers={"X-Forwarded-Proto": "https"})
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side." in page
    assert "secret internals" not in page and "Traceback" not in page
    assert "Werkzeug Debugger" not in page and app.debug is False


@pytest.mark.parametrize("secret", ["", "dev-only-not-secret"])
def test_production_refuses_to_start_without_a_real_secret_key(secret):
    result = subprocess.run(
        ["gunicorn", "wsgi:app"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env=project_env(
            APP_SETTINGS="config.ProductionConfig",
            SECRET_KEY=secret,
            DATABASE_URL="postgres://127.0.0.1/x",
            PORT=str(free_port()),
        ),
    )
    assert result.returncode != 0
    assert "Error: SECRET_KEY " in result.stderr


def run_tool(command: list[str]) -> subprocess.CompletedProcess:
    """One of the installed security tools, on the project, as CI runs it."""
    return subprocess.run(
        command, cwd=PROJECT_DIR, env=project_env(), capture_output=True, text=True, timeout=300
    )


def test_bandit_finds_nothing_of_medium_severity_or_above():
    result = run_tool(
        [
            "bandit",
            "--quiet",
            "--recursive",
            "--severity-level",
            "medium",
            "--exclude",
            # Every tests/ folder, a package's own and the fork step's included.
            "./.venv,*/tests/*,./wordcount/bench,./test-artifacts",
            ".",
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr
