"""pytest's side of the network guard (see loopback_only): guard the test
process, give every process a test starts the guard's log, and fail a test
whose processes tried to reach past loopback (or, in a subprocess, warned
from SQLAlchemy: see sitecustomize), even when the code under test caught
the error."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.network_guard import loopback_only

GUARD_DIR = Path(__file__).resolve().parent
_log: Path | None = None


def guard_log() -> Path:
    """This pytest process's log of refused attempts, created on first use."""
    global _log
    if _log is None:
        folder = Path(tempfile.mkdtemp(prefix="network-guard-"))
        _log = folder / "refused.log"
        _log.touch()
        os.environ[loopback_only.LOG_VARIABLE] = str(_log)  # for every subprocess
        loopback_only.install()
    return _log


def pythonpath() -> str:
    """PYTHONPATH for a subprocess: the guard's sitecustomize first."""
    return os.pathsep.join(filter(None, [str(GUARD_DIR), os.environ.get("PYTHONPATH")]))


@pytest.fixture(autouse=True)
def network_guard() -> Iterator[Path]:
    """Fails the test if anything it ran was refused by the guard."""
    log = guard_log()
    start = log.stat().st_size
    yield log
    refused = log.read_bytes()[start:].decode("utf-8", "replace")
    if refused:
        pytest.fail("A guard of the test's processes tripped:\n" + refused, pytrace=False)
