"""Heroku's way of running the app, proven locally with real processes."""

import http.client
import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.network_guard.plugin import pythonpath
from tests.support.commands import head_revision, manage
from tests.support.environment import PROJECT_DIR, project_env
from tests.support.http_client import heroku_url, request
from tests.support.processes import Dyno, free_port, wait_for_http, wait_until

pytestmark = pytest.mark.postgres
SECRET = "a-test-secret-key-that-is-long-enough"
SLOW_REQUEST_SECONDS = 3
HOST = "myapp.herokuapp.com"


def web_dyno(
    tmp_path: Path, name: str, database: str, extra_code: str | None = None, **env: str
) -> tuple[Dyno, str]:
    """gunicorn as the Procfile starts it, with a staging dyno's environment.

    ``extra_code``, when given, is a module that imports ``app`` from web
    and changes it (adds a route, replaces a function); gunicorn serves that.
    """
    port = free_port()
    app = "wsgi:app"
    if extra_code is not None:
        (tmp_path / "dyno_app.py").write_text(extra_code)
        app = "dyno_app:app"
        env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_DIR), str(tmp_path), pythonpath()])
    env = {
        "APP_SETTINGS": "config.StagingConfig",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": heroku_url(database),
        "PORT": str(port),
        "DYNO": name,
        "TRUSTED_HOSTS": f"127.0.0.1,localhost,{HOST}",
        **env,
    }
    dyno = Dyno(["gunicorn", app], tmp_path / f"{name}.log", **env)
    return dyno, f"http://127.0.0.1:{port}"


def heroku_local(tmp_path: Path, port: int, database: str, redis: str) -> Dyno:
    """``make heroku-local`` on ``port``, with Heroku's postgres:// URL."""
    return Dyno(
        ["make", "--no-print-directory", "heroku-local"],
        tmp_path / "honcho.log",
        PORT=str(port),
        DATABASE_URL=heroku_url(database),
        REDIS_URL=redis,
    )


def test_make_heroku_local_runs_release_then_web_and_worker(postgres_url, redis_url, tmp_path):
    port = free_port()
    dyno = heroku_local(tmp_path, port, postgres_url, redis_url)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60, process=dyno.process)
        status, _, body = request(f"http://127.0.0.1:{port}/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
        wait_until(
            lambda: "*** Listening on default" in dyno.output,
            timeout=30,
            what="the worker to listen",
        )
    finally:
        dyno.stop()
    output = dyno.output
    # The release process ran the migration and finished before the web process began.
    release_done = output.index("release.1 stopped (rc=0)")
    if head_revision():
        assert f"-> {head_revision()}" in output[:release_done]
    assert output.index(f"Listening at: http://[::]:{port}") > release_done
    assert output.index("Starting worker pool") > release_done
    assert "Shutting down: Master" in output
    assert "All workers stopped, exiting..." in output


def test_make_heroku_local_without_redis_runs_web_alone(postgres_url, tmp_path):
    port = free_port()
    dyno = heroku_local(tmp_path, port, postgres_url, redis="")
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60, process=dyno.process)
    finally:
        dyno.stop()
    assert "heroku-local: web; web on" in dyno.output
    assert "worker.1" not in dyno.output


def test_a_dyno_boots_quickly_logs_request_ids_and_serves_on_port(postgres_url, tmp_path):
    manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url))
    dyno, url = web_dyno(tmp_path, "web.1", postgres_url)
    try:
        boot_seconds = wait_for_http(url + "/healthz", process=dyno.process)
        status, _, _ = request(url + "/healthz", headers={"X-Request-ID": "req-4f2a"})
    finally:
        exit_status = dyno.stop()
    assert status == 200
    assert boot_seconds < 60  # Heroku's boot timeout (R10)
    assert re.search(
        r"at=info event=request request_id=req-4f2a dyno=web.1 logger=request method=GET "
        r"path=/healthz status=200 duration_ms=[\d.]+ db_ms=[\d.]+ db_statements=1\n",
        dyno.output,
    )
    assert exit_status == 0


def test_a_web_dyno_answers_on_ipv4_and_ipv6(postgres_url, tmp_path):
    manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url))
    dyno, url = web_dyno(tmp_path, "web.1", postgres_url)
    ipv6_url = url.replace("127.0.0.1", "[::1]")
    try:
        wait_for_http(url + "/healthz", process=dyno.process)
        answers = [
            request(base + "/healthz", headers={"Host": "localhost"})[0] for base in (url, ipv6_url)
        ]
    finally:
        dyno.stop()
    assert answers == [200, 200]
    assert "Listening at: http://[::]:" in dyno.output


def test_a_connection_left_idle_past_the_old_keepalive_is_still_served(postgres_url, tmp_path):
    # Heroku's router reuses a connection idle for up to 90 s; gunicorn used
    # to close it after 5 s. Idle 6 s here (the test need not wait 90).
    manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url))
    dyno, url = web_dyno(tmp_path, "web.1", postgres_url)
    try:
        wait_for_http(url + "/healthz", process=dyno.process)
        connection = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=10)
        statuses = []
        for pause in (0, 6):
            time.sleep(pause)
            connection.request("GET", "/healthz", headers={"Host": "localhost"})
            response = connection.getresponse()
            response.read()
            statuses.append((response.status, connection.sock.getsockname()))
        connection.close()
    finally:
        dyno.stop()
    (first, first_socket), (second, second_socket) = statuses
    assert (first, second) == (200, 200)
    assert first_socket == second_socket  # the same connection, not a new one


def test_sigterm_lets_an_in_flight_request_finish(postgres_url, tmp_path):
    manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url))
    # The app plus one slow route, so a request is surely in flight at SIGTERM.
    started = tmp_path / "started"
    slow_app = (
        "import pathlib, time\n"
        "from wsgi import app\n\n"
        "@app.get('/slow')\n"
        "def slow():\n"
        f"    pathlib.Path({str(started)!r}).touch()\n"
        f"    time.sleep({SLOW_REQUEST_SECONDS})\n"
        "    return 'finished'\n"
    )
    dyno, url = web_dyno(tmp_path, "web.1", postgres_url, extra_code=slow_app)
    outcome: dict[str, tuple[int, object, bytes]] = {}
    try:
        wait_for_http(url + "/healthz", process=dyno.process)
        client = threading.Thread(target=lambda: outcome.update(response=request(url + "/slow")))
        client.start()
        wait_until(started.exists, timeout=10, what="the slow request to reach the app")
    finally:
        stopping = time.monotonic()
        exit_status = dyno.stop()
        stopped_after = time.monotonic() - stopping
    client.join(timeout=30)
    status, _, body = outcome["response"]
    assert (status, body) == (200, b"finished")
    assert exit_status == 0
    assert stopped_after < 30  # Heroku sends SIGKILL 30 s after SIGTERM


def test_sigterm_stops_a_worker_that_is_still_booting_at_once(postgres_url, tmp_path):
    # gunicorn loses a signal that arrives between a worker's fork and its own
    # handlers (benoitc/gunicorn#1910); a post_fork pause holds the worker there.
    manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url))
    booting = tmp_path / "booting"
    config = tmp_path / "slow_boot.conf.py"
    config.write_text(
        f"exec(open({str(PROJECT_DIR / 'gunicorn.conf.py')!r}).read())\n"
        "import pathlib, time\n"
        "def post_fork(server, worker):\n"
        f"    pathlib.Path({str(booting)!r}).touch()\n"
        "    time.sleep(2)\n"
    )
    dyno, _ = web_dyno(
        tmp_path, "web.1", postgres_url, WEB_CONCURRENCY="1", GUNICORN_CMD_ARGS=f"-c {config}"
    )
    wait_until(booting.exists, timeout=30, what="the worker to start booting")
    stopping = time.monotonic()
    exit_status = dyno.stop()
    stopped_after = time.monotonic() - stopping
    assert exit_status == 0
    assert "SIGKILL" not in dyno.output
    assert stopped_after < 10  # not gunicorn's graceful_timeout (25 s), then SIGKILL


def test_production_redirects_plain_http_and_sends_security_headers(postgres_url, tmp_path):
    manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url))
    dyno, url = web_dyno(tmp_path, "web.1", postgres_url, APP_SETTINGS="config.ProductionConfig")
    try:
        wait_for_http(url + "/healthz", process=dyno.process)
        plain = request(url + "/healthz?x=5", headers={"X-Forwarded-Proto": "http", "Host": HOST})
        secure = request(url + "/", headers={"X-Forwarded-Proto": "https", "Host": HOST})
    finally:
        dyno.stop()
    status, headers, _ = plain
    assert (status, headers["Location"]) == (301, f"https://{HOST}/healthz?x=5")
    status, headers, body = secure
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert b"env-banner" not in body


# --- Files Heroku and GitHub read ------------------------------------------------


def test_procfile_runs_gunicorn_the_worker_and_migrates_in_the_release_phase():
    lines = (PROJECT_DIR / "Procfile").read_text().splitlines()
    assert lines == [
        "web: gunicorn wsgi:app",
        "worker: python manage.py worker",
        # The migrations, then a warning (never a failure) when one web and
        # one worker dyno may open more connections than the database takes.
        "release: python manage.py db upgrade && python manage.py db connections --warn-only",
    ]


def test_app_json_names_what_the_app_needs():
    app = json.loads((PROJECT_DIR / "app.json").read_text())
    assert app["addons"] == ["heroku-postgresql", "heroku-redis"]  # no plan: the default
    assert app["env"]["SECRET_KEY"] == {
        "description": "Signs sessions and CSRF tokens.",
        "generator": "secret",
    }
    assert app["env"]["APP_SETTINGS"]["value"] in (
        "config.StagingConfig",
        "config.ProductionConfig",
    )
    assert app["formation"] == {"web": {"quantity": 1}, "worker": {"quantity": 1}}
    # Heroku Key-Value Store's certificate is self-signed (README, Background jobs).
    assert app["env"]["REDIS_VERIFY_TLS"]["value"] == "false"
    assert app["buildpacks"] == [{"url": "heroku/python"}]


def test_app_json_follows_herokus_schema_and_runs_the_readmes_tests_in_heroku_ci():
    from jsonschema import Draft202012Validator

    app = json.loads((PROJECT_DIR / "app.json").read_text())
    schema = json.loads((PROJECT_DIR / "tests/schemas/app.json.schema.json").read_text())
    errors = [error.message for error in Draft202012Validator(schema).iter_errors(app)]
    assert errors == []
    ci = app["environments"]["test"]
    # In-dyno add-ons: PostgreSQL and Redis inside the test dyno, required.
    assert ci["addons"] == ["heroku-postgresql:in-dyno", "heroku-redis:in-dyno"]
    assert ci["env"] == {"REQUIRE_POSTGRES": "1", "REQUIRE_REDIS": "1"}
    # The README's test command, told where the add-ons are.
    readme = (PROJECT_DIR / "README.md").read_text()
    assert "make test    # the test suite" in readme
    assert ci["scripts"]["test"].endswith(" make test")
    assert 'TEST_DATABASE_URL="$DATABASE_URL"' in ci["scripts"]["test"]


def test_one_python_version_everywhere():
    version = (PROJECT_DIR / ".python-version").read_text().strip()
    environment = yaml.safe_load((PROJECT_DIR / "environment.yml").read_text())
    assert f"python={version}" in environment["dependencies"]
    workflow = (PROJECT_DIR / ".github/workflows/ci.yml").read_text()
    assert "python-version-file: .python-version" in workflow


def test_environment_yml_installs_exactly_the_pinned_requirements():
    environment = yaml.safe_load((PROJECT_DIR / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert pip_section == ["-r requirements-dev.txt"]
    dev = (PROJECT_DIR / "requirements-dev.txt").read_text().splitlines()
    assert "-r requirements.txt" in dev
    # conda installs Python and pip only, so nothing can drift from the pins.
    assert [d for d in environment["dependencies"] if isinstance(d, str)] == [
        f"python={(PROJECT_DIR / '.python-version').read_text().strip()}",
        "pip",
    ]
    runtime = ("requirements.txt", "requirements-traces.txt")
    for line in [
        line for file in runtime for line in (PROJECT_DIR / file).read_text().splitlines()
    ]:
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][\w.]*", line), line


@pytest.mark.parametrize(
    "files", [["requirements.txt"], ["requirements.txt", "requirements-traces.txt"]]
)
def test_requirements_pin_every_runtime_package_and_its_dependencies(files):
    """requirements.txt is the whole runtime set, and so is it with the
    optional traces' file: every pinned package is installed at its pin,
    and every dependency of one is pinned too. Checked offline, from the
    installed packages' metadata (a test never asks an index on the network)."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pinned = {}
    lines = [line for file in files for line in (PROJECT_DIR / file).read_text().splitlines()]
    for line in lines:
        if line and not line.startswith("#"):
            requirement = Requirement(line)
            pinned[canonicalize_name(requirement.name)] = (requirement, str(requirement.specifier))
    unpinned, wrong = set(), {}
    for name, (requirement, specifier) in pinned.items():
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            wrong[name] = "not installed"
            continue
        if f"=={dist.version}" != specifier:
            wrong[name] = dist.version
        for raw in dist.requires or []:
            dependency = Requirement(raw)
            extras = requirement.extras or {""}
            applies = dependency.marker is None or any(
                dependency.marker.evaluate({"extra": extra}) for extra in extras
            )
            if applies and canonicalize_name(dependency.name) not in pinned:
                unpinned.add(f"{dependency.name} (for {name})")
    assert wrong == {}
    assert unpinned == set()


def test_no_second_package_manager_file_to_confuse_the_buildpack():
    confusing = [
        "Pipfile",
        "Pipfile.lock",
        "poetry.lock",
        "uv.lock",
        "setup.py",
        "setup.cfg",
        "conda-requirements.txt",
        "runtime.txt",
        "pdm.lock",
    ]
    assert [name for name in confusing if (PROJECT_DIR / name).exists()] == []
    assert "[project]" not in (PROJECT_DIR / "pyproject.toml").read_text()


@pytest.mark.parametrize(
    "schema, path",
    [
        ("vendor.github-workflows", ".github/workflows/ci.yml"),
        ("custom.github-workflows-require-timeout", ".github/workflows/ci.yml"),
        ("vendor.dependabot", ".github/dependabot.yml"),
    ],
)
def test_github_files_match_githubs_schemas(schema, path):
    result = subprocess.run(
        ["check-jsonschema", "--builtin-schema", schema, path],
        cwd=PROJECT_DIR,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_passes_zizmor_offline():
    result = subprocess.run(
        ["zizmor", "--offline", "--no-progress", ".github/workflows/ci.yml"],
        cwd=PROJECT_DIR,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report." in result.stdout


def test_every_stub_package_is_for_the_pinned_release_of_its_library():
    """typeshed's types-X A.B.C.date types X A.B.C: a stub package for
    another minor release than the pinned library's lets mypy pass code
    that fails at run time, or the reverse (types-WTForms 3.2 against
    WTForms 3.3 did). Pin the library to the stubs' minor release."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (PROJECT_DIR / name).read_text().splitlines():
            if line and not line.startswith(("#", "-r")):
                requirement = Requirement(line)
                pins[canonicalize_name(requirement.name)] = str(requirement.specifier)[2:]
    stubs = {
        name.removeprefix("types-"): pin for name, pin in pins.items() if name.startswith("types-")
    }
    assert stubs, "no types-* package pinned"
    drift = {
        library: (pins[library], stub)
        for library, stub in stubs.items()
        if library in pins and pins[library].split(".")[:2] != stub.split(".")[:2]
    }
    assert drift == {}, "library and stub releases differ: " + repr(drift)


def test_workflow_pins_every_action_by_commit_and_reads_only():
    workflow = yaml.safe_load((PROJECT_DIR / ".github/workflows/ci.yml").read_text())
    assert workflow["permissions"] == {"contents": "read"}
    uses = [
        step["uses"] for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step
    ]
    assert uses and all(re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", u) for u in uses)


def slow_client(port: int, stop: threading.Event, data: bytes, every: float) -> dict:
    """A slowloris: sends ``data`` a byte every ``every`` seconds; returns
    when the server closes the connection (what it records) or on ``stop``."""
    import socket

    seen: dict = {"closed_after": None}
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        for byte in data * 1000:
            if stop.wait(every):
                return seen
            try:
                sock.sendall(bytes([byte]))
                sock.setblocking(False)
                closed = sock.recv(65536) == b""
            except BlockingIOError:
                closed = False
            except OSError:
                closed = True
            finally:
                sock.setblocking(True)
            if closed:
                seen["closed_after"] = time.monotonic() - started
                return seen
    return seen


@pytest.mark.parametrize(
    "data",
    [
        b"GET /healthz HTTP/1.1\r\nX-Slow: ",
        b"POST /healthz HTTP/1.1\r\nContent-Length: 999\r\n\r\n",
    ],
    ids=["headers", "body"],
)
def test_slow_clients_cannot_hold_the_threads_past_the_request_deadline(
    postgres_url, tmp_path, data
):
    threads, deadline, clients = 2, 2.0, 6  # three slow clients for every thread
    manage("db", "upgrade", DATABASE_URL=heroku_url(postgres_url))
    dyno, url = web_dyno(
        tmp_path,
        "web.1",
        postgres_url,
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS=str(threads),
        GUNICORN_REQUEST_TIMEOUT=str(deadline),
    )
    stop = threading.Event()
    results: list[dict] = []
    try:
        wait_for_http(url + "/healthz", process=dyno.process)
        port = int(url.rsplit(":", 1)[1])
        slow = [
            threading.Thread(target=lambda: results.append(slow_client(port, stop, data, 0.2)))
            for _ in range(clients)
        ]
        for thread in slow:
            thread.start()
        time.sleep(0.5)  # every thread is now held by a slow client
        started = time.monotonic()
        status, _, _ = request(url + "/healthz", timeout=30)
        answered = time.monotonic() - started
        for thread in slow:  # until the server has closed every slow connection
            thread.join(timeout=(clients / threads) * deadline + 5)
    finally:
        stop.set()
        dyno.stop()
    assert status == 200
    # Each thread serves its slow clients one deadline each, then /healthz.
    assert answered < (clients / threads + 1) * deadline + 2
    closed = [result["closed_after"] for result in results]
    assert all(after is not None and after < (clients / threads) * deadline + 3 for after in closed)
