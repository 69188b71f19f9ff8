"""email_addresses: the one spelling of an address, and its refusals."""

import pytest

from accounts.email_addresses import InvalidAddress, normalize, spelling


@pytest.fixture
def context(app):
    with app.app_context():
        yield app


def test_an_address_longer_than_254_characters_is_refused(context):
    with pytest.raises(InvalidAddress, match="at most 254"):
        normalize("a" * 64 + "@" + "b" * 300 + ".com")


def test_an_address_whose_idna_form_is_longer_than_254_is_refused(context):
    domain = ".".join(["ü" * 20] * 8) + ".example"  # each label grows in punycode
    with pytest.raises(InvalidAddress, match="too long"):
        normalize("a@" + domain)


def test_a_log_in_spelling_of_a_non_address_matches_no_account(context):
    assert spelling("  not an address ") == "not an address"
    assert spelling(" BOB@Example.COM ") == "bob@example.com"
    assert len(spelling("x" * 1000)) == 255


def test_production_refuses_reserved_domains(context):
    context.config["ENV_NAME"] = "production"
    with pytest.raises(InvalidAddress, match="special-use or reserved"):
        normalize("a@example.test")
