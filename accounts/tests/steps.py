"""What a user does, step by step, through the test client; the accounts'
tests compose these."""

import re
from urllib.parse import urlsplit

from tests.support.mail_server import MailServer, link_in
from tests.support.users import PASSWORD, new_email

NEW_PASSWORD = "seven quiet lanterns drift"


def path_of(link: str) -> str:
    return urlsplit(link).path


def token_of(link: str) -> str:
    """A mailed link's token: after the # (accounts/tokens.py)."""
    return urlsplit(link).fragment


def sign_up(client, email: str, password: str = PASSWORD):
    return client.post("/auth/signup", data={"email": email, "password": password})


def follow(client, link: str, **form: str):
    """Open a mailed link and send its form (GET shows, POST acts), with
    the token as the page's script puts it in."""
    page = client.get(path_of(link))
    assert page.status_code == 200, page.text
    return client.post(path_of(link), data={"token": token_of(link), **form})


def verify(client, link: str, password: str = PASSWORD):
    """Follow a verification link: it takes the sign-up's password."""
    return follow(client, link, password=password)


def reset(client, link: str, password: str = NEW_PASSWORD):
    return follow(client, link, password=password)


def log_in(client, email: str, password: str = PASSWORD, **form: str):
    return client.post("/auth/login", data={"email": email, "password": password, **form})


def verified_account(client, mail_server: MailServer, email: str | None = None) -> str:
    """Sign up, follow the verification mail, log out: an account that
    can log in."""
    email = email or new_email()
    assert sign_up(client, email).status_code == 200
    assert verify(client, link_in(mail_server.wait_for(email))).status_code == 303
    assert client.post("/auth/logout").status_code == 303
    return email


def logged_in(client, mail_server: MailServer) -> str:
    email = verified_account(client, mail_server)
    assert log_in(client, email).status_code == 303
    return email


def csrf_token(client, path: str) -> str:
    """The CSRF token of the form on ``path`` (tests that turn CSRF on)."""
    page = client.get(path).text
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, page
    return match.group(1)
