"""Mailed links are signed, time-limited and single-use."""

import time

import pytest
from itsdangerous import TimestampSigner

from accounts.tests.steps import NEW_PASSWORD, follow, path_of, sign_up, verified_account
from tests.support.mail_server import link_in
from tests.support.users import new_email


def reset_link(client, mail_server, email: str, count: int) -> str:
    client.post("/auth/forgot", data={"email": email})
    return path_of(link_in(mail_server.wait_for(email, count=count)))


def test_a_verification_link_works_once(client, mail_server):
    email = new_email()
    sign_up(client, email)
    link = link_in(mail_server.wait_for(email))
    assert follow(client, link).status_code == 303
    assert client.get(path_of(link)).status_code == 410
    assert client.post(path_of(link)).status_code == 410


def test_a_reset_link_works_once_and_ends_the_ones_sent_before_it(client, mail_server):
    email = verified_account(client, mail_server)
    first = reset_link(client, mail_server, email, count=2)
    second = reset_link(client, mail_server, email, count=3)
    assert client.post(second, data={"password": NEW_PASSWORD}).status_code == 303
    for used in (first, second):
        assert client.post(used, data={"password": "another long passphrase"}).status_code == 410


@pytest.mark.parametrize(("hours", "expired"), [(0.9, False), (1.1, True)])
def test_a_reset_link_expires_after_an_hour(client, mail_server, monkeypatch, hours, expired):
    email = verified_account(client, mail_server)
    link = reset_link(client, mail_server, email, count=2)
    later = int(time.time() + hours * 3600)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda signer: later)
    assert client.get(link).status_code == (410 if expired else 200)


def test_a_link_is_refused_when_tampered_with_or_used_for_another_purpose(client, mail_server):
    email = new_email()
    sign_up(client, email)
    verify = path_of(link_in(mail_server.wait_for(email)))
    token = verify.rsplit("/", 1)[1]
    assert client.get(f"/auth/reset/{token}").status_code == 410
    assert client.get(f"/account/email/{token}").status_code == 410
    assert (
        client.get(verify[:-2] + ("AA" if not verify.endswith("AA") else "BB")).status_code == 410
    )
    assert client.get("/auth/verify/" + "A" * 5000).status_code == 410
