"""Fixtures for the tests of any package, with accounts: a verified user, a
client logged in as that user, and the mail the app sent (``outbox``), on
a real SMTP server process. The app fixture's mail goes there.

    def test_my_page_needs_a_log_in(client, logged_in_client):
        assert client.get("/notes").status_code == 302
        assert logged_in_client.get("/notes").status_code == 200

docs/testing.md shows more.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from accounts.users import create_verified
from tests.support.mail_server import MailServer, running

PASSWORD = "tulip harbor violin 47"


@dataclass(frozen=True)
class TestUser:
    """A user a test made: its row's id, and what logs it in."""

    id: int
    email: str
    password: str


def new_email() -> str:
    """An address no other test uses."""
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture(scope="session")
def mail_server(tmp_path_factory) -> Iterator[MailServer]:
    """An SMTP server process (aiosmtpd) of this test process."""
    yield from running(MailServer(tmp_path_factory.mktemp("smtp")))


@pytest.fixture
def outbox(mail_server: MailServer) -> MailServer:
    """The mail the app sent: ``outbox.wait_for(address)`` is the newest
    message to that address (waited for, as a worker may send it),
    ``link_in(message)`` (tests.support.mail_server) its one link."""
    return mail_server


@pytest.fixture
def app_settings(mail_server: MailServer) -> dict[str, str]:
    """Settings of the ``app`` fixture's app: its mail goes to ``outbox``.
    A package's conftest.py, or a test module, overrides this fixture to
    set its own (``{**mail_server.settings, ...}`` keeps the mail)."""
    return dict(mail_server.settings)


@pytest.fixture
def user(app: Flask) -> TestUser:
    """A user with a verified address, in the app's database."""
    email = new_email()
    with app.app_context():
        made = create_verified(email, PASSWORD)
        return TestUser(id=made.id, email=email, password=PASSWORD)


@pytest.fixture
def logged_in_client(app: Flask, user: TestUser) -> FlaskClient:
    """A test client logged in as ``user``, through the log-in page."""
    client = app.test_client()
    response = client.post("/auth/login", data={"email": user.email, "password": user.password})
    assert response.status_code == 303, response.text
    return client
