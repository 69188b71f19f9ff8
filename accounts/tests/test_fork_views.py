"""A fork's own view uses Flask-Login as the README shows it:
``@login_required`` and ``current_user``."""

import pytest
from flask import Blueprint
from flask_login import current_user, login_required

from accounts.tests.steps import verified_account
from tests.support.users import PASSWORD

notes = Blueprint("notes", __name__)


@notes.get("/notes")
@login_required
def index() -> str:
    return f"notes of {current_user.email} (user {current_user.id})"


@pytest.fixture
def fork_app(app):
    """The app, with the fork's blueprint registered as web.py would."""
    app.register_blueprint(notes)
    return app


def test_a_forks_page_is_for_logged_in_users_and_knows_who(fork_app, client, mail_server):
    anonymous = client.get("/notes")
    assert anonymous.status_code == 302
    assert anonymous.location == "/auth/login?next=/notes"
    email = verified_account(client, mail_server)
    answer = client.post(
        "/auth/login", query_string={"next": "/notes"}, data={"email": email, "password": PASSWORD}
    )
    assert answer.status_code == 303 and answer.location == "/notes"
    assert client.get("/notes").text.startswith(f"notes of {email} (user ")
