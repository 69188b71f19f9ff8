"""What the pages do to accounts: sign up, log in, verify, reset, change.

Views call these and render what they return. No function here says
whether an address has an account: sign-up, log-in and reset do the same
work (one password hash, one query, one job each) and answer the same for
a known address as for an unknown one (accounts/README.md, "What an
attacker can still learn").

Every mail is queued before the change it reports is committed, or the
change is undone when its mail cannot be queued: a request that answers
503 (errors.JobsUnavailable) leaves nothing behind whose mail was never
queued. Every change a link makes is atomic (``change_once``).
"""

from datetime import timedelta
from typing import Any, Literal, cast

from argon2 import PasswordHasher
from flask import current_app
from sqlalchemy import CursorResult, update
from sqlalchemy import delete as delete_rows
from sqlalchemy.exc import IntegrityError

from accounts import mail
from accounts.models import User, find, new_session_token
from accounts.passwords import matches, normalize
from accounts.tokens import Link, Purpose, lifetime
from errors import JobsUnavailable
from models import db, transaction, utc_now


def password_hasher() -> PasswordHasher:
    hasher: PasswordHasher = current_app.extensions["accounts_hasher"]
    return hasher


def hash_password(password: str) -> str:
    return password_hasher().hash(normalize(password))


def password_is(user: User, password: str) -> bool:
    return matches(password_hasher(), user.password_hash, password)


def holder_of(email: str) -> User | None:
    """The account of ``email``; an unverified one whose verification
    link has expired is deleted instead (no sign-up holds an address
    it never proved)."""
    user = find(email)
    if user is None or user.email_verified_at is not None:
        return user
    if utc_now() - user.created_at <= timedelta(seconds=lifetime(Purpose.VERIFY_EMAIL)):
        return user
    with transaction():
        db.session.execute(
            delete_rows(User).where(User.id == user.id, User.email_verified_at.is_(None))
        )
    return None


def sign_up(email: str, password: str) -> None:
    """Create the account and mail its verification link; for an address
    that has an account, hash all the same and mail its owner instead.
    The account stays only if its mail was queued."""
    password_hash = hash_password(password)
    existing = holder_of(email)
    if existing is not None:
        link = Link.ask(existing, Purpose.RESET_PASSWORD, "auth.reset_password")
        mail.send(existing.email, "account_exists", link=link)
        return
    user = User(email=email, password_hash=password_hash)
    try:
        with transaction():
            db.session.add(user)
    except IntegrityError:  # the same address, signed up at the same moment
        return
    try:
        request_verification(user)
    except JobsUnavailable:
        with transaction():
            db.session.delete(user)
        raise


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


def request_verification(user: User) -> None:
    link = Link.ask(user, Purpose.VERIFY_EMAIL, "auth.verify_email")
    mail.send(user.email, "verify_email", link=link)


def request_reset(email: str) -> None:
    """Mail a reset link if the address has an account. The request does
    the same for any address (one query, one job); the job drops the
    message of an address without an account."""
    user = find(email)
    link = Link.ask(user, Purpose.RESET_PASSWORD, "auth.reset_password")
    mail.send(email, "reset_password", link=link)


def change_once(user: User, **values: object) -> bool:
    """Set ``values`` on ``user`` and end its sessions (a new session
    token), unless another request changed the account since it was
    read: what a link does happens once, however many requests race."""
    statement = (
        update(User)
        .where(User.id == user.id, User.session_token == user.session_token)
        .values(session_token=new_session_token(), **values)
        .execution_options(synchronize_session="fetch")
    )
    with transaction():
        result = cast("CursorResult[Any]", db.session.execute(statement))
    return result.rowcount == 1


def verify_email(user: User) -> bool:
    """False when the link was used meanwhile."""
    return change_once(user, email_verified_at=utc_now())


def set_password(user: User, password: str) -> bool:
    """Set the password and end every session of the user: the caller
    logs the current one in again. Following a reset link proves the
    address too. The old address hears of it first; False when the
    account changed meanwhile (a link used twice)."""
    password_hash = hash_password(password)
    mail.send(user.email, "password_changed")
    return change_once(
        user, password_hash=password_hash, email_verified_at=user.email_verified_at or utc_now()
    )


def request_email_change(user: User, new_email: str) -> None:
    """Mail a link to the new address; the address changes when it is
    followed. A taken address gets a notice instead (no enumeration)."""
    if holder_of(new_email) is not None:
        mail.send(new_email, "email_taken", email=new_email)
        return
    link = Link.ask(user, Purpose.CHANGE_EMAIL, "account.confirm_email", new_email)
    mail.send(new_email, "change_email", link=link, email=user.email)


EmailChange = Literal["changed", "taken", "used"]


def change_email(user: User, new_email: str) -> EmailChange:
    """The old address hears of it first, then the address changes and
    every session ends; "taken" when another account has taken the
    address meanwhile, "used" when the link was used meanwhile."""
    if holder_of(new_email) is not None:
        return "taken"
    mail.send(user.email, "email_changed", new_email=new_email)
    try:
        changed = change_once(user, email=new_email, email_verified_at=utc_now())
    except IntegrityError:
        return "taken"
    return "changed" if changed else "used"


def delete(user: User) -> None:
    with transaction():
        db.session.delete(user)
