"""Running the project's own commands as real processes."""

import os
import shutil
import socket
import subprocess
import sys
import time
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
    """Poll ``url`` until any HTTP answer comes (redirects not followed);
    return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"process exited with {process.returncode} before serving")
        try:
            request(url, timeout=2)
            return time.monotonic() - started
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {timeout} s")


class Dyno:
    """A process started the way Heroku starts one: its own process group,
    stopped with SIGTERM to the whole group, output kept in a file."""

    def __init__(self, command: list[str], log_path: Path, **env: str):
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, cwd=PROJECT_DIR, env=project_env(**env),
                                        stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM the group, as Heroku does; wait until every process in it
        has exited (SIGKILL after ``timeout``); return the leader's status."""
        import signal

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        try:
            status = self.process.wait(timeout=timeout)
            while time.monotonic() < deadline and _group_alive(self.process.pid):
                time.sleep(0.05)
            return status
        finally:
            if _group_alive(self.process.pid):
                os.killpg(self.process.pid, signal.SIGKILL)
            self._log.close()

    @property
    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def heroku_url(url: str) -> str:
    """The postgres:// form of a database URL, as Heroku sets DATABASE_URL."""
    return "postgres://" + url.split("://", 1)[1]


def request(url: str, method: str = "GET", body: dict | None = None,
            headers: dict | None = None, timeout: float = 30):
    """(status, headers, body bytes) without following redirects."""
    import http.client
    import json
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""),
                           body=data, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()
