"""Mailed links are signed, time-limited, single-use (atomically), fixed
when they are asked for, and carry their token where no log sees it."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.tests.steps import (
    NEW_PASSWORD,
    path_of,
    reset,
    sign_up,
    token_of,
    verified_account,
    verify,
)
from tests.support.mail_server import link_in
from tests.support.users import new_email


def reset_link(client, mail_server, email: str, count: int) -> str:
    client.post("/auth/forgot", data={"email": email})
    return link_in(mail_server.wait_for(email, count=count))


def test_a_link_carries_its_token_after_the_hash_so_no_request_line_holds_it(client, mail_server):
    email = new_email()
    sign_up(client, email)
    link = link_in(mail_server.wait_for(email))
    assert path_of(link) == "/auth/verify" and len(token_of(link)) > 40
    page = client.get(path_of(link))
    assert 'name="token"' in page.text and "/account/static/links." in page.text


def test_a_verification_link_works_once(client, mail_server):
    email = new_email()
    sign_up(client, email)
    link = link_in(mail_server.wait_for(email))
    assert verify(client, link).status_code == 303
    assert verify(client, link).status_code == 410


def test_a_reset_link_works_once_and_ends_the_ones_sent_before_it(client, mail_server):
    email = verified_account(client, mail_server)
    first = reset_link(client, mail_server, email, count=2)
    second = reset_link(client, mail_server, email, count=3)
    assert reset(client, second).status_code == 303
    client.post("/auth/logout")
    for used in (first, second):
        assert reset(client, used, "another long passphrase").status_code == 410


# PostgreSQL only: the tests' in-memory SQLite is one connection, which
# threads cannot share at once; the compare-and-set is the same SQL on both.
@pytest.mark.parametrize("app", ["postgresql"], indirect=True)
def test_a_reset_link_is_used_once_however_many_requests_race(app, mail_server):
    """Finding 15: ten simultaneous posts of one link, exactly one 303."""
    email = verified_account(app.test_client(), mail_server)
    link = reset_link(app.test_client(), mail_server, email, count=2)

    def post(_: int) -> int:
        client = app.test_client()
        return client.post(
            path_of(link), data={"token": token_of(link), "password": NEW_PASSWORD}
        ).status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = sorted(pool.map(post, range(10)))
    assert statuses.count(303) == 1 and set(statuses) <= {303, 410}


@pytest.mark.parametrize(("hours", "expired"), [(0.9, False), (1.1, True)])
def test_a_reset_link_expires_an_hour_after_it_was_asked_for(
    client, mail_server, monkeypatch, hours, expired
):
    email = verified_account(client, mail_server)
    link = reset_link(client, mail_server, email, count=2)
    later = time.time() + hours * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert reset(client, link).status_code == (410 if expired else 303)


def test_a_link_is_refused_when_tampered_with_or_used_for_another_purpose(client, mail_server):
    email = new_email()
    sign_up(client, email)
    token = token_of(link_in(mail_server.wait_for(email)))
    form = {"token": token, "password": NEW_PASSWORD}
    assert client.post("/auth/reset", data=form).status_code == 410
    assert client.post("/account/email/confirm", data=form).status_code == 410
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.post("/auth/verify", data={**form, "token": tampered}).status_code == 410
    assert client.post("/auth/verify", data={**form, "token": "A" * 4000}).status_code == 410


def test_a_pasted_whole_link_works_without_javascript(client, mail_server):
    email = new_email()
    sign_up(client, email)
    link = link_in(mail_server.wait_for(email))
    from tests.support.users import PASSWORD

    answer = client.post(path_of(link), data={"token": link, "password": PASSWORD})
    assert answer.status_code == 303
