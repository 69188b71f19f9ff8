"""Passwords: NIST SP 800-63B-4's checks only, argon2id, and a rehash at
log-in when the parameters change."""

import pytest
from argon2 import PasswordHasher

from accounts.models import find
from accounts.passwords import MAX_LENGTH, common_passwords, weakness
from accounts.tests.steps import log_in, verified_account
from tests.support.users import PASSWORD

CONTEXT = ["Bookshelf", "alice.walker@example.test", "alice.walker"]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("fourteen chars", "at least 15"),
        ("x" * (MAX_LENGTH + 1), f"at most {MAX_LENGTH}"),
        ("aaaaaaaaaaaaaaaa", "repeats"),
        ("abababababababab", "repeats"),
        ("121212121212121212", "repeats"),
        ("passwordpassword", "most common"),
        ("PasswordPassword", "most common"),
        ("1q2w3e4r5t6y7u8i", "most common"),
        ("alice.walker@example.test", "email address"),
        ("alice.walkeralice.walker", "email address"),
        ("BookshelfBookshelf", "site's name"),
    ],
)
def test_a_weak_password_is_refused_with_its_reason(password, reason):
    assert reason in (weakness(password, 15, CONTEXT) or "")


@pytest.mark.parametrize(
    "password",
    [
        "tulip harbor violin 47",
        "correct horse battery staple",
        "Ünïcödé wörds go here",
        "a1" * 4 + "zq!9x#w@",
    ],
)
def test_a_long_uncommon_password_is_accepted_without_composition_rules(password):
    assert weakness(password, 15, CONTEXT) is None


def test_full_width_characters_count_as_the_same_password():
    # NFKC: "password" typed in full-width letters is "password".
    assert "most common" in (weakness("ｐａｓｓｗｏｒｄｐａｓｓｗｏｒｄ", 15, []) or "")


def test_the_shipped_list_holds_the_common_passwords_of_8_characters_or_more():
    common = common_passwords()
    assert len(common) == 8354
    assert {"password", "iloveyou", "12345678"} <= common
    assert min(len(word) for word in common) == 8


def test_passwords_are_stored_as_argon2id_with_the_stated_parameters(client, mail_server, app):
    email = verified_account(client, mail_server)
    with app.app_context():
        user = find(email)
        assert user is not None
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_log_in_rehashes_a_password_hashed_with_other_parameters(client, mail_server, app):
    email = verified_account(client, mail_server)
    app.extensions["accounts_hasher"] = PasswordHasher(time_cost=3, memory_cost=32768)
    assert log_in(client, email, PASSWORD).status_code == 303
    with app.app_context():
        user = find(email)
        assert user is not None
        assert user.password_hash.startswith("$argon2id$v=19$m=32768,t=3,p=4$")
    client.post("/auth/logout")
    assert log_in(client, email, PASSWORD).status_code == 303
