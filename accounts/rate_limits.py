"""Rate limits on everything that costs a password hash or a mail
(Flask-Limiter, and its ``limits`` storage for mail).

Counted in Redis when REDIS_URL is set, so every web process and dyno
shares one count; in each process's memory otherwise. When Redis cannot
count, the request answers 503 with Retry-After within a second or two
(``limited``): a count that starts again from nothing in each process's
memory would hand out fresh guesses.

What is limited, and by which key (the setting names the figures):

- every password check (log-in, confirming an address, the account
  page's forms): per client address, ACCOUNTS_LOGIN_LIMIT_PER_ADDRESS, one
  count across those pages; and per account, ACCOUNTS_LOGIN_LIMIT_PER_ACCOUNT,
  keyed by the address as email_addresses spells it and by the account's
  password: the owner ends a lock-out from their inbox by setting a new
  password (the 429 page says so);
- sign-up, forgotten password and address change: per client address;
- every mail: per recipient, ACCOUNTS_MAIL_LIMIT_PER_RECIPIENT
  (``mail_allowed``); past it the mail is dropped and the page answers as
  usual, so the limit tells no one that someone else asked.

No response says how much of a limit is left: a count per account would
tell a stranger how often its owner logs in. A 429 carries Retry-After,
the length of the limit's window.

The client address is ``request.remote_addr``: behind Heroku's router,
ProxyFix (PROXY_FIX) has set it from the last X-Forwarded-For entry, the
one the router adds; entries a client sends before it are ignored. IPv6
clients are counted by their /64 network, which one host usually holds
whole.
"""

import hashlib
import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter, RequestLimit
from flask_login import current_user
from limits import parse_many
from limits.errors import StorageError

from accounts.email_addresses import spelling
from accounts.models import find
from errors import AppError

View = Callable[..., Any]


def client_network() -> str:
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def account_key(email: str, password_hash: str | None) -> str:
    """One count per account and password: a new password (a reset from
    the owner's inbox) starts a new count."""
    version = hashlib.sha256((password_hash or "").encode()).hexdigest()[:12]
    return f"account:{email}:{version}"


def account_named() -> str:
    """The account a password check is for: the signed-in user's, or the
    one a form names, spelled as the view reads it (so padding, case or an
    IDNA spelling never makes a fresh key)."""
    if current_user.is_authenticated:
        return account_key(current_user.email, current_user.password_hash)
    email = spelling(request.form.get("email", ""))
    user = find(email)
    return account_key(email, user.password_hash if user is not None else None)


# Flask-Limiter 4.1 keeps its storage on this object, not per app: the last
# init_app's serves every app of the process. A process serves one app
# (gunicorn, the worker); tests build theirs one after another.
limiter = Limiter(client_network, key_prefix="accounts", headers_enabled=False)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", False)
    if app.config["REDIS_URL"]:
        # As jobs' client does (plumbing/jobs.py): a hung Redis costs half a
        # second a step, and its errors arrive as limits' StorageError.
        options: dict[str, Any] = {
            "socket_connect_timeout": 0.5,
            "socket_timeout": 0.5,
            "wrap_exceptions": True,
        }
        if not app.config["REDIS_VERIFY_TLS"]:
            options["ssl_cert_reqs"] = "none"
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", options)
    limiter.init_app(app)


class LimitsUnavailable(AppError):
    """Redis could not count: the request does nothing and says so."""

    RETRY_AFTER = 30

    def __init__(self) -> None:
        super().__init__(
            "limits_unavailable",
            "This page cannot count attempts right now; try again shortly.",
            503,
            {"Retry-After": str(self.RETRY_AFTER)},
        )


TOO_MANY = "Too many attempts. Wait a little (Retry-After says how long), then try again."
TOO_MANY_FOR_ACCOUNT = (
    "Too many attempts for this account. Wait a little (Retry-After says how long), "
    "or set a new password with a link we mail you (Forgot your password?): "
    "that ends the wait at once."
)


def remember_breach(limit: RequestLimit) -> None:
    """on_breach: the 429's Retry-After is the window of the limit hit,
    the same for every key (add_retry_after)."""
    g.accounts_retry_after = limit.limit.get_expiry()


def add_retry_after(response: Response) -> Response:
    """after_request of the accounts' blueprints."""
    if response.status_code == 429 and "accounts_retry_after" in g:
        response.headers["Retry-After"] = str(g.accounts_retry_after)
    return response


def limited(
    setting_name: str, message: str = TOO_MANY, scope: str | None = None, **options: Any
) -> Callable[[View], View]:
    """A view's limit by ``setting_name``, read when a request comes (a
    test's app sets its own); ``scope``: one count shared by every view
    that names it."""

    def limits_text() -> str:
        return str(current_app.config[setting_name])

    if scope is not None:
        limit = limiter.shared_limit(
            limits_text,
            scope,
            methods=["POST"],
            error_message=message,
            on_breach=remember_breach,
            **options,
        )
    else:
        limit = limiter.limit(
            limits_text,
            methods=["POST"],
            error_message=message,
            on_breach=remember_breach,
            **options,
        )

    def decorate(view: View) -> View:
        counted = limit(view)

        # wraps(counted) copies Flask-Limiter's mark: a second decorator on
        # the view then leaves the counting to the first (no double count).
        @wraps(counted)
        def answer(*args: Any, **kwargs: Any) -> Any:
            try:
                return counted(*args, **kwargs)
            except StorageError:
                raise LimitsUnavailable() from None

        return answer

    return decorate


def password_checks_per_address(view: View) -> View:
    """A view that hashes a password for a mailed link's holder: the
    client address's count (the link names the account)."""
    return limited("ACCOUNTS_LOGIN_LIMIT_PER_ADDRESS", scope="password-per-address")(view)


def password_checks(view: View) -> View:
    """A view that checks an account's password: both counts."""
    per_account = limited(
        "ACCOUNTS_LOGIN_LIMIT_PER_ACCOUNT",
        TOO_MANY_FOR_ACCOUNT,
        scope="password-per-account",
        key_func=account_named,
    )
    return password_checks_per_address(per_account(view))


signup_per_address = limited("ACCOUNTS_SIGNUP_LIMIT")
reset_per_address = limited("ACCOUNTS_RESET_LIMIT")
email_change_per_address = limited("ACCOUNTS_EMAIL_CHANGE_LIMIT")


def mail_allowed(to: str) -> bool:
    """Whether ``to`` may get one more mail (ACCOUNTS_MAIL_LIMIT_PER_RECIPIENT);
    counting it when it may."""
    limits = parse_many(current_app.config["ACCOUNTS_MAIL_LIMIT_PER_RECIPIENT"])
    try:
        return all(limiter.limiter.hit(item, "accounts-mail", to) for item in limits)
    except StorageError:
        raise LimitsUnavailable() from None
