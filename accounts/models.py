"""The accounts' table: one row per user."""

import secrets
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from models import Model, UTCDateTime, db, utc_now

# RFC 5321 4.5.3.1: a path is at most 256 octets, so an address at most 254.
MAX_EMAIL_LENGTH = 254


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(Model):
    """An account: its email address (lower-cased; the log-in name), its
    password's hash, and whether the address is verified.

    A fork's rows belong to a user by a foreign key to ``users.id``
    (README "Accounts").
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: named uq_users_email by the naming convention (models.py).
    email: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # What a session and a "remember me" cookie name instead of the id
    # (sessions.py): a new one ends every session of the user.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)

    # Flask-Login's user protocol. Every loaded user is signed in and active:
    # an unverified address cannot log in (users.authenticate).
    is_authenticated = True
    is_active = True
    is_anonymous = False
    # What this request's session holds (sessions.py): not a column.
    login_id = ""

    def get_id(self) -> str:
        return self.login_id


def find(email: str) -> User | None:
    """The user with this (normalized) address, or None."""
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
