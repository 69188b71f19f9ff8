"""The accounts' settings: each bad value stops the app with its name, and
staging and production send cookies only over HTTPS."""

import logging

import flask_migrate
import pytest

from accounts.tests.steps import log_in, sign_up, verify
from config import ConfigError, ProductionConfig, TestingConfig
from tests.support.mail_server import link_in
from tests.support.users import PASSWORD, new_email
from web import create_app


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ACCOUNTS_SIGNUP_LIMIT": "5 a minute"}, "ACCOUNTS_SIGNUP_LIMIT must be limits such as"),
        ({"ACCOUNTS_PASSWORD_MIN_LENGTH": "6"}, "ACCOUNTS_PASSWORD_MIN_LENGTH"),
        ({"SMTP_SERVER": "mail.test", "SMTP_SECURITY": "ssl"}, "SMTP_SECURITY must be"),
        ({"SMTP_SERVER": "mail.test", "SMTP_PORT": "x"}, "SMTP_PORT"),
    ],
)
def test_a_bad_setting_is_an_error_that_names_it(settings, message):
    with pytest.raises(ConfigError, match=message):
        create_app(TestingConfig(settings))


def production(tmp_path, **settings: str) -> ProductionConfig:
    return ProductionConfig(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
            "SECRET_KEY": "a-test-secret-that-is-not-the-default",
            "TRUSTED_HOSTS": "localhost",
            **settings,
        }
    )


def test_production_needs_a_sender_once_a_server_is_set(tmp_path):
    with pytest.raises(ConfigError, match="MAIL_FROM is not set"):
        create_app(production(tmp_path, SMTP_SERVER="mail.test"))


def test_production_starts_without_a_server_and_says_so(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        create_app(production(tmp_path))
    assert "SMTP_SERVER is not set: accounts can send no mail" in caplog.text


def test_the_mailgun_add_ons_variables_are_read_by_their_prefix():
    app = create_app(
        TestingConfig(
            {
                "SMTP_SETTINGS": "MAILGUN_SMTP",
                "MAILGUN_SMTP_SERVER": "smtp.mailgun.org",
                "MAILGUN_SMTP_PORT": "587",
                "MAILGUN_SMTP_LOGIN": "postmaster@mg.example.com",
                "MAILGUN_SMTP_PASSWORD": "secret",
            }
        )
    )
    assert app.config["ACCOUNTS_SMTP"] == {
        "server": "smtp.mailgun.org",
        "port": 587,
        "login": "postmaster@mg.example.com",
        "password": "secret",
        "security": "starttls",
    }


def test_production_cookies_are_secure_httponly_and_same_site(tmp_path, mail_server):
    app = create_app(production(tmp_path, **mail_server.settings))
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        flask_migrate.upgrade()
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    email = new_email()
    sign_up(client, email)
    verify(client, link_in(mail_server.wait_for(email)))
    client.post("/auth/logout")
    answer = log_in(client, email, PASSWORD, remember="y")
    assert answer.status_code == 303
    cookies = {c.split("=")[0]: c for c in answer.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        attributes = [part.strip() for part in cookies[name].split(";")]
        assert {"Secure", "HttpOnly", "SameSite=Lax"} <= set(attributes), cookies[name]
