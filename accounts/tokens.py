"""The links sent by mail: signed, time-limited and single-use, and fixed
when they are asked for.

A link carries the user's id, a fingerprint of the account's state that
its use changes (the password's hash, the address and whether it is
verified) and the time it was asked for, signed with SECRET_KEY by
itsdangerous with a salt per purpose. The request that asks for a link
decides all of it (``Link.ask``); the mail job only signs what it was
given, and drops the mail when the account's state has moved on since:
no job can mint a link for a state newer than the request saw, and no
live link waits in Redis. Using a link changes that state, so the same
link, and every other sent before it, no longer matches (users.change_once
makes the change atomic). Every link dies after its purpose's lifetime,
counted from when it was asked for (settings).

A link's token travels after the ``#``: browsers never send that part, so
no access log, router log or Referer ever holds a live token. The page
puts it in its form (static/links.js), and the form posts it.
"""

import hashlib
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from accounts.models import User
from models import db

# A token longer than any this module makes is refused before its
# signature is checked; a pasted link is cut to its token (after the #).
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


def lifetime(purpose: Purpose | str) -> int:
    """How many seconds a link of ``purpose`` lives (settings)."""
    return int(current_app.config["ACCOUNTS_LINK_LIFETIME"][Purpose(purpose)])


@dataclass(frozen=True)
class Link:
    """A link as the request decided it: whose, for what, in which state,
    when. Plain data, so that it travels in a job's arguments."""

    purpose: str
    endpoint: str
    user_id: int | None  # None: no such account, so no mail
    state: str
    asked_at: float
    new_email: str | None = None

    @classmethod
    def ask(
        cls, user: User | None, purpose: Purpose, endpoint: str, new_email: str | None = None
    ) -> "Link":
        return cls(
            purpose=purpose,
            endpoint=endpoint,
            user_id=user.id if user is not None else None,
            state=fingerprint(user) if user is not None else "",
            asked_at=time.time(),
            new_email=new_email,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def token(self) -> str | None:
        """The signed token, while the account is still in the state the
        request saw and the link's lifetime has not passed; None otherwise."""
        user = db.session.get(User, self.user_id) if self.user_id is not None else None
        if user is None or fingerprint(user) != self.state:
            return None
        if time.time() - self.asked_at > lifetime(self.purpose):
            return None
        payload = [self.user_id, self.state, self.new_email, self.asked_at]
        return serializer(Purpose(self.purpose)).dumps(payload)


def token_of(posted: str) -> str:
    """The token in what a form posted: the token, or a whole link pasted
    (the page without JavaScript asks for it)."""
    return posted.strip().rpartition("#")[2]


def read(token: str, purpose: Purpose) -> tuple[User, str | None] | None:
    """The user a valid ``token`` was made for, and the new address it
    carries; None when it is forged, expired, used or of another purpose."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        user_id, state, new_email, asked_at = serializer(purpose).loads(
            token, max_age=lifetime(purpose)
        )
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(asked_at, int | float) or time.time() - asked_at > lifetime(purpose):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or state != fingerprint(user):
        return None
    return user, new_email
