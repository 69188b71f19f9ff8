"""Fixtures for the reliability suite (``make test-reliability``): real
gunicorn processes configured for production, PostgreSQL, concurrent
clients, and a figures report written to test-artifacts/reliability.json."""

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support import loopback_app
from tests.support.commands import manage
from tests.support.http_client import heroku_url, request
from tests.support.processes import Dyno, free_port, wait_for_http

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))
HTTPS = {"X-Forwarded-Proto": "https"}  # production redirects plain HTTP
FIGURES: dict = {}


def pytest_collection_modifyitems(items):
    for item in items:
        if "reliability" in str(item.fspath):
            item.add_marker(pytest.mark.reliability)
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def figures():
    """Numbers the scenarios report; printed and saved at the end, one file
    per test process (make test-reliability runs two)."""
    yield FIGURES
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    path = ARTIFACTS / (f"reliability-{worker}.json" if worker else "reliability.json")
    path.write_text(json.dumps(FIGURES, indent=2) + "\n")
    print(f"\nreliability figures ({path}):\n{json.dumps(FIGURES, indent=2)}")


class AppServer:
    """gunicorn serving wsgi:app as in production, on its own port."""

    def __init__(self, dyno: Dyno, url: str):
        self.dyno, self.url = dyno, url

    def call(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        timeout: float = 30,
        headers: dict | None = None,
    ):
        return request(self.url + path, method, body, {**HTTPS, **(headers or {})}, timeout)

    def worker_pids(self) -> list[int]:
        master = self.master_pid()
        output = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
        return [int(pid) for pid in output.stdout.split()]

    def master_pid(self) -> int:
        match = re.search(r"Listening at: \S+ \((\d+)\)", self.dyno.output)
        assert match is not None, self.dyno.output
        return int(match.group(1))

    def worker_rss_mb(self, field: str = "VmRSS") -> float:
        """The largest worker's resident memory now (VmRSS), or the most it
        ever had (VmHWM, its peak)."""
        sizes = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            rss = re.search(rf"{field}:\s+(\d+)", status)
            assert rss is not None, status
            sizes.append(int(rss.group(1)) / 1024)
        return round(max(sizes), 1)


def start_app(
    database: str, tmp_path: Path, name: str = "web.1", loopback_internet: bool = True, **env: str
) -> AppServer:
    port = free_port()
    settings = {
        "APP_SETTINGS": "config.ProductionConfig",
        "SECRET_KEY": "reliability-" + "k" * 40,
        "DATABASE_URL": heroku_url(database),
        "PORT": str(port),
        "DYNO": name,
        "TRUSTED_HOSTS": "127.0.0.1,localhost",
        "WORDCOUNT_FETCH_TIMEOUT": "5",
        **env,
    }
    # The pages counted are on loopback, which production refuses to fetch.
    command = loopback_app.WEB if loopback_internet else ["gunicorn", "wsgi:app"]
    dyno = Dyno(command, tmp_path / f"{name}.log", **settings)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(url + "/healthz", process=dyno.process)
    return AppServer(dyno, url)


@pytest.fixture
def production_app(postgres_url, tmp_path):
    assert manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url)).returncode == 0
    server = start_app(postgres_url, tmp_path)
    yield server
    assert server.dyno.stop() == 0


class PrivateCluster:
    """A PostgreSQL cluster of the test's own, so it can be stopped and
    restarted without disturbing the machine's shared server."""

    def __init__(self, folder: Path):
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not versions:
            pytest.fail("PostgreSQL server binaries are missing (/usr/lib/postgresql/*/bin)")
        self.bin = versions[-1].parent
        self.data, self.port = folder / "data", free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        shutil.chown(folder, "postgres", "postgres")
        self._as_postgres(
            [self.bin / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync"]
        )

    def _as_postgres(self, command: list) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, command)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        self._as_postgres(
            [
                self.bin / "pg_ctl",
                "-D",
                self.data,
                "-o",
                options,
                "-w",
                "-l",
                self.data / "server.log",
                "start",
            ]
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres([self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"])


@pytest.fixture
def private_cluster():
    folder = Path(tempfile.mkdtemp(prefix="wordcount-pg-"))
    cluster = PrivateCluster(folder)
    cluster.start()
    yield cluster
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        cluster.stop("immediate")
    shutil.rmtree(folder, ignore_errors=True)
