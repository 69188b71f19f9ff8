"""Rate limits: log-in per account and per client address, sign-up and
reset per address; 429 with Retry-After; counted in Redis when it is set."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from redis import Redis

from accounts.tests.steps import log_in, sign_up
from tests.support.users import PASSWORD, new_email


def test_the_sixth_log_in_a_minute_to_one_account_gets_429_with_retry_after(client):
    email = new_email()
    answers = [log_in(client, email, "wrong password here") for _ in range(6)]
    assert [a.status_code for a in answers] == [400] * 5 + [429]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert "Too many attempts" in answers[-1].text
    # The same account typed differently is the same account.
    assert log_in(client, f"  {email.upper()} ", PASSWORD).status_code == 429
    # Another account from the same address is not held up by it.
    assert log_in(client, new_email(), PASSWORD).status_code == 400


def test_log_ins_from_one_address_are_limited_across_accounts(client):
    statuses = [log_in(client, new_email(), "wrong password here").status_code for _ in range(21)]
    assert statuses == [400] * 20 + [429]
    other = client.post(
        "/auth/login",
        data={"email": new_email(), "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.9"},
    )
    assert other.status_code == 400


@pytest.mark.parametrize(
    ("path", "form"),
    [("/auth/signup", {"password": PASSWORD}), ("/auth/forgot", {})],
)
def test_sign_up_and_reset_are_limited_per_address(client, path, form):
    statuses = [
        client.post(path, data={"email": new_email(), **form}).status_code for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]


def test_ipv6_clients_are_counted_by_their_64_network(client):
    def attempt(address: str) -> int:
        data = {"email": new_email(), "password": PASSWORD}
        return client.post(
            "/auth/forgot", data=data, environ_base={"REMOTE_ADDR": address}
        ).status_code

    assert [attempt(f"2001:db8:1:2::{n}") for n in range(1, 7)] == [200] * 5 + [429]
    assert attempt("2001:db8:1:3::1") == 200


def test_behind_the_router_the_address_is_the_one_the_router_adds(make_app):
    client = make_app(proxy_fix=True).test_client()

    def forgot(forwarded_for: str) -> int:
        headers = {"X-Forwarded-For": forwarded_for}
        return client.post("/auth/forgot", data={"email": new_email()}, headers=headers).status_code

    # A client varying what it sends before the router's entry is one client.
    statuses = [forgot(f"10.9.9.{n}, 203.0.113.7") for n in range(6)]
    assert statuses == [200] * 5 + [429]
    assert forgot("203.0.113.8") == 200


@pytest.fixture
def redis_app(make_app, redis_url):
    """The app counting in the tests' Redis, as every dyno would."""
    return make_app(REDIS_URL=redis_url)


def test_the_account_limit_holds_under_50_concurrent_attempts_on_redis(redis_app, redis_url):
    email = new_email()
    start = threading.Barrier(50, timeout=30)

    def attempt(_: int) -> int:
        client = redis_app.test_client()
        start.wait()
        return log_in(client, email, "wrong password here").status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(attempt, range(50), timeout=60))
    assert sorted(statuses) == [400] * 5 + [429] * 45
    keys = Redis.from_url(redis_url).keys("*accounts*")
    assert any(b"account:" in key for key in keys), keys


def test_sign_up_counts_in_redis_across_processes(redis_app, make_app, redis_url):
    client = redis_app.test_client()
    assert [sign_up(client, new_email()).status_code for _ in range(5)] == [200] * 5
    # A second dyno's app counts on from the same figure.
    second = make_app(REDIS_URL=redis_url)
    assert sign_up(second.test_client(), new_email()).status_code == 429
