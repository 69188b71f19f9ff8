"""The accounts' settings, read like every setting (config.py): from
``app.config["ENVIRONMENT"]``, each with its default, each bad value a
ConfigError naming it. accounts/README.md lists them with their figures."""

from datetime import timedelta

from flask import Flask
from limits import parse_many

from accounts.tokens import Purpose
from config import ConfigError, Environment

# How long each mailed link lives: its setting, and the default in hours.
LINK_HOURS = {
    Purpose.VERIFY_EMAIL: ("ACCOUNTS_VERIFY_LINK_HOURS", 48),
    Purpose.RESET_PASSWORD: ("ACCOUNTS_RESET_LINK_HOURS", 1),
    Purpose.CHANGE_EMAIL: ("ACCOUNTS_EMAIL_LINK_HOURS", 24),
}
# The rate limits (rate_limits.py), in the limits library's notation.
LIMITS = {
    "ACCOUNTS_LOGIN_LIMIT_PER_ACCOUNT": "5/minute;20/hour",
    "ACCOUNTS_LOGIN_LIMIT_PER_ADDRESS": "20/minute;200/hour",
    "ACCOUNTS_SIGNUP_LIMIT": "5/minute;20/hour",
    "ACCOUNTS_RESET_LIMIT": "5/minute;20/hour",
    "ACCOUNTS_EMAIL_CHANGE_LIMIT": "5/minute;20/hour",
    "ACCOUNTS_MAIL_LIMIT_PER_RECIPIENT": "5/hour;20/day",
}


def load(app: Flask) -> None:
    """The ACCOUNTS_*, SMTP_* and MAIL_FROM settings, read like the
    app's own (config.py)."""
    env: Environment = app.config["ENVIRONMENT"]
    remember_days = env.integer("ACCOUNTS_REMEMBER_DAYS", 30, minimum=1)
    app.config.update(
        ACCOUNTS_PASSWORD_MIN_LENGTH=env.integer("ACCOUNTS_PASSWORD_MIN_LENGTH", 15, minimum=8),
        # argon2id: time cost (passes), memory (KiB), parallelism (lanes).
        ACCOUNTS_ARGON2=(
            env.integer("ACCOUNTS_ARGON2_TIME_COST", 2, minimum=1),
            env.integer("ACCOUNTS_ARGON2_MEMORY_KIB", 19 * 1024, minimum=8),
            env.integer("ACCOUNTS_ARGON2_PARALLELISM", 1, minimum=1),
        ),
        ACCOUNTS_LINK_LIFETIME={
            purpose: env.integer(name, hours, minimum=1) * 3600
            for purpose, (name, hours) in LINK_HOURS.items()
        },
        **{name: limit(env, name, default) for name, default in LIMITS.items()},
        ACCOUNTS_SMTP=smtp_settings(env),
        # Whether the SMTP server takes non-ASCII before the @ (RFC 6531).
        ACCOUNTS_SMTPUTF8=env.flag("ACCOUNTS_SMTPUTF8", False),
        ACCOUNTS_MAIL_FROM=env.text("MAIL_FROM", f"{app.config['APP_NAME']} <no-reply@localhost>"),
        # How long a log-in lasts, checked on the server (sessions.py): with
        # "remember me", and without it (the browser may keep a session on).
        ACCOUNTS_REMEMBER_DAYS=remember_days,
        ACCOUNTS_SESSION_HOURS=env.integer("ACCOUNTS_SESSION_HOURS", 12, minimum=1),
        REMEMBER_COOKIE_DURATION=timedelta(days=remember_days),
        REMEMBER_COOKIE_SECURE=app.config["SESSION_COOKIE_SECURE"],
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    check_mail_settings(app, env)


def check_mail_settings(app: Flask, env: Environment) -> None:
    """Staging and production start without an SMTP server, saying so;
    with one, they need a sender of their own."""
    if app.config["ENV_NAME"] not in ("staging", "production"):
        return
    if app.config["ACCOUNTS_SMTP"] is None:
        # The app serves on, but no account can be verified: say so at start.
        app.logger.warning(
            "SMTP_SERVER is not set: accounts can send no mail (accounts/README.md, Mail)"
        )
    elif env.text("MAIL_FROM") is None:
        raise ConfigError(
            "MAIL_FROM is not set: the address mail comes from, e.g. "
            "heroku config:set MAIL_FROM='My App <no-reply@example.com>'"
        )


def limit(env: Environment, name: str, default: str) -> str:
    """A rate limit in the limits library's notation, "5/minute;20/hour"."""
    value = env.text(name, default)
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(
            f"{name} must be limits such as 5/minute;20/hour, not {value!r}"
        ) from None
    return value


def smtp_settings(env: Environment) -> dict[str, object] | None:
    """The SMTP server from <P>_SERVER, <P>_PORT, <P>_LOGIN, <P>_PASSWORD,
    where SMTP_SETTINGS names <P>: "SMTP" by default; "MAILGUN_SMTP" reads
    the Mailgun add-on's own variables (accounts/README.md names the others)."""
    prefix = env.text("SMTP_SETTINGS", "SMTP")
    server = env.text(f"{prefix}_SERVER")
    if not server:
        return None
    security = env.text("SMTP_SECURITY", "starttls")
    if security not in ("starttls", "tls", "none"):
        raise ConfigError(f"SMTP_SECURITY must be starttls, tls or none, not {security!r}")
    return {
        "server": server,
        "port": env.integer(f"{prefix}_PORT", 465 if security == "tls" else 587, minimum=1),
        "login": env.text(f"{prefix}_LOGIN"),
        "password": env.text(f"{prefix}_PASSWORD"),
        "security": security,
    }
