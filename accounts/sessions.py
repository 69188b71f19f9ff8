"""Log-ins that end on the server, not only in the browser.

A session (and a "remember me" cookie) holds a login id: the account's
session token, when the log-in started, and whether it is remembered,
``<token>.<started>.<r|s>``. Flask signs the session and Flask-Login the
cookie, so no one can change it. A request's user is loaded only while:

- the account's session token is the one the login id names: logging
  out, a new password and a new address each make a new token, which ends
  every session of the account, copied cookies included (the server keeps
  one token per account, not a list of devices: logging out on one device
  logs out them all);
- the log-in is younger than ACCOUNTS_REMEMBER_DAYS (remembered) or
  ACCOUNTS_SESSION_HOURS (not), read when the request comes, so a lower
  setting takes effect at once.
"""

import time
from typing import Any

from flask import Flask, Response, current_app, g, request, session
from flask_login import LoginManager, login_user, logout_user, user_logged_in, user_logged_out
from sqlalchemy import select

from accounts.models import User, new_session_token
from models import db, transaction

REMEMBERED, SESSION = "r", "s"


def start(user: User, remember: bool = False) -> None:
    """Log ``user`` in with a session of its own: nothing from before the
    log-in is kept (no session fixation)."""
    session.clear()
    kind = REMEMBERED if remember else SESSION
    user.login_id = f"{user.session_token}.{int(time.time())}.{kind}"
    login_user(user, remember=remember)
    name_in_logs(user)


def load(login_id: str) -> User | None:
    """The user of a login id while its log-in lasts (Flask-Login's
    user_loader)."""
    token, _, rest = login_id.partition(".")
    started, _, kind = rest.partition(".")
    if not started.isdigit() or kind not in (REMEMBERED, SESSION):
        return None
    if time.time() - int(started) > lifetime(kind):
        return None
    query = select(User).where(User.session_token == token[:64])
    user = db.session.execute(query).scalar_one_or_none()
    if user is not None:
        user.login_id = login_id
        name_in_logs(user)
    return user


def name_in_logs(user: User) -> None:
    """Every line the request logs from now on names the user, by id."""
    from structlog.contextvars import bind_contextvars  # imported by the app's logs already

    bind_contextvars(user_id=user.id)


def lifetime(kind: str) -> int:
    if kind == REMEMBERED:
        return int(current_app.config["ACCOUNTS_REMEMBER_DAYS"]) * 86400
    return int(current_app.config["ACCOUNTS_SESSION_HOURS"]) * 3600


def end_all(user: User) -> None:
    """End every session of ``user`` (a new session token)."""
    with transaction():
        user.session_token = new_session_token()


def log_out(user: User | None) -> None:
    """End every session of ``user`` and this browser's."""
    if user is not None:
        end_all(user)
    session.clear()
    # After the clear: it marks the "remember me" cookie for deletion there.
    logout_user()


def check_remember_cookie_only_when_it_can_change(app: Flask, manager: LoginManager) -> None:
    """Flask-Login updates the remember cookie after every response, reading
    the session to see whether to; since Flask 3.1.3 any read marks the
    session read, so every response (``/healthz`` and the API's included)
    would carry ``Vary: Cookie`` and pay for the check. The cookie can only
    change when the request brings a cookie, or logs someone in or out
    (Flask-Login's signals): then Flask-Login's own hook runs. It is a
    private method of Flask-Login 0.6.3 (no upstream issue on record): a
    release that renames it fails here, at start-up."""
    hook = manager._update_remember_cookie  # Flask-Login's after_request function
    app.after_request_funcs[None].remove(hook)

    def update_remember_cookie(response: Response) -> Response:
        if "HTTP_COOKIE" in request.environ or g.get("login_changed", False):
            response = hook(response)
        return response

    app.after_request(update_remember_cookie)
    user_logged_in.connect(note_login_change, app)
    user_logged_out.connect(note_login_change, app)


def note_login_change(sender: Flask, **extra: Any) -> None:
    g.login_changed = True
