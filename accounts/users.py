"""What the pages do to accounts: sign up, log in, verify, reset, change.

Views call these and render what they return. No function here says
whether an address has an account: sign-up, log-in and reset do the same
work (one password hash each) and answer the same for a known address as
for an unknown one (accounts/README.md, "What an attacker can still learn").
"""

from argon2 import PasswordHasher
from flask import current_app
from sqlalchemy.exc import IntegrityError

from accounts import mail
from accounts.models import User, find, new_session_token
from accounts.passwords import matches, normalize
from accounts.tokens import Purpose
from models import db, transaction, utc_now


def password_hasher() -> PasswordHasher:
    hasher: PasswordHasher = current_app.extensions["accounts_hasher"]
    return hasher


def hash_password(password: str) -> str:
    return password_hasher().hash(normalize(password))


def password_is(user: User, password: str) -> bool:
    return matches(password_hasher(), user.password_hash, password)


def sign_up(email: str, password: str) -> None:
    """Create the account and mail its verification link; for an address
    that has an account, hash all the same and mail its owner instead."""
    password_hash = hash_password(password)
    existing = find(email)
    if existing is not None:
        send_link(existing, "account_exists", Purpose.RESET_PASSWORD, "auth.reset_password")
        return
    user = User(email=email, password_hash=password_hash)
    try:
        with transaction():
            db.session.add(user)
    except IntegrityError:  # the same address, signed up at the same moment
        return
    send_link(user, "verify_email", Purpose.VERIFY_EMAIL, "auth.verify_email")


def create_verified(email: str, password: str) -> User:
    """An account whose address counts as verified, for the shell
    (``python manage.py shell``) and tests: the pages verify by mail."""
    user = User(email=email, password_hash=hash_password(password), email_verified_at=utc_now())
    with transaction():
        db.session.add(user)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user whose address and password these are, rehashed when the
    hashing parameters have changed; None otherwise. An unknown address
    costs one hash too, of a password that matches nothing."""
    user = find(email)
    stored = user.password_hash if user is not None else unmatchable_hash()
    if not matches(password_hasher(), stored, password) or user is None:
        return None
    if password_hasher().check_needs_rehash(user.password_hash):
        with transaction():
            user.password_hash = hash_password(password)
    return user


def unmatchable_hash() -> str:
    """A hash of a random password, made with the app (accounts.init_app):
    checking a password against it costs what a real check costs."""
    made: str = current_app.extensions["accounts_unmatchable_hash"]
    return made


def send_link(
    user: User, template: str, purpose: Purpose, endpoint: str, new_email: str | None = None
) -> None:
    """Mail ``user`` (or the ``new_email`` it asks for) a signed link."""
    link = {"user_id": user.id, "purpose": purpose, "endpoint": endpoint, "new_email": new_email}
    mail.send(new_email or user.email, template, link=link, email=user.email)


def request_verification(user: User) -> None:
    send_link(user, "verify_email", Purpose.VERIFY_EMAIL, "auth.verify_email")


def request_reset(email: str) -> None:
    """Mail a reset link if the address has an account. The job finds out
    (mail.signed_link), so that the request does the same for any address:
    one job submitted, and no query."""
    link = {"email": email, "purpose": Purpose.RESET_PASSWORD, "endpoint": "auth.reset_password"}
    mail.send(email, "reset_password", link=link)


def verify_email(user: User) -> None:
    with transaction():
        user.email_verified_at = utc_now()


def set_password(user: User, password: str) -> None:
    """Set the password and end every session of the user (a new session
    token): the caller logs the current one in again. Following a reset
    link proves the address too."""
    with transaction():
        user.password_hash = hash_password(password)
        user.session_token = new_session_token()
        user.email_verified_at = user.email_verified_at or utc_now()


def request_email_change(user: User, new_email: str) -> None:
    """Mail a link to the new address; the address changes when it is
    followed. A taken address gets a notice instead (no enumeration)."""
    if find(new_email) is not None:
        mail.send(new_email, "email_taken", email=new_email)
        return
    send_link(user, "change_email", Purpose.CHANGE_EMAIL, "account.confirm_email", new_email)


def change_email(user: User, new_email: str) -> bool:
    """False when another account has taken the address meanwhile."""
    try:
        with transaction():
            user.email = new_email
            user.email_verified_at = utc_now()
    except IntegrityError:
        return False
    return True


def delete(user: User) -> None:
    with transaction():
        db.session.delete(user)
