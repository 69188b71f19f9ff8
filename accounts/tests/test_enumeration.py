"""No user enumeration: sign-up, log-in and reset answer a known address
exactly as an unknown one, and do the same work for both (one password
hash each), so that timing tells no more than the answer."""

import pytest
from argon2 import PasswordHasher

from accounts.tests.steps import log_in, sign_up, verified_account
from extensions import jobs
from tests.support.users import PASSWORD, new_email


class CountingHasher(PasswordHasher):
    """The app's hasher, counting what it computes."""

    def __init__(self, hasher: PasswordHasher):
        super().__init__(
            time_cost=hasher.time_cost,
            memory_cost=hasher.memory_cost,
            parallelism=hasher.parallelism,
        )
        self.computed = 0

    def hash(self, password, *, salt=None):
        self.computed += 1
        return super().hash(password, salt=salt)

    def verify(self, hash, password):
        self.computed += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(app) -> CountingHasher:
    counting = CountingHasher(app.extensions["accounts_hasher"])
    app.extensions["accounts_hasher"] = counting
    return counting


def answered(response, email: str) -> tuple[int, str]:
    return response.status_code, response.text.replace(email, "EMAIL")


def test_sign_up_answers_a_taken_address_as_a_new_one_and_hashes_once(client, mail_server, hasher):
    taken = verified_account(client, mail_server)
    fresh = new_email()
    hasher.computed = 0
    new = answered(sign_up(client, fresh), fresh)
    assert hasher.computed == 1
    hasher.computed = 0
    again = answered(sign_up(client, taken), taken)
    assert hasher.computed == 1
    assert again == new
    # The owner of the taken address hears of it, with a way back in.
    notice = mail_server.wait_for(taken, count=2)
    assert notice["Subject"].startswith("You already have an account")


def test_log_in_answers_an_unknown_address_as_a_wrong_password_and_hashes_once(
    client, mail_server, hasher
):
    known = verified_account(client, mail_server)
    unknown = new_email()
    hasher.computed = 0
    wrong_password = answered(log_in(client, known, "not the password at all"), known)
    assert hasher.computed == 1
    hasher.computed = 0
    no_account = answered(log_in(client, unknown, PASSWORD), unknown)
    assert hasher.computed == 1
    assert no_account == wrong_password
    assert wrong_password[0] == 400


def test_reset_answers_an_unknown_address_as_a_known_one(client, mail_server):
    known = verified_account(client, mail_server)
    unknown = new_email()
    assert answered(client.post("/auth/forgot", data={"email": unknown}), unknown) == answered(
        client.post("/auth/forgot", data={"email": known}), known
    )
    assert mail_server.messages(unknown) == []


def test_reset_queues_one_job_for_a_known_address_as_for_an_unknown_one(
    make_app, redis_url, mail_server
):
    app = make_app(REDIS_URL=redis_url)
    client = app.test_client()
    with app.app_context():
        queue = jobs.queue()
        known = new_email()
        sign_up(client, known)
        queue.empty()
        for email in (known, new_email()):
            client.post("/auth/forgot", data={"email": email})
            assert queue.count == 1
            queue.empty()
