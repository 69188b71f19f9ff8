"""Running the project's own commands as real processes."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.network_guard.plugin import pythonpath

PROJECT_DIR = Path(__file__).resolve().parent.parent
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


def manage(
    *args: str,
    cwd: Path = PROJECT_DIR,
    timeout: float = 60,
    input: str | None = None,
    **env: str | None,
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=cwd,
        env=project_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
    )


def copy_project(destination: Path) -> Path:
    """A copy of the project's files as a newcomer has them after cloning:
    what git tracks, and new files it does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = PROJECT_DIR / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def head_revision(project: Path = PROJECT_DIR) -> str | None:
    """The newest revision in ``project``'s migrations folder (None: no revisions)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(project / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


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


def wait_until(condition, timeout: float, what: str, interval: float = 0.05) -> float:
    """Poll ``condition`` until it is true; return the seconds it took, or
    fail naming ``what`` was awaited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Dyno:
    """A process started the way Heroku starts one: its own process group,
    stopped with SIGTERM to the whole group, output kept in a file."""

    def __init__(self, command: list[str], log_path: Path, **env: str):
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=project_env(**env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

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
        except subprocess.TimeoutExpired:
            # Its log says why, and pytest keeps tmp_path for three runs only.
            raise AssertionError(
                f"{self.process.args!r} did not exit within {timeout} s of SIGTERM:\n{self.output}"
            ) from None
        finally:
            if _group_alive(self.process.pid):
                os.killpg(self.process.pid, signal.SIGKILL)
            self._log.close()

    @property
    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()


def worker_dyno(
    log_path: Path, database: str, redis: str, concurrency: int = 1, **env: str
) -> Dyno:
    """``python manage.py worker``, as the Procfile's worker process runs it."""
    env = {
        "APP_SETTINGS": "config.TestingConfig",
        "TEST_DATABASE_URL": database,
        "REDIS_URL": redis,
        **env,
    }
    if os.environ.get("TEST_DB_PREPARED_STATEMENTS"):  # make test-pgbouncer
        env.setdefault("DB_PREPARED_STATEMENTS", os.environ["TEST_DB_PREPARED_STATEMENTS"])
    return Dyno(
        [sys.executable, "manage.py", "worker", "--concurrency", str(concurrency)], log_path, **env
    )


class RedisServer:
    """A private redis-server on a free port, for tests that restart or
    flush it. Keeps nothing on disk, like Heroku's Key-Value Store plans."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, timeout=10, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        """Kill and start again: every key is gone, as after a crash."""
        self.stop()
        self.start()

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def heroku_url(url: str) -> str:
    """The postgres:// form of a database URL, as Heroku sets DATABASE_URL."""
    return "postgres://" + url.split("://", 1)[1]


def request(
    url: str,
    method: str = "GET",
    body: dict | None = None,
    headers: dict | None = None,
    timeout: float = 30,
):
    """(status, headers, body bytes) without following redirects."""
    import http.client
    import json
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    assert parts.hostname is not None, url
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    try:
        connection.request(
            method,
            parts.path + (f"?{parts.query}" if parts.query else ""),
            body=data,
            headers=all_headers,
        )
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


class PgBouncer:
    """Debian's pgbouncer in transaction mode on a free port, in front of the
    PostgreSQL server at ``server`` (host and port; any database name). It
    refuses to run as root, so as root it runs as the postgres user."""

    def __init__(self, directory: Path, server_host: str = "127.0.0.1", server_port: int = 5432):
        self.directory, self.port = directory, free_port()
        self.config = directory / "pgbouncer.ini"
        (directory / "users.txt").write_text('"postgres" ""\n')
        self.config.write_text(f"""[databases]
* = host={server_host} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {directory / "users.txt"}
pool_mode = transaction
default_pool_size = 20
max_client_conn = 1000
logfile = {directory / "pgbouncer.log"}
pidfile = {directory / "pgbouncer.pid"}
""")
        self.process: subprocess.Popen | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        command = ["pgbouncer", str(self.config)]
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
            command = ["runuser", "-u", "postgres", "--", *command]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        wait_until(self._listening, timeout=10, what=f"pgbouncer on port {self.port}")

    def _listening(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            log = self.directory / "pgbouncer.log"
            raise AssertionError(f"pgbouncer exited: {log.read_text() if log.exists() else ''}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=10)
