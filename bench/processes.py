"""Processes the benchmarks start and stop: servers on free ports, a
PostgreSQL database of the run's own, a private Redis."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The app as the Procfile serves it, except that it may fetch the pages the
# benchmarks serve on loopback, which staging refuses (tests/support/loopback_app.py).
LOOPBACK_APP = "tests.support.loopback_app:create()"
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"Error: server exited with {process.returncode} before serving")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"Error: nothing listened on port {port} within {timeout} s")


@contextmanager
def server(command: list[str], env: dict, port: int):
    process = subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env={**os.environ, **env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, process)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


@contextmanager
def bench_database():
    import psycopg

    name = f"bench_{os.getpid()}"
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{POSTGRES_SERVER}/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sql(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)


@contextmanager
def redis_server():
    """A private redis-server on a free port (nothing kept on disk); yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait(timeout=30)


def app_environment(database: str) -> dict:
    """The web app's settings in every benchmark: staging, on ``database``."""
    return {
        "APP_SETTINGS": "config.StagingConfig",
        "SECRET_KEY": "bench-" + "x" * 32,
        "TRUSTED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database,
    }


def migrate(database: str) -> None:
    """``manage.py db upgrade`` on ``database``, with the benchmarks' settings."""
    subprocess.run(
        [sys.executable, "manage.py", "db", "upgrade"],
        cwd=PROJECT_DIR,
        env={**os.environ, **app_environment(database)},
        check=True,
        capture_output=True,
    )
