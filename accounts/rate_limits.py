"""Rate limits on everything that costs a password hash or a mail, on the
``limits`` library (fixed windows, counted atomically in its storage).

Counted in Redis when REDIS_URL is set, so every web process and dyno
shares one count; in each process's memory otherwise. When Redis cannot
count, the request answers 503 with Retry-After within a second or two
(``LimitsUnavailable``): a count that starts again from nothing in each
process's memory would hand out fresh guesses.

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

Only a limited view's POST is counted: no other request reaches this
module (Flask-Limiter, used before, checked every request of the app;
its maintainer points apps that limit only some actions to ``limits``
itself: alisaifee/flask-limiter#489). No response says how much of a
limit is left: a count per account would tell a stranger how often its
owner logs in. A 429 carries Retry-After, the length of the limit's window.

The client address is ``request.remote_addr``: behind Heroku's router,
ProxyFix (PROXY_FIX) has set it from the last X-Forwarded-For entry, the
one the router adds; entries a client sends before it are ignored. IPv6
clients are counted by their /64 network, which one host usually holds
whole.
"""

import hashlib
import ipaddress
from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

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


def init_app(app: Flask) -> None:
    url = app.config["REDIS_URL"]
    options: dict[str, Any] = {}
    if url:
        # As jobs' client does (plumbing/jobs.py): a hung Redis costs half a
        # second a step, and its errors arrive as limits' StorageError.
        options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, "wrap_exceptions": True}
        if not app.config["REDIS_VERIFY_TLS"]:
            options["ssl_cert_reqs"] = "none"
    storage = storage_from_string(url or "memory://", **options)
    app.extensions["accounts_rate_limits"] = FixedWindowRateLimiter(storage)


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


@cache
def limits_of(text: str) -> list[RateLimitItem]:
    return parse_many(text)


def count(setting_name: str, scope: str, key: str, message: str = TOO_MANY) -> None:
    """Count one more attempt against each limit of ``setting_name``; 429
    at the first one it passes."""
    counter: FixedWindowRateLimiter = current_app.extensions["accounts_rate_limits"]
    for item in limits_of(current_app.config[setting_name]):
        try:
            within = counter.hit(item, "accounts", scope, key)
        except StorageError:
            raise LimitsUnavailable() from None
        if not within:
            raise TooManyRequests(message, retry_after=item.get_expiry())


def limited(
    setting_name: str,
    message: str = TOO_MANY,
    scope: str | None = None,
    key: Callable[[], str] = client_network,
) -> Callable[[View], View]:
    """A view's limit by ``setting_name`` (read when a request comes, so a
    test's app sets its own), on its POSTs; ``scope``: one count shared by
    every view that names it."""

    def decorate(view: View) -> View:
        name = scope or f"{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def counted(*args: Any, **kwargs: Any) -> Any:
            if request.method == "POST":
                count(setting_name, name, key(), message)
            return view(*args, **kwargs)

        return counted

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
        key=account_named,
    )
    return password_checks_per_address(per_account(view))


signup_per_address = limited("ACCOUNTS_SIGNUP_LIMIT")
reset_per_address = limited("ACCOUNTS_RESET_LIMIT")
email_change_per_address = limited("ACCOUNTS_EMAIL_CHANGE_LIMIT")


def mail_allowed(to: str) -> bool:
    """Whether ``to`` may get one more mail (ACCOUNTS_MAIL_LIMIT_PER_RECIPIENT);
    counting it when it may."""
    counter: FixedWindowRateLimiter = current_app.extensions["accounts_rate_limits"]
    try:
        return all(
            counter.hit(item, "accounts", "mail", to)
            for item in limits_of(current_app.config["ACCOUNTS_MAIL_LIMIT_PER_RECIPIENT"])
        )
    except StorageError:
        raise LimitsUnavailable() from None
