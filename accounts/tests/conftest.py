"""The accounts' fixtures: an SMTP server process, and the app (the
template's ``app`` fixture, on SQLite and PostgreSQL) sending mail to it."""

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from accounts.tests.mail_server import MailServer
from models import db
from tests.support.fixtures import empty_every_table, testing_config
from web import create_app


@pytest.fixture(scope="session")
def mail_server(tmp_path_factory) -> Iterator[MailServer]:
    server = MailServer(tmp_path_factory.mktemp("smtp"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_settings(mail_server) -> dict[str, str]:
    return mail_server.settings


@pytest.fixture
def make_app(postgres_database, mail_server) -> Iterator[Callable[..., Flask]]:
    """Apps on one PostgreSQL database, as the dynos of one deploy are:
    ``make_app(proxy_fix=True, REDIS_URL=...)``."""

    made = []

    def make(proxy_fix: bool = False, **settings: str) -> Flask:
        config = testing_config(postgres_database, **{**mail_server.settings, **settings})
        config.PROXY_FIX = proxy_fix  # as ProductionConfig sets it
        app = create_app(config)
        app.config["WTF_CSRF_ENABLED"] = False
        made.append(app)
        return app

    yield make
    for index, app in enumerate(made):
        with app.app_context():
            if index == 0:
                empty_every_table()
            db.engine.dispose()
