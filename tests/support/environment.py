"""The environment a test and its subprocesses see: none of a developer's
app settings, the network guard on."""

import os
import re
import sys
from pathlib import Path

from tests.network_guard.plugin import pythonpath

PROJECT_DIR = Path(__file__).resolve().parents[2]

BIN_DIR = Path(sys.executable).parent

# What tests are told on purpose; every other setting is the test's to choose.
TEST_SETTINGS = (
    "TEST_DATABASE_URL",
    "REQUIRE_POSTGRES",
    "TEST_REDIS_URL",
    "REQUIRE_REDIS",
    "TEST_DB_PREPARED_STATEMENTS",
)

# Set by Heroku on a dyno, not listed in env-template.
HEROKU_SETTINGS = ("DYNO", "PORT")


def app_settings() -> set[str]:
    """Every variable that env-template lists (set or commented out), and Heroku's."""
    template = (PROJECT_DIR / "env-template").read_text()
    listed = set(re.findall(r"^#?\s*export ([A-Z][A-Z0-9_]*)=", template, re.MULTILINE))
    return (listed | set(HEROKU_SETTINGS)) - set(TEST_SETTINGS)


def is_app_setting(name: str) -> bool:
    return name in APP_SETTINGS or name.startswith("FLASK_")


APP_SETTINGS = app_settings()


def isolate_environment() -> None:
    """Remove the app's settings from this process's environment, so that a
    developer's exported DATABASE_URL or APP_SETTINGS changes no test."""
    for name in [name for name in os.environ if is_app_setting(name)]:
        del os.environ[name]


def project_env(**overrides: str | None) -> dict[str, str]:
    """The environment for a subprocess: none of the developer's app
    settings, and no .env file read (FLASK_SKIP_DOTENV), unless overridden.
    An override of None removes the variable."""
    env: dict[str, str | None] = {k: v for k, v in os.environ.items() if not is_app_setting(k)}
    env["PATH"] = f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    # The network guard's sitecustomize, so the subprocess is guarded too.
    env["PYTHONPATH"] = pythonpath()
    env["FLASK_SKIP_DOTENV"] = "1"
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}
