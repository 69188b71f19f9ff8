"""Processes a test starts: started in a group of their own, stopped by
PID (SIGTERM, then SIGKILL after a deadline), never by a signal the
process may ignore: a shell's background jobs ignore SIGINT."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.environment import PROJECT_DIR, project_env
from tests.support.http_client import request


def free_port() -> int:
    """A port free on IPv4 and IPv6 alike: servers bind dual-stack ([::])."""
    with socket.socket(socket.AF_INET6) as sock:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", 0))
        return int(sock.getsockname()[1])


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

    def __init__(self, command: list[str], log_path: Path, **env: str | None):
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
        try:
            return stop_group(self.process, timeout)
        except subprocess.TimeoutExpired:
            # Its log says why, and pytest keeps tmp_path for three runs only.
            raise AssertionError(
                f"{self.process.args!r} did not exit within {timeout} s of SIGTERM:\n{self.output}"
            ) from None
        finally:
            self._log.close()

    def wait_for_output(self, text: str, timeout: float) -> str:
        """The output, once it holds ``text``; fails if the process exits first."""
        wait_until(
            lambda: text in self.output or self.process.poll() is not None,
            timeout=timeout,
            what=f"{text!r} in the output of {self.process.args!r}",
        )
        if text not in self.output:
            raise AssertionError(f"exited with {self.process.returncode}:\n{self.output}")
        return self.output

    @property
    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()


def stop_group(process: subprocess.Popen, timeout: float = 10) -> int:
    """SIGTERM ``process``'s group (started with start_new_session), wait
    for the leader and the rest, and SIGKILL what is left after ``timeout``:
    nothing outlives the test. The leader's status; TimeoutExpired when it
    needed SIGKILL."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    try:
        status = process.wait(timeout=timeout)
        while time.monotonic() < deadline and _group_alive(process.pid):
            time.sleep(0.05)
        return status
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


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


def _group_alive(group: int) -> bool:
    """True while any process of the group lives (zombies included)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
