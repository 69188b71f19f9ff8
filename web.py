"""The Flask application factory, ``create_app()``.

Importing this module builds nothing: gunicorn serves the app ``wsgi.py``
builds, ``manage.py`` builds its own, and tests build theirs from a config
object of their own.
"""

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

import pages
from config import Config, ConfigError, load_config
from extensions import jobs, migrate
from models import Model, db
from plumbing import database, error_pages, error_reports, logs, security, static_files, traces


class JSONProvider(DefaultJSONProvider):
    sort_keys = False  # keep API fields in their documented order


def create_app(config: Config | None = None) -> Flask:
    """Build the app from ``config``, or from the class APP_SETTINGS names."""
    app = Flask(__name__)
    app.config.from_object(config if config is not None else load_config())
    app.json = JSONProvider(app)
    db.init_app(app)
    logs.init_app(app)
    error_reports.init_app(app)
    traces.init_app(app)
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
    static_files.init_app(app)
    security.wrap(app)  # last: its middlewares run first
    logs.wrap(app)  # and the request log before them
    return app


def healthz() -> ResponseReturnValue:
    """Liveness and database reachability, for uptime checks and tests."""
    try:
        # A connection from the pool, not the session: a probe needs no
        # ORM bookkeeping, half of its cost (bench/layers.py).
        with db.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError:
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
