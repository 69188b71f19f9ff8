"""Accounts: sign up, verify the address, log in and out, reset and change
the password, change the address, delete the account.

Everything of it lives in this package: the table (``models``), what the
pages do (``users``), the pages (``auth``: getting in; ``account``: the
signed-in user's page), signed links (``tokens``), passwords
(``passwords``), mail (``mail``), rate limits (``rate_limits``), its
settings (``settings``), templates and tests. ``create_app()`` wires it in
with one call. Your views use Flask-Login's ``login_required`` and
``current_user`` (README "Accounts").
"""

import secrets

from flask import Flask
from flask_login import LoginManager
from sqlalchemy import select

from accounts import account, auth, rate_limits, settings
from accounts.models import User
from accounts.passwords import hasher
from models import db

login_manager = LoginManager()
login_manager.login_view = "auth.log_in"
login_manager.login_message = "Log in to see that page."
# Flask-Login's session protection marks a session whose address or
# browser changed; the session token (models.User) does the real work.
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    """The user a session or "remember me" cookie names, while its
    session token is current (a password change makes a new one)."""
    query = select(User).where(User.session_token == session_token[:64])
    return db.session.execute(query).scalar_one_or_none()


def init_app(app: Flask) -> None:
    settings.load(app)
    password_hasher = hasher(*app.config["ACCOUNTS_ARGON2"])
    app.extensions["accounts_hasher"] = password_hasher
    # Made now, so that no log-in of an unknown address pays for it (users.py).
    app.extensions["accounts_unmatchable_hash"] = password_hasher.hash(secrets.token_urlsafe(32))
    login_manager.init_app(app)
    rate_limits.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
