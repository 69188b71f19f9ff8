"""The links sent by mail: signed, time-limited and single-use.

A link carries the user's id and a fingerprint of the account's state
that the link's use changes (the password's hash, the address and whether
it is verified), signed with SECRET_KEY by itsdangerous with a salt per
purpose. Using a link changes that state, so the same link, or any other
sent before it, no longer matches: single use needs no table of used
tokens. Every link dies after its purpose's lifetime (settings).
"""

import hashlib
from enum import StrEnum

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from accounts.models import User
from models import db

# A token longer than any this module makes is refused before its
# signature is checked.
MAX_TOKEN_LENGTH = 512


class Purpose(StrEnum):
    VERIFY_EMAIL = "verify-email"
    RESET_PASSWORD = "reset-password"  # noqa: S105 (a purpose's name)
    CHANGE_EMAIL = "change-email"


def serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"accounts.{purpose}")


def fingerprint(user: User) -> str:
    state = f"{user.password_hash}|{user.email}|{user.email_verified_at}"
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def make(user: User, purpose: Purpose, new_email: str | None = None) -> str:
    payload = [user.id, fingerprint(user), new_email]
    return serializer(purpose).dumps(payload)


def lifetime(purpose: Purpose | str) -> int:
    """How many seconds a link of ``purpose`` lives (settings)."""
    return int(current_app.config["ACCOUNTS_LINK_LIFETIME"][Purpose(purpose)])


def read(token: str, purpose: Purpose) -> tuple[User, str | None] | None:
    """The user a valid ``token`` was made for, and the new address it
    carries; None when it is forged, expired, used or of another purpose."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        user_id, state, new_email = serializer(purpose).loads(token, max_age=lifetime(purpose))
    except (BadSignature, ValueError, TypeError):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or state != fingerprint(user):
        return None
    return user, new_email
