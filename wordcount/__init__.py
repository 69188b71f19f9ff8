"""Wordcount, the template's example app: count the words on a web page.

Everything of the example lives in this package: pages and JSON API
(``views``), the table (``models``), the counter and the fetcher, templates,
the OpenAPI document, tests and benchmarks. ``make remove-example`` deletes
it, with the few marked lines that wire it into the template.
"""

import os

from flask import Flask

from config import Environment
from security import csrf
from wordcount import views


def init_app(app: Flask) -> None:
    """Read the example's settings and register its blueprints."""
    load_settings(app)
    app.register_blueprint(views.bp)
    csrf.exempt(views.api)
    app.register_blueprint(views.api)


def load_settings(app: Flask) -> None:
    """The WORDCOUNT_* settings, from the environment unless the config
    object already set them. Private hosts may be fetched only in
    development and testing, so that local pages can be counted there."""
    env = Environment(os.environ)
    app.config.setdefault("WORDCOUNT_FETCH_TIMEOUT", env.number("WORDCOUNT_FETCH_TIMEOUT", 10.0))
    app.config.setdefault("WORDCOUNT_MAX_BYTES", env.integer("WORDCOUNT_MAX_BYTES", 5_000_000))
    app.config.setdefault("WORDCOUNT_ALLOW_PRIVATE_HOSTS", env.flag(
        "WORDCOUNT_ALLOW_PRIVATE_HOSTS", app.config["ENV_NAME"] in ("development", "testing")))
