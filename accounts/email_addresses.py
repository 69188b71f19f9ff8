"""One address, one spelling: what a form's address becomes before it is
stored, looked up, counted by a rate limit or mailed.

email-validator (the parser WTForms and pydantic use) reads exactly one
mailbox (no display name, no list, no comment, no quoted or bracketed
part), puts the domain in its IDNA (punycode) form and the local part in
Unicode NFC. On top of that only A-Z are lower-cased: casefolding
non-ASCII letters merges mailboxes and domains (``straße`` -> ``strasse``).

An address with non-ASCII letters before the @ needs a mail server that
speaks SMTPUTF8 (RFC 6531); ACCOUNTS_SMTPUTF8 says whether yours does, so
such an address is refused at the form, not lost in the mail queue.
"""

from email_validator import EmailNotValidError, validate_email
from flask import current_app

from accounts.models import MAX_EMAIL_LENGTH

ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
NOT_UTF8 = "This site can only mail addresses written in ASCII letters before the @."


class InvalidAddress(ValueError):
    """Not one mailbox this site can mail; the message says why."""


def normalize(value: str) -> str:
    """The stored spelling of ``value``, or InvalidAddress."""
    value = value.strip()
    if len(value) > MAX_EMAIL_LENGTH:  # before any parsing: a bound on the work
        raise InvalidAddress(f"Use at most {MAX_EMAIL_LENGTH} characters.")
    smtputf8 = bool(current_app.config["ACCOUNTS_SMTPUTF8"])
    try:
        valid = validate_email(
            value,
            check_deliverability=False,  # no DNS from a form (and none from a test)
            allow_smtputf8=smtputf8,
            # Development and tests mail to reserved names (example.test).
            test_environment=current_app.config["ENV_NAME"] in ("development", "testing"),
        )
    except EmailNotValidError as error:
        if not smtputf8 and "Internationalized characters before the @" in str(error):
            raise InvalidAddress(NOT_UTF8) from None
        raise InvalidAddress(f"Enter an email address such as name@example.com. {error}") from None
    # email-validator has measured the IDNA form too (RFC 5321's 254 octets).
    return f"{valid.local_part.translate(ASCII_LOWER)}@{valid.ascii_domain}"


def spelling(value: str) -> str:
    """The spelling to look ``value`` up by (log-in, its rate limit): the
    stored one when it is an address, else the trimmed text cut to a length
    no address has, which matches no account."""
    try:
        return normalize(value)
    except InvalidAddress:
        return value.strip()[: MAX_EMAIL_LENGTH + 1]
