"""Accounts: sign up, verify the address, log in and out, reset and change
the password, change the address, delete the account.

Everything of it lives in this package: the table (``models``), what the
pages do (``users``), the pages (``auth``: getting in; ``account``: the
signed-in user's page), signed links (``tokens``), log-ins
(``sessions``), addresses (``email_addresses``), passwords
(``passwords``), mail (``mail``), rate limits (``rate_limits``), its
settings (``settings``), templates and tests. ``create_app()`` wires it in
with one call. Your views use Flask-Login's ``login_required`` and
``current_user`` (README "Accounts").
"""

import secrets

from flask import Flask
from flask_login import LoginManager

from accounts import account, auth, rate_limits, safe_next, sessions, settings
from accounts.passwords import hasher

login_manager = LoginManager()
login_manager.unauthorized_handler(safe_next.ask_to_log_in)
# Flask-Login's session protection marks a session whose address or
# browser changed; the server's check (sessions.py) does the real work.
login_manager.session_protection = "basic"
login_manager.user_loader(sessions.load)


def init_app(app: Flask) -> None:
    settings.load(app)
    password_hasher = hasher(*app.config["ACCOUNTS_ARGON2"])
    app.extensions["accounts_hasher"] = password_hasher
    # Made now, so that no log-in of an unknown address pays for it (users.py).
    app.extensions["accounts_unmatchable_hash"] = password_hasher.hash(secrets.token_urlsafe(32))
    login_manager.init_app(app)
    sessions.check_remember_cookie_only_when_it_can_change(app, login_manager)
    rate_limits.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
