"""Typed, validated reads of settings from a mapping: the one way every
setting is read (config.py says where)."""

from collections.abc import Callable, Mapping
from typing import TypeVar, overload

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
