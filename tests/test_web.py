import pytest
from flask import Flask
from sqlalchemy import text

from config import ProductionConfig, TestingConfig
from models import Result, db
from web import create_app, shell_context

PRODUCTION_ENV = {"DATABASE_URL": "sqlite://", "SECRET_KEY": "s3cret"}


def test_create_app_uses_the_given_config():
    app = create_app(TestingConfig({}))
    assert isinstance(app, Flask)
    assert app.testing is True
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"


def test_healthz_reports_a_reachable_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


@pytest.fixture
def database_down():
    """A client of an app whose database cannot be reached (nothing listens on port 1)."""
    url = "postgresql://nobody@127.0.0.1:1/nothing"
    return create_app(TestingConfig({"TEST_DATABASE_URL": url})).test_client()


def test_healthz_reports_an_unreachable_database(database_down):
    response = database_down.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unavailable"}


def test_api_answers_503_db_unavailable_when_the_database_is_down(database_down):
    response = database_down.get("/api/counts/1")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "db_unavailable"


def test_pages_show_an_error_page_not_a_traceback_when_the_database_is_down(database_down):
    response = database_down.get("/")
    assert response.status_code == 503
    assert b"The database is unavailable" in response.data
    assert b"Traceback" not in response.data


@pytest.mark.postgres
def test_a_connection_lost_after_the_response_is_built_does_not_cost_the_response(
        postgres_database, postgres_admin, caplog):
    # The database restarts between the view's last query and the ROLLBACK
    # that ends the request's transaction: the finished response still goes out.
    app = create_app(TestingConfig({"TEST_DATABASE_URL": postgres_database}))

    @app.get("/lose-connection")
    def lose_connection():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with postgres_admin.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return "built"

    client = app.test_client()
    response = client.get("/lose-connection")
    assert (response.status_code, response.text) == (200, "built")
    assert "Could not end the request's database transaction" in caplog.text
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_unknown_page_is_a_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_every_response_carries_security_headers(client):
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_production_redirects_plain_http_to_https():
    app = create_app(ProductionConfig(PRODUCTION_ENV))
    response = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "http"})
    assert response.status_code == 301
    assert response.headers["Location"] == "https://localhost/healthz"


def test_production_sends_hsts_over_https():
    app = create_app(ProductionConfig(PRODUCTION_ENV))
    with app.app_context():
        db.create_all()
    response = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_shell_context_preloads_db_and_every_model(app):
    with app.app_context():
        assert shell_context() == {"db": db, "Result": Result}

