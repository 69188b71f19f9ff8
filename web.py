"""The Flask application factory, ``create_app()``.

Importing this module builds nothing: gunicorn serves the app ``wsgi.py``
builds, ``manage.py`` builds its own, and tests build theirs from a config
object of their own.
"""

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

import pages
from config import Config, ConfigError, load_config
from extensions import jobs, migrate
from models import Model, db
from plumbing import database, error_pages, security, static_files


class JSONProvider(DefaultJSONProvider):
    sort_keys = False  # keep API fields in their documented order


def create_app(config: Config | None = None) -> Flask:
    """Build the app from ``config``, or from the class APP_SETTINGS names."""
    app = Flask(__name__)
    app.config.from_object(config if config is not None else load_config())
    app.json = JSONProvider(app)
    if app.config["PROXY_FIX"]:
        # Flask's documented way to add WSGI middleware, which mypy reads
        # as replacing a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db)
    jobs.init_app(app)
    error_pages.init_app(app)
    security.init_app(app)

    app.add_url_rule("/healthz", view_func=healthz)
    app.shell_context_processor(shell_context)
    # Your packages: import each and call its init_app, which registers its
    # blueprints. Registered first, a blueprint's "/" takes precedence over
    # the start page (pages.py).
    # >>> example
    import wordcount

    wordcount.init_app(app)
    # <<< example
    # >>> accounts
    import accounts

    accounts.init_app(app)
    # <<< accounts
    app.register_blueprint(pages.bp)
    # After every blueprint: it serves their static folders too.
    static_files.init_app(app, security.static_headers(app))
    security.refuse_untrusted_hosts(app)  # last: it runs first
    return app


def healthz() -> ResponseReturnValue:
    """Liveness and database reachability, for uptime checks and tests."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unavailable"}, 503
    return {"status": "ok", "database": "ok"}


def shell_context() -> dict[str, object]:
    """Names preloaded in ``python manage.py shell``: db and every model."""
    models = {mapper.class_.__name__: mapper.class_ for mapper in Model.registry.mappers}
    return {"db": db, **models}


def create_app_or_exit() -> Flask:
    """``create_app()`` from APP_SETTINGS, for gunicorn and manage.py: a
    configuration error is an operator's mistake, not a bug, so it exits
    with one line instead of a traceback."""
    try:
        return create_app()
    except ConfigError as error:
        raise SystemExit(f"Error: {error}") from None
