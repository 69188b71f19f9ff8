"""Typed, validated reads of settings from a mapping: the one way every
setting is read (config.py says where), and the checks of URL settings."""

from collections.abc import Callable, Mapping
from typing import TypeVar, overload

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

T = TypeVar("T")


class ConfigError(Exception):
    """A setting is missing or invalid; the message names it."""


class Environment:
    """Typed, validated reads of environment variables."""

    def __init__(self, environ: Mapping[str, str]):
        self._environ = environ

    @overload
    def text(self, name: str) -> str | None: ...
    @overload
    def text(self, name: str, default: str) -> str: ...
    def text(self, name: str, default: str | None = None) -> str | None:
        return self._environ.get(name) or default

    def required(self, name: str, why: str) -> str:
        value = self._environ.get(name, "").strip()
        if not value:
            raise ConfigError(f"{name} is not set: {why}")
        return value

    def integer(self, name: str, default: int, minimum: int | None = None) -> int:
        value = self._convert(name, default, int, "a whole number")
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, not {value}")
        return value

    def number(self, name: str, default: float, above: float | None = None) -> float:
        value = self._convert(name, default, float, "a number")
        if above is not None and not value > above:  # also refuses nan
            raise ConfigError(f"{name} must be above {above:g}, not {value:g}")
        return value

    def _convert(self, name: str, default: T, convert: Callable[[str], T], kind: str) -> T:
        raw = self._environ.get(name, "").strip()
        if not raw:
            return default
        try:
            return convert(raw)
        except ValueError:
            raise ConfigError(f"{name} must be {kind}, not {raw!r}") from None

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        """One of ``choices``, as written, case aside."""
        value = self._environ.get(name, "").strip().lower() or default
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
        return value

    def names(self, name: str) -> list[str] | None:
        """A comma-separated list, or None when the variable is unset or empty."""
        names = [part.strip() for part in self._environ.get(name, "").split(",")]
        return [part for part in names if part] or None

    def flag(self, name: str, default: bool) -> bool:
        raw = self._environ.get(name, "").strip().lower()
        if not raw:
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name} must be true or false, not {raw!r}")


def sqlalchemy_url(url: str) -> str:
    """Return ``url`` with PostgreSQL URLs pointed at psycopg 3.

    Heroku sets ``postgres://...``, a scheme SQLAlchemy 1.4+ no longer
    accepts, and a bare ``postgresql://`` would pick whichever driver the
    installed SQLAlchemy prefers.
    """
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def scheme_of(url: str) -> str:
    """A URL setting's error names its scheme alone: the rest may hold a password."""
    scheme, separator, _ = url.partition("://")
    return f"one with {scheme}://" if separator else "one without a scheme"


def database_url_setting(name: str, url: str) -> str:
    """``url``, once SQLAlchemy can read it and its driver is installed."""
    try:
        make_url(sqlalchemy_url(url)).get_dialect().import_dbapi()
    except (ArgumentError, NoSuchModuleError, ImportError):
        raise ConfigError(
            f"{name} must be a database URL such as postgres://user:password@host:5432/name "
            f"or sqlite:///name.sqlite3, not {scheme_of(url)}"
        ) from None
    except ValueError as error:  # SQLAlchemy's reading of the port; names the port alone
        raise ConfigError(f"{name} must have a numeric port: {error}") from None
    return url


def redis_url_setting(name: str, url: str | None) -> str | None:
    """``url``, once redis-py can read it (plumbing/jobs.py connects with it)."""
    if url is None:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"{name} must be a redis://, rediss:// or unix:// URL, not {scheme_of(url)}"
        )
    from redis.connection import parse_url  # only when REDIS_URL is set: see plumbing/jobs.py

    try:
        parse_url(url)  # type: ignore[no-untyped-call]  # unannotated in redis-py
    except ValueError as error:  # a port or an option; redis-py names it alone
        raise ConfigError(f"{name} is not a URL redis-py can read: {error}") from None
    return url
