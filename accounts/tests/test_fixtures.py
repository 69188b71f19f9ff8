"""The fixtures accounts gives every package's tests (tests/support/users.py)."""

from flask_login import current_user

from tests.support.mail_server import link_in


def test_user_is_a_verified_account_in_the_apps_database(app, user):
    with app.test_request_context(), app.app_context():
        from accounts.models import find

        found = find(user.email)
        assert found is not None
        assert (found.id, found.email_verified_at is not None) == (user.id, True)


def test_logged_in_client_is_logged_in_as_user(app, logged_in_client, user):
    assert user.email in logged_in_client.get("/account").text
    with logged_in_client:
        logged_in_client.get("/account")
        assert current_user.id == user.id


def test_a_client_is_not_logged_in(client):
    assert client.get("/account").status_code == 302


def test_outbox_holds_the_mail_a_request_caused_with_its_link(client, outbox, user):
    client.post("/auth/forgot", data={"email": user.email})
    assert "/auth/reset#" in link_in(outbox.wait_for(user.email))
