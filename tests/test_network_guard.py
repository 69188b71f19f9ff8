"""The network guard trips: in the test process, in the processes tests
start, and even when the code under test swallows the error."""

import socket
import subprocess
import sys
import textwrap

import pytest

from tests.network_guard.loopback_only import NetworkRefused, is_loopback
from tests.support.environment import PROJECT_DIR, project_env


@pytest.fixture
def expect_refusals(network_guard):
    """For the tests below, which trip the guard on purpose: the log must
    grow, and is then put back as it was so this test does not fail."""
    start = network_guard.stat().st_size
    yield
    refused = network_guard.read_bytes()[start:]
    with network_guard.open("r+b") as log:
        log.truncate(start)
    assert refused, "the guard recorded nothing"


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "127.0.0.1",
        "127.3.2.1",
        "::1",
        "[::1]",
        "::ffff:127.0.0.1",
        None,
        "",
        "0.0.0.0",
    ],
)
def test_loopback_is_allowed(host):
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host", ["example.com", "no-such-host.invalid", "10.0.0.1", "93.184.215.14", "2606:4700::1"]
)
def test_anything_else_is_refused(host):
    assert not is_loopback(host)


def test_looking_up_a_public_name_in_a_test_raises_and_is_recorded(expect_refusals):
    with pytest.raises(NetworkRefused, match=r"looking up 'example\.com'"):
        socket.getaddrinfo("example.com", 80)


def test_connecting_past_loopback_in_a_test_raises_and_is_recorded(expect_refusals):
    with socket.socket() as sock, pytest.raises(NetworkRefused, match="connecting to"):
        sock.connect(("192.0.2.1", 80))


def run_python(code: str) -> subprocess.CompletedProcess:
    """``code`` in a Python process started as tests start theirs."""
    return subprocess.run(
        [sys.executable, "-c", code], env=project_env(), capture_output=True, text=True, timeout=30
    )


def test_a_process_a_test_starts_is_guarded_too(expect_refusals):
    result = run_python("import socket; socket.getaddrinfo('example.com', 443)")
    assert result.returncode == 1
    assert "NetworkRefused: network guard: looking up 'example.com'" in result.stderr


def test_a_test_that_swallows_the_error_still_fails(tmp_path):
    test_file = tmp_path / "test_swallowed.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import socket

            def test_resolves_and_hides_it():
                try:
                    socket.getaddrinfo("example.com", 80)
                except OSError:
                    pass  # what a careless fetcher does
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.network_guard.plugin",
            "-p",
            "no:cacheprovider",
            "-q",
            str(test_file),
        ],
        cwd=PROJECT_DIR,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout
    assert "A guard of the test's processes tripped" in result.stdout
    assert "1 passed, 1 error" in result.stdout


def test_a_sqlalchemy_warning_in_a_process_a_test_starts_is_recorded(expect_refusals):
    code = "import warnings; from sqlalchemy.exc import SAWarning; warnings.warn(SAWarning('x'))"
    result = run_python(code)
    assert result.returncode == 0
    assert "SAWarning: x" in result.stderr
