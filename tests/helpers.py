"""Running the project's own commands as real processes."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
# Variables a developer's shell or .env may set that would change what a test runs.
CLEARED = ("APP_SETTINGS", "DATABASE_URL", "SECRET_KEY", "PORT", "WEB_CONCURRENCY",
           "GUNICORN_THREADS", "FLASK_APP", "FLASK_DEBUG")


def project_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["PATH"] = f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


def manage(*args: str, cwd: Path = PROJECT_DIR, timeout: float = 60, input: str | None = None,
           **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=cwd, env=project_env(**env),
                          capture_output=True, text=True, timeout=timeout, input=input)


def copy_project(destination: Path) -> Path:
    """A copy of the project as a newcomer would have it after cloning."""
    ignore = shutil.ignore_patterns(".git", ".venv", "instance", "__pycache__", ".pytest_cache",
                                    ".hypothesis", ".ruff_cache", "test-artifacts", "bench")
    shutil.copytree(PROJECT_DIR, destination, ignore=ignore)
    return destination


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 20, process: subprocess.Popen | None = None) -> float:
    """Poll ``url`` until it answers; return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"process exited with {process.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return time.monotonic() - started
        except urllib.error.HTTPError:
            return time.monotonic() - started
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def get_json(url: str, headers: dict | None = None):
    import json

    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())
