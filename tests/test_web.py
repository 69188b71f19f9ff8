import io

import pytest
from flask import Blueprint, Flask, request, session
from sqlalchemy import text
from werkzeug.test import run_wsgi_app

import pages
from config import ProductionConfig, TestingConfig
from errors import AppError, answer_errors_in_json
from extensions import csrf
from models import Base, db, transaction
from plumbing.database import WriteInSafeRequest
from plumbing.security import TrustedHosts
from web import create_app, shell_context

PRODUCTION_ENV = {
    "DATABASE_URL": "sqlite://",
    "SECRET_KEY": "s3cret",
    "TRUSTED_HOSTS": "myapp.example,localhost",
}


def test_create_app_uses_the_given_config():
    app = create_app(TestingConfig({}))
    assert isinstance(app, Flask)
    assert app.testing is True
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite://"


def test_start_page_is_html_naming_the_app(client, app):
    response = client.get("/")
    assert (response.status_code, response.mimetype) == (200, "text/html")
    assert app.config["APP_NAME"] in response.text


def test_the_start_page_names_the_app(app):
    # A package's blueprint may take "/": the start page (pages.py) is
    # checked by calling its view.
    with app.test_request_context("/"):
        page = pages.home()
    assert f"<h1>{app.config['APP_NAME']}</h1>" in page


def json_api() -> Blueprint:
    """A blueprint under /api whose errors answer in JSON, as an API's do."""
    api = Blueprint("probe_api", __name__, url_prefix="/api")
    answer_errors_in_json(api)
    return api


def test_an_app_error_is_answered_with_its_code_status_and_headers(client, app):
    api = json_api()

    @api.post("/teapot")
    def teapot():
        raise AppError("teapot", "I only make tea.", 418, {"X-Try": "/api/tea"})

    app.register_blueprint(api)
    response = client.post("/api/teapot")
    assert (response.status_code, response.headers["X-Try"]) == (418, "/api/tea")
    assert response.get_json() == {"error": {"code": "teapot", "message": "I only make tea."}}


def test_an_unexpected_error_is_a_500_without_a_traceback(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as outside the tests

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    response = app.test_client().get("/boom")
    assert (response.status_code, response.mimetype) == (500, "text/html")
    assert "Something went wrong on our side." in response.text
    assert "RuntimeError" not in response.text


def test_healthz_reports_a_reachable_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def with_database_routes(app: Flask) -> Flask:
    """Add a page and an API route that query the database, as any app's do."""
    app.add_url_rule("/needs-db", "needs_db", lambda: str(db.session.scalar(text("SELECT 1"))))
    api = json_api()
    api.add_url_rule(
        "/needs-db", "needs_db", lambda: {"value": db.session.scalar(text("SELECT 1"))}
    )
    app.register_blueprint(api)
    return app


@pytest.fixture
def database_down():
    """A client of an app whose database cannot be reached (nothing listens on port 1)."""
    url = "postgresql://nobody@127.0.0.1:1/nothing"
    return with_database_routes(create_app(TestingConfig({"TEST_DATABASE_URL": url}))).test_client()


def test_healthz_reports_an_unreachable_database(database_down):
    response = database_down.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unavailable"}


def test_api_answers_503_db_unavailable_when_the_database_is_down(database_down):
    response = database_down.get("/api/needs-db")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "db_unavailable"


def test_pages_show_an_error_page_not_a_traceback_when_the_database_is_down(database_down):
    response = database_down.get("/needs-db")
    assert response.status_code == 503
    assert "The database is unavailable" in response.text
    assert "Traceback" not in response.text


@pytest.mark.postgres
def test_a_connection_lost_after_the_response_is_built_does_not_cost_the_response(
    postgres_database, postgres_admin, caplog
):
    # The database restarts between the view's last query and the ROLLBACK
    # that ends the request's transaction (a POST's: reads have none): the
    # finished response still goes out.
    app = create_app(TestingConfig({"TEST_DATABASE_URL": postgres_database}))
    app.config["WTF_CSRF_ENABLED"] = False

    @app.post("/lose-connection")
    def lose_connection():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with postgres_admin.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return "built"

    client = app.test_client()
    response = client.post("/lose-connection")
    assert (response.status_code, response.text) == (200, "built")
    assert "Could not end the request's database transaction" in caplog.text
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_unknown_page_is_a_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_an_unknown_path_under_a_json_blueprint_is_a_json_404(client, app):
    app.register_blueprint(json_api())
    response = client.get("/api/no/such/thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_client_that_asks_for_json_first_gets_a_json_error(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json, text/html;q=0.9"})
    assert (response.status_code, response.get_json()["error"]["code"]) == (404, "not_found")


def test_wrong_method_is_405_with_the_allowed_methods(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def body_echo_app() -> Flask:
    app = create_app(TestingConfig({}))
    app.config["WTF_CSRF_ENABLED"] = False
    api = json_api()
    api.add_url_rule("/echo", "echo", lambda: {"size": len(request.get_data())}, methods=["POST"])
    app.register_blueprint(api)
    return app


def as_chunked(body: bytes) -> dict:
    """Request arguments for a body sent as gunicorn passes a chunked one:
    no Content-Length, and a stream that ends with the body."""
    return {
        "input_stream": io.BytesIO(body),
        "headers": {"Transfer-Encoding": "chunked"},
        "environ_overrides": {"wsgi.input_terminated": True},
    }


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_413_however_it_is_sent(chunked):
    app = body_echo_app()
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b"x" * (limit + 1)
    response = app.test_client().post(
        "/api/echo", **(as_chunked(body) if chunked else {"data": body})
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


def test_a_chunked_body_at_the_limit_is_read_whole():
    app = body_echo_app()
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = app.test_client().post("/api/echo", **as_chunked(b"x" * limit))
    assert (response.status_code, response.get_json()) == (200, {"size": limit})


def test_every_response_carries_security_headers(client):
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def production_client():
    app = create_app(ProductionConfig(PRODUCTION_ENV))
    with app.app_context():
        db.create_all()
    return app.test_client()


@pytest.mark.parametrize(
    "method, status", [("GET", 301), ("HEAD", 301), ("POST", 308), ("PUT", 308), ("DELETE", 308)]
)
def test_production_redirects_plain_http_to_https_keeping_the_method(method, status):
    response = production_client().open(
        "/healthz?x=1",
        method=method,
        headers={"X-Forwarded-Proto": "http", "Host": "myapp.example"},
    )
    assert response.status_code == status
    assert response.headers["Location"] == "https://myapp.example/healthz?x=1"


@pytest.mark.parametrize("proto", ["http", "https"])
def test_production_refuses_a_host_it_does_not_serve(proto):
    response = production_client().get(
        "/healthz", headers={"X-Forwarded-Proto": proto, "Host": "evil.example"}
    )
    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    ("path", "accept", "mimetype"),
    [
        ("/", "text/html", "text/plain"),  # an HTML page: no error page that needs url_for
        ("/healthz", "application/json", "application/json"),
        ("/static/style.css", "*/*", "text/plain"),
        ("/no-such-page", "text/html", "text/plain"),
    ],
)
def test_an_untrusted_host_is_a_400_on_every_kind_of_url(path, accept, mimetype):
    response = production_client().get(path, headers={"Host": "evil.example", "Accept": accept})
    assert (response.status_code, response.mimetype) == (400, mimetype)
    assert "This host name is not served here (the app's TRUSTED_HOSTS" in response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("myapp.example:4443", 400),  # a trusted name with a port it is not served on
        ("myapp.example:80", 200),
        ("myapp.example:443", 200),
        ("myapp.example", 200),
        ("MyApp.Example", 200),
    ],
)
def test_a_trusted_host_is_served_on_the_public_ports_only(host, status):
    headers = {"X-Forwarded-Proto": "https", "Host": host}
    assert production_client().get("/healthz", headers=headers).status_code == status


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("myapp.example", 200),  # trusted as "MyApp.Example": names are case-insensitive
        ("example.org", 200),
        ("deep.sub.example.org", 200),  # ".example.org" trusts its subdomains
        ("evil-example.org", 400),
        ("xn--bcher-kva.example", 200),  # "bücher.example", as a Host header holds it
        ("bücher.example", 400),  # a Host header is ASCII
    ],
)
def test_trusted_hosts_match_names_as_werkzeug_does_but_without_case(host, status):
    def ok(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]

    trusted = TrustedHosts(ok, ["MyApp.Example", ".example.org", "bücher.example"])
    environ = {"HTTP_HOST": host, "SERVER_PORT": "443", "REQUEST_METHOD": "GET"}
    response = run_wsgi_app(trusted, environ)
    assert int(response[1].split()[0]) == status


def test_production_sends_hsts_over_https():
    response = production_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_hsts_is_never_sent_over_plain_http():
    response = production_client().get("/healthz", headers={"X-Forwarded-Proto": "http"})
    assert response.status_code == 301
    assert "Strict-Transport-Security" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_security_header_a_view_sets_is_kept():
    client = production_client()
    client.application.add_url_rule(
        "/framed", "framed", lambda: ("ok", {"X-Frame-Options": "SAMEORIGIN"})
    )
    response = client.get("/framed", headers={"X-Forwarded-Proto": "https"})
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]


def test_a_form_post_needs_its_csrf_token_unless_its_view_is_exempt_or_checks_are_off(app):
    app.config["WTF_CSRF_ENABLED"] = True

    @app.route("/form", methods=["GET", "POST"])
    def form():
        return "done"

    @app.post("/hook")
    @csrf.exempt
    def hook():
        return "done"

    client = app.test_client()
    assert client.get("/form").status_code == 200  # a GET is never checked
    assert client.post("/form").status_code == 400
    assert client.post("/hook").status_code == 200
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/form").status_code == 200


def test_a_session_signed_with_a_retired_key_is_read_only_while_it_is_a_fallback(app):
    app.add_url_rule("/put", "put", lambda: session.update(seen=True) or "ok")
    app.add_url_rule("/get", "get", lambda: {"seen": session.get("seen", False)})
    client = app.test_client()
    client.get("/put")
    old_key, app.secret_key = app.secret_key, "n" * 40
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert client.get("/get").json == {"seen": True}
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/get").json == {"seen": False}


@pytest.mark.parametrize("vary", [None, "Accept-Encoding"])
def test_a_response_whose_request_read_the_session_varies_on_cookie_once(app, vary):
    headers = {"Vary": vary} if vary else {}
    app.add_url_rule("/read", "read", lambda: ({"seen": session.get("seen", False)}, headers))
    response = app.test_client().get("/read")
    assert response.headers.getlist("Vary") == [f"{vary}, Cookie" if vary else "Cookie"]
    assert "Set-Cookie" not in response.headers  # an empty session is not stored


def test_an_emptied_session_deletes_its_cookie(app):
    app.add_url_rule("/put", "put", lambda: session.update(seen=True) or "ok")
    app.add_url_rule("/clear", "clear", lambda: session.pop("seen") and "ok")
    client = app.test_client()
    assert "session=" in client.get("/put").headers["Set-Cookie"]
    deleted = client.get("/clear").headers["Set-Cookie"]
    assert deleted.startswith("session=;") and "Expires=Thu, 01 Jan 1970" in deleted


def test_production_session_cookies_are_secure_httponly_and_same_site():
    client = production_client()
    client.application.add_url_rule(
        "/remember", "remember", lambda: session.update(seen=True) or "ok"
    )
    response = client.get("/remember", headers={"X-Forwarded-Proto": "https"})
    cookie = response.headers["Set-Cookie"]
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "; SameSite=Lax" in cookie


def test_shell_context_preloads_db_and_every_model(app):
    with app.app_context():
        context = shell_context()
    assert context["db"] is db
    models = {mapper.class_ for mapper in Base.registry.mappers}
    assert {value for name, value in context.items() if name != "db"} == models


@pytest.mark.parametrize(
    "path, status",
    [("/items/42", 200), ("/items/٣", 404), ("/items/３", 404), ("/items/" + "9" * 5000, 404)],
)
def test_int_routes_take_ascii_digits_only(path, status):
    app = create_app(TestingConfig({}))
    app.add_url_rule("/items/<int:item_id>", "item", lambda item_id: {"id": item_id})
    response = app.test_client().get(path)
    assert response.status_code == status
    if status == 200:
        assert response.get_json() == {"id": 42}


def test_a_safe_request_that_writes_fails_on_every_database(app, client):
    # GETs run in autocommit on PostgreSQL and in a transaction on SQLite; a
    # write there would mean two different things, so it fails on both.
    @app.route("/write-probe", methods=["GET", "HEAD", "OPTIONS", "POST"])
    def write_probe():
        db.session.execute(text("CREATE TEMPORARY TABLE write_probe (x integer)"))
        db.session.execute(text("DROP TABLE write_probe"))
        db.session.commit()
        return "wrote"

    assert client.post("/write-probe").get_data(as_text=True) == "wrote"
    for method in ("GET", "HEAD", "OPTIONS"):
        with pytest.raises(WriteInSafeRequest, match=f"^{method} /write-probe tried to write"):
            client.open("/write-probe", method=method)


def test_a_transaction_block_that_raises_is_rolled_back_and_the_error_goes_on(app):
    with app.test_request_context(method="POST"):
        with pytest.raises(RuntimeError, match="half-done"), transaction():
            db.session.execute(text("SELECT 1"))
            assert db.session().in_transaction()
            raise RuntimeError("half-done")
        assert not db.session().in_transaction()
        assert db.session.execute(text("SELECT 1")).scalar() == 1  # the session goes on
