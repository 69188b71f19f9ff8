"""Sessions: a new one at log-in, ended on the server by log-out, a
password or address change and its lifetime, CSRF on every form, and
``next`` kept to this site."""

import time

import pytest

from accounts.tests.steps import (
    NEW_PASSWORD,
    csrf_token,
    follow,
    log_in,
    logged_in,
    verified_account,
)
from tests.support.mail_server import link_in
from tests.support.users import PASSWORD, new_email


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def test_log_in_starts_a_new_session_and_the_one_before_stays_anonymous(app, client, mail_server):
    email = verified_account(client, mail_server)
    app.config["WTF_CSRF_ENABLED"] = True
    token = csrf_token(client, "/auth/login")  # kept in a session before log-in
    before = session_cookie(client)
    assert before is not None
    assert log_in(client, email, csrf_token=token).status_code == 303
    assert session_cookie(client) != before
    attacker = app.test_client()
    attacker.set_cookie("session", before)
    assert attacker.get("/account").status_code == 302


def test_a_password_change_ends_every_other_session_and_remember_me(app, client, mail_server):
    email = logged_in(client, mail_server)
    other = app.test_client()
    assert log_in(other, email, remember="y").status_code == 303
    remembered = other.get_cookie("remember_token")
    assert remembered is not None and remembered.http_only
    changed = client.post(
        "/account/password", data={"current_password": PASSWORD, "password": NEW_PASSWORD}
    )
    assert changed.status_code == 303
    assert client.get("/account").status_code == 200  # this session goes on
    assert other.get("/account").status_code == 302
    returning = app.test_client()  # the session cookie gone, the remember one kept
    returning.set_cookie("remember_token", remembered.value)
    assert returning.get("/account").status_code == 302


def test_remember_me_logs_in_again_without_the_session(app, client, mail_server):
    email = verified_account(client, mail_server)
    log_in(client, email, remember="y")
    returning = app.test_client()
    returning.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert returning.get("/account").status_code == 200


def test_remember_me_is_set_by_a_log_in_from_a_browser_with_no_cookie_yet(app, client, mail_server):
    email = verified_account(client, mail_server)
    fresh = app.test_client()  # no cookie: the log-in is what changes it
    assert log_in(fresh, email, remember="y").status_code == 303
    assert fresh.get_cookie("remember_token") is not None


def test_a_response_that_never_read_the_session_does_not_vary_on_cookie(app):
    # Flask-Login's remember-cookie check reads the session after every
    # response: run unguarded, every response would carry Vary: Cookie.
    response = app.test_client().get("/healthz")
    assert "Vary" not in response.headers


def test_log_out_forgets_remember_me(app, client, mail_server):
    email = verified_account(client, mail_server)
    log_in(client, email, remember="y")
    assert client.get_cookie("remember_token") is not None
    assert client.post("/auth/logout").status_code == 303
    assert client.get_cookie("remember_token") is None
    assert client.get("/account").status_code == 302


def test_a_reset_ends_every_session(app, client, mail_server):
    email = logged_in(client, mail_server)
    other = app.test_client()
    other.post("/auth/forgot", data={"email": email})
    link = link_in(mail_server.wait_for(email, count=2))
    assert follow(other, link, password=NEW_PASSWORD).status_code == 303
    assert client.get("/account").status_code == 302
    assert other.get("/account").status_code == 200


def test_log_out_ends_the_session_on_the_server_copied_cookies_too(app, client, mail_server):
    """Finding 7: a copied session cookie and remember cookie die at log-out."""
    email = verified_account(client, mail_server)
    log_in(client, email, remember="y")
    session, remembered = client.get_cookie("session"), client.get_cookie("remember_token")
    assert client.post("/auth/logout").status_code == 303
    for name, cookie in [("session", session), ("remember_token", remembered)]:
        copy = app.test_client()
        copy.set_cookie(name, cookie.value)
        assert copy.get("/account").status_code == 302, name


def test_an_address_change_ends_every_other_session(app, client, mail_server):
    email = logged_in(client, mail_server)
    other = app.test_client()
    assert log_in(other, email).status_code == 303
    new = new_email()
    client.post("/account/email", data={"email": new, "current_password": PASSWORD})
    assert follow(client, link_in(mail_server.wait_for(new))).status_code == 303
    assert client.get("/account").status_code == 200  # the session that confirmed goes on
    assert other.get("/account").status_code == 302


@pytest.mark.parametrize(
    ("remember", "setting", "lifetime"),
    [("y", "ACCOUNTS_REMEMBER_DAYS", 86400), ("", "ACCOUNTS_SESSION_HOURS", 3600)],
)
def test_a_log_in_ends_on_the_server_when_its_lifetime_has_passed(
    app, client, mail_server, monkeypatch, remember, setting, lifetime
):
    """The remember cookie carries its time; the setting is read per request."""
    email = verified_account(client, mail_server)
    log_in(client, email, remember=remember)
    cookie = client.get_cookie("remember_token" if remember else "session")
    copy = app.test_client()
    copy.set_cookie(cookie.key, cookie.value)
    assert copy.get("/account").status_code == 200
    later = time.time() + app.config[setting] * lifetime + 60
    monkeypatch.setattr(time, "time", lambda: later)
    fresh = app.test_client()
    fresh.set_cookie(cookie.key, cookie.value)
    assert fresh.get("/account").status_code == 302


def test_a_form_posted_after_the_session_ended_leads_back_to_its_page(client, mail_server):
    """Finding 15: log in, then the page of the form, not a GET of a POST-only URL."""
    answer = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD},
        headers={"Referer": "http://localhost/account"},
    )
    assert answer.status_code == 302
    assert answer.location == "/auth/login?next=/account"
    elsewhere = client.post("/account/delete", headers={"Referer": "https://evil.example/x"})
    assert elsewhere.location == "/auth/login?next=/"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "\t//evil.example",
        "/\t/evil.example",
        " /account",
        "evil.example",
        "/" + "a" * 3000,
    ],
)
def test_next_never_leaves_the_site(client, mail_server, target):
    email = verified_account(client, mail_server)
    answer = client.post(
        "/auth/login", query_string={"next": target}, data={"email": email, "password": PASSWORD}
    )
    assert answer.status_code == 303 and answer.location == "/"


@pytest.mark.parametrize("target", ["/account", "/account?tab=email", "/a/b%2F%2Fc"])
def test_next_takes_a_path_of_this_site(client, mail_server, target):
    email = verified_account(client, mail_server)
    answer = client.post(
        "/auth/login", query_string={"next": target}, data={"email": email, "password": PASSWORD}
    )
    assert answer.status_code == 303 and answer.location == target


def test_every_form_needs_its_csrf_token(app, client, mail_server):
    email = logged_in(client, mail_server)
    app.config["WTF_CSRF_ENABLED"] = True
    for path, form in [
        ("/auth/logout", {}),
        ("/account/password", {"current_password": PASSWORD, "password": NEW_PASSWORD}),
        ("/account/delete", {"current_password": PASSWORD}),
        ("/auth/login", {"email": email, "password": PASSWORD}),
        ("/auth/signup", {"email": "x@example.test", "password": NEW_PASSWORD}),
        ("/auth/forgot", {"email": email}),
    ]:
        answer = client.post(path, data=form)
        assert answer.status_code == 400 and "CSRF" in answer.text, path
    assert client.get("/account").status_code == 200  # still logged in, unchanged
    token = csrf_token(client, "/account")
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 303


@pytest.mark.parametrize("path", ["/auth/login", "/auth/signup", "/auth/forgot"])
def test_accounts_pages_are_never_cached(client, path):
    assert client.get(path).headers["Cache-Control"] == "no-store"
