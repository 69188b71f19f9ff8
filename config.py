"""Configuration classes, chosen by the ``APP_SETTINGS`` environment variable.

Each class reads the environment once, when it is instantiated by the app
factory, so a missing variable is reported by name (``ConfigError``) instead
of crashing with a ``KeyError`` at import time.

One mechanism for every setting: a ``Config`` reads a mapping (the process
environment, or a test's own dict) through ``Environment``'s typed reads
(plumbing/environment.py), and keeps it as ``app.config["ENVIRONMENT"]``, where a
package's ``init_app`` reads its own settings the same way.
gunicorn.conf.py reads the web server's settings from a ``Config`` too.
"""

import os
from collections.abc import Mapping
from typing import Any

# Re-exported: a package reads its own settings with them (docs/configuration.md).
from plumbing.environment import ConfigError as ConfigError
from plumbing.environment import Environment as Environment
from plumbing.environment import database_url_setting, redis_url_setting
from plumbing.environment import sqlalchemy_url as sqlalchemy_url

DEFAULT_SETTINGS = "config.DevelopmentConfig"
# Development only: ProductionConfig refuses to start with it.
DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105
LOG_LEVELS = ("debug", "info", "warning", "error")


class Config:
    """Settings shared by every environment."""

    # The name pages show.
    APP_NAME = "HerokuCondaFlaskAlembic"
    ENV_NAME = "base"
    DEBUG = False
    TESTING = False
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # Behind Heroku's router: trust one hop of X-Forwarded-* headers.
    PROXY_FIX = False
    FORCE_HTTPS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # CSRF is checked by plumbing/security.py's protect_forms, with Flask-WTF's
    # own check and settings (WTF_CSRF_ENABLED, WTF_CSRF_METHODS), method first.
    WTF_CSRF_CHECK_DEFAULT = False
    # Request bodies larger than this get 413 before they are read.
    MAX_CONTENT_LENGTH = 64 * 1024
    # The RQ queue's name; apps sharing one Redis need different names.
    JOBS_QUEUE = "default"

    def __init__(self, environ: Mapping[str, str] = os.environ):
        env = Environment(environ)
        # Where a package reads its own settings (see the module's docstring).
        self.ENVIRONMENT = env
        self.SECRET_KEY = self.secret_key(env)
        self.SQLALCHEMY_DATABASE_URI = sqlalchemy_url(self.database_url(env))
        self.SQLALCHEMY_ENGINE_OPTIONS = self.engine_options(env)
        self.TRUSTED_HOSTS = self.trusted_hosts(env)
        # Background jobs (docs/jobs.md): off, and run inline, without REDIS_URL.
        self.REDIS_URL = redis_url_setting("REDIS_URL", env.text("REDIS_URL"))
        self.REDIS_VERIFY_TLS = env.flag("REDIS_VERIFY_TLS", True)
        # Whether outbound.fetch() may reach this machine (docs/jobs.md).
        self.OUTBOUND_ALLOW_LOOPBACK = self.allow_loopback(env)
        self.WORKER_CONCURRENCY = env.integer("WORKER_CONCURRENCY", 4, minimum=1)
        # The web server (gunicorn.conf.py): processes, and threads in each.
        self.PORT = env.integer("PORT", 8000, minimum=1)
        self.WEB_CONCURRENCY = env.integer("WEB_CONCURRENCY", 2, minimum=1)
        self.GUNICORN_THREADS = env.integer("GUNICORN_THREADS", 4, minimum=1)
        self.GUNICORN_REQUEST_TIMEOUT = env.number("GUNICORN_REQUEST_TIMEOUT", 10.0, above=0)
        # Logs and errors (docs/observability.md): one line per event; a
        # request or job slower than its threshold logs its slowest SQL.
        self.LOG_FORMAT = env.choice("LOG_FORMAT", "logfmt", ("logfmt", "json"))
        self.LOG_LEVEL = env.choice("LOG_LEVEL", "info", LOG_LEVELS).upper()
        self.LOG_SLOW_REQUEST_MS = env.number("LOG_SLOW_REQUEST_MS", 1000.0, above=0)
        self.LOG_SLOW_JOB_MS = env.number("LOG_SLOW_JOB_MS", 30000.0, above=0)
        # Off unless set: sentry_sdk is not even imported.
        self.SENTRY_DSN = env.text("SENTRY_DSN")
        # Traces over OTLP/HTTP, off unless set: opentelemetry is not imported.
        self.OTEL_EXPORTER_OTLP_ENDPOINT = env.text("OTEL_EXPORTER_OTLP_ENDPOINT")
        self.OTEL_EXPORTER_OTLP_HEADERS = env.text("OTEL_EXPORTER_OTLP_HEADERS")
        self.OTEL_SERVICE_NAME = env.text("OTEL_SERVICE_NAME", self.APP_NAME)

    def secret_key(self, env: Environment) -> str:
        return env.text("SECRET_KEY", DEFAULT_SECRET_KEY)

    def allow_loopback(self, env: Environment) -> bool:
        return env.flag("OUTBOUND_ALLOW_LOOPBACK", False)

    def trusted_hosts(self, env: Environment) -> list[str] | None:
        # None: any Host header is accepted, as on a laptop.
        return env.names("TRUSTED_HOSTS")

    def database_url(self, env: Environment) -> str:
        # Relative SQLite paths live in the app's instance/ folder (git-ignored).
        return database_url_setting(
            "DATABASE_URL", env.text("DATABASE_URL", "sqlite:///development.sqlite3")
        )

    def engine_options(self, env: Environment) -> dict[str, Any]:
        if not self.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
            return {}
        # Each process holds up to pool_size + max_overflow connections:
        # dynos x WEB_CONCURRENCY x that must stay under the plan's limit.
        # No pool_pre_ping: plumbing/database.py checks connections without a round trip.
        connect_args: dict[str, Any] = {  # psycopg.connect's keyword arguments
            # Fail fast when the database is down instead of hanging a worker.
            "connect_timeout": env.integer("DB_CONNECT_TIMEOUT", 5),
        }
        if not env.flag("DB_PREPARED_STATEMENTS", True):
            # Behind PgBouncer in transaction mode (before 1.21), a statement
            # prepared on one server connection is missing on the next.
            connect_args["prepare_threshold"] = None
        return {
            "pool_size": env.integer("DB_POOL_SIZE", 5),
            "max_overflow": env.integer("DB_MAX_OVERFLOW", 2),
            "pool_timeout": env.number("DB_POOL_TIMEOUT", 10.0),
            "pool_recycle": 300,
            "connect_args": connect_args,
        }


class DevelopmentConfig(Config):
    """A laptop: debugger on, SQLite unless DATABASE_URL says otherwise."""

    ENV_NAME = "development"
    DEBUG = True

    def trusted_hosts(self, env: Environment) -> list[str] | None:
        # This machine's names: links (a mailed one too) are built from the
        # Host header, and another name may reach a laptop (DNS rebinding).
        return env.names("TRUSTED_HOSTS") or ["localhost", "127.0.0.1"]


class TestingConfig(Config):
    """The test suite: TEST_DATABASE_URL, or an in-memory SQLite database."""

    ENV_NAME = "testing"
    TESTING = True

    def database_url(self, env: Environment) -> str:
        return database_url_setting("TEST_DATABASE_URL", env.text("TEST_DATABASE_URL", "sqlite://"))

    def allow_loopback(self, env: Environment) -> bool:
        # The tests' web servers all listen on loopback.
        return env.flag("OUTBOUND_ALLOW_LOOPBACK", True)


class ProductionConfig(Config):
    """Heroku production: everything from the environment, HTTPS only."""

    ENV_NAME = "production"
    PROXY_FIX = True
    FORCE_HTTPS = True
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    def secret_key(self, env: Environment) -> str:
        key = env.required(
            "SECRET_KEY",
            "set it to a long random string, e.g. "
            "heroku config:set SECRET_KEY=$(python -c "
            "'import secrets; print(secrets.token_hex(32))')",
        )
        if key == DEFAULT_SECRET_KEY:
            raise ConfigError("SECRET_KEY is the development default: set a secret one")
        return key

    def database_url(self, env: Environment) -> str:
        url = env.required(
            "DATABASE_URL", "add PostgreSQL with heroku addons:create heroku-postgresql"
        )
        return database_url_setting("DATABASE_URL", url)

    def allow_loopback(self, env: Environment) -> bool:
        if env.flag("OUTBOUND_ALLOW_LOOPBACK", False):
            raise ConfigError(
                "OUTBOUND_ALLOW_LOOPBACK is for development and tests: on a dyno it would let "
                "a URL a user typed reach the dyno itself; unset it"
            )
        return False

    def trusted_hosts(self, env: Environment) -> list[str]:
        # Redirects and absolute URLs are built from the Host header: accept
        # only the app's own names, never one an attacker sends.
        hosts = env.names("TRUSTED_HOSTS")
        if not hosts:
            raise ConfigError(
                "TRUSTED_HOSTS is not set: list the app's host names, comma-separated, e.g. "
                "heroku config:set TRUSTED_HOSTS=myapp.herokuapp.com,www.example.com"
            )
        return hosts


class StagingConfig(ProductionConfig):
    """Like production, but labelled as staging on every page."""

    ENV_NAME = "staging"
    # HSTS binds a host name to HTTPS for a year; only production opts in.
    FORCE_HTTPS = False


CONFIGS = {
    cls.__name__: cls for cls in (DevelopmentConfig, TestingConfig, StagingConfig, ProductionConfig)
}


def load_config(environ: Mapping[str, str] = os.environ) -> Config:
    """Instantiate the class named by APP_SETTINGS (default: development).

    On a Heroku dyno (``DYNO`` is set) there is no default: falling back to
    development there would turn the debugger on for the whole internet.
    """
    setting = environ.get("APP_SETTINGS", "").strip()
    if not setting and environ.get("DYNO"):
        raise ConfigError(
            "APP_SETTINGS is not set on this Heroku dyno: heroku config:set "
            "APP_SETTINGS=config.ProductionConfig (or config.StagingConfig)"
        )
    setting = setting or DEFAULT_SETTINGS
    module, _, name = setting.rpartition(".")
    if module not in ("", "config") or name not in CONFIGS:
        valid = ", ".join(f"config.{name}" for name in CONFIGS)
        raise ConfigError(f"APP_SETTINGS={setting!r} is not a config class; use one of: {valid}")
    return CONFIGS[name](environ)
