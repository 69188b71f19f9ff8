"""Private servers for tests: redis-server and PgBouncer, each on a free
port, started and stopped by the test that needs them."""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from tests.support.processes import free_port, stop_group, wait_until

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """In a server's process, before it starts: SIGTERM it when the test
    process that started it dies, even by SIGKILL (Linux), so a killed run
    leaves no server behind."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_server(command: list[str], cwd: Path | None = None) -> subprocess.Popen:
    """A silent server process in a process group of its own (stop_group
    stops it), which dies with the test process that started it."""
    return subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )


class RedisServer:
    """A private redis-server on a free port, for tests that restart or
    flush it. Keeps nothing on disk, like Heroku's Key-Value Store plans.
    With ``tls`` (a certificate and its key) it speaks TLS only, as Key-Value
    Store does, at a rediss:// URL."""

    def __init__(self, directory: Path, tls: tuple[Path, Path] | None = None):
        self.port = free_port()
        self.url = f"{'rediss' if tls else 'redis'}://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.tls = tls
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        command = ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.directory)]
        if self.tls is None:
            return [*command, "--port", str(self.port)]
        certificate, key = self.tls
        return [
            *command,
            *("--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no"),
            *("--tls-cert-file", str(certificate), "--tls-key-file", str(key)),
        ]

    def start(self) -> None:
        self.process = start_server(self.command())
        wait_until(self.answers, timeout=10, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)

    def restart(self) -> None:
        """Kill and start again: every key is gone, as after a crash."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.start()

    def answers(self) -> bool:
        tls = {"ssl_cert_reqs": "none"} if self.tls else {}
        client = Redis.from_url(self.url, socket_timeout=1, **tls)
        try:
            return bool(client.ping())
        except RedisError:
            return False
        finally:
            client.close()


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
        if self.process is not None:
            stop_group(self.process)
