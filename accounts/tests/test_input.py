"""What the accounts' pages take: their form, and nothing else; one
spelling of an address for the limits; one length rule for a password
(issue 28, findings 3, 10 and 13)."""

import unicodedata

import pytest

from accounts.tests.steps import log_in
from accounts.users import create_verified
from tests.support.users import new_email

POSTS = ["/auth/login", "/auth/signup", "/auth/forgot", "/account/password", "/account/delete"]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("body", [{"email": "a@example.test"}, {"email": 5}, ["a"], "x"])
def test_a_json_body_is_a_415_never_a_500(client, path, body):
    response = client.post(path, json=body, headers={"Accept": "application/json"})
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("path", POSTS)
def test_a_file_part_is_a_400(client, path):
    from io import BytesIO

    data = {"email": (BytesIO(b"a@example.test"), "email.txt"), "password": "x"}
    response = client.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 400


@pytest.mark.parametrize("field", ["email", "password"])
def test_a_nul_is_a_400_before_any_query_on_both_databases(client, field):
    form = {"email": "a@example.test", "password": "a long enough password", field: "a\x00b"}
    assert client.post("/auth/login", data=form).status_code == 400


def test_padding_an_address_makes_no_fresh_log_in_limit(client):
    email = new_email()
    padded = " " * 240 + email  # past the address's 254 characters before trimming
    answers = [log_in(client, padded, "wrong password here") for _ in range(5)]
    assert [a.status_code for a in answers] == [400] * 5
    assert log_in(client, email, "wrong password here").status_code == 429


def test_a_password_sign_up_takes_log_in_takes_too(app, client):
    # 95 Hangul syllables of three jamo each: 95 characters as hashed
    # (NFKC), 285 code points as a keyboard may send them (NFD).
    password = unicodedata.normalize("NFD", ("한국말밥" * 24)[:95])
    assert len(unicodedata.normalize("NFKC", password)) == 95 and len(password) > 256
    email = new_email()
    with app.app_context():
        create_verified(email, password)
    assert log_in(client, email, password).status_code == 303
