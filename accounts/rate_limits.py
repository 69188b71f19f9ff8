"""Rate limits on log-in, sign-up and reset (Flask-Limiter).

Counted in Redis when REDIS_URL is set, so every web process and dyno
shares one count; in each process's memory otherwise (and when Redis is
unreachable, rather than refusing every log-in). A request past a limit
gets 429 with Retry-After.

The client address is ``request.remote_addr``: behind Heroku's router,
ProxyFix (PROXY_FIX) has set it from the last X-Forwarded-For entry, the
one the router adds; entries a client sends before it are ignored. IPv6
clients are counted by their /64 network, which one host usually holds
whole.
"""

import ipaddress
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter, RouteLimit

from accounts.forms import normalize_email
from accounts.models import MAX_EMAIL_LENGTH


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


def account_named() -> str:
    """The account a log-in names, spelled as the form reads it
    (forms.normalize_email, then its length limit), so padding or case
    never makes a fresh key; one key for every overlong address."""
    email = normalize_email(request.form.get("email", ""))[: MAX_EMAIL_LENGTH + 1]
    return "account:" + email


# Flask-Limiter 4.1 keeps its storage on this object, not per app: the last
# init_app's serves every app of the process. A process serves one app
# (gunicorn, the worker); tests build theirs one after another.
limiter = Limiter(client_network, key_prefix="accounts", headers_enabled=True)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    if app.config["REDIS_URL"] and not app.config["REDIS_VERIFY_TLS"]:
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"ssl_cert_reqs": "none"})
    limiter.init_app(app)


# The limits, as decorators of the views. Each reads its setting when a
# request comes, so a test's app can set its own.
TOO_MANY = "Too many attempts. Wait a little (Retry-After says how long), then try again."


def limit_of(setting_name: str, **options: Any) -> RouteLimit:
    def limits_text() -> str:
        return str(current_app.config[setting_name])

    return limiter.limit(limits_text, methods=["POST"], error_message=TOO_MANY, **options)


login_per_address = limit_of("ACCOUNTS_LOGIN_LIMIT_PER_ADDRESS")
login_per_account = limit_of("ACCOUNTS_LOGIN_LIMIT_PER_ACCOUNT", key_func=account_named)
signup_per_address = limit_of("ACCOUNTS_SIGNUP_LIMIT")
reset_per_address = limit_of("ACCOUNTS_RESET_LIMIT")
