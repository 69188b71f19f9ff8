"""The accounts' own fixtures: SMTP servers with TLS and a login, and apps
sharing one database. The plain SMTP server, ``outbox``, ``user`` and
``logged_in_client`` are every package's (tests/support/users.py)."""

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from models import db
from tests.support.fixtures import empty_every_table, testing_config
from tests.support.mail_server import MailServer, running
from web import create_app


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    directory = tmp_path_factory.mktemp("tls")
    certificate, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(certificate), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return certificate, key


@pytest.fixture(scope="session")
def tls_mail_server(tmp_path_factory, certificate) -> Iterator[MailServer]:
    """An SMTP server as a provider runs one: STARTTLS, then a login."""
    yield from running(
        MailServer(
            tmp_path_factory.mktemp("smtp-tls"), tls=certificate, login=("postmaster", "s3cret")
        )
    )


@pytest.fixture(scope="session")
def implicit_tls_mail_server(tmp_path_factory, certificate) -> Iterator[MailServer]:
    """An SMTP server that speaks TLS from the first byte (port 465's way)."""
    yield from running(
        MailServer(tmp_path_factory.mktemp("smtp-465"), tls=certificate, implicit_tls=True)
    )


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
