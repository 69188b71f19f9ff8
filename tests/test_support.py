"""The test support package itself: its fixtures, and what a killed run leaves behind."""

import shutil
import socket
import subprocess
import sys

import pytest

from extensions import jobs
from tests import job_probe
from tests.support.environment import PROJECT_DIR, project_env
from tests.support.processes import wait_until

STARTS_A_SERVER = """
import sys, tempfile, time
from pathlib import Path
from tests.support.servers import RedisServer
server = RedisServer(Path(tempfile.mkdtemp()))
server.start()
print(server.port, flush=True)
time.sleep(120)
"""


def refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_a_private_redis_server_dies_with_the_test_process_that_started_it():
    process = subprocess.Popen(
        [sys.executable, "-c", STARTS_A_SERVER],
        cwd=PROJECT_DIR,
        env=project_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    assert not refused(port)
    process.kill()  # as a killed test run is: no clean-up runs
    process.wait(timeout=10)
    process.stdout.close()
    wait_until(lambda: refused(port), timeout=10, what=f"redis-server on {port} to exit")


def test_jobs_app_runs_a_job_inline_and_through_a_worker(jobs_app, tmp_path):
    done = tmp_path / "done"
    with jobs_app.app_context():
        ran_here = jobs.submit(job_probe.touch, str(done))
    assert ran_here is (jobs_app.config["REDIS_URL"] is None)
    wait_until(done.exists, timeout=20, what="the job's file")
