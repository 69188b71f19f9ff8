"""Scratch clones of the template, forked as a new user forks them: a copy
committed in a repository of its own, and the commands run in it as real
processes (the clone uses this test run's virtualenv)."""

import re
import subprocess
import sys
import time
from pathlib import Path

from tests.support.commands import copy_project, manage, ok
from tests.support.environment import project_env

AUTHOR = ["-c", "user.name=Fork", "-c", "user.email=fork@example.invalid"]


def run(command: list[str], cwd: Path, timeout: float = 300, check: bool = True, **env: str | None):
    """``command`` in ``cwd``, and the seconds it took."""
    started = time.monotonic()
    # The clone is another project: this run's coverage must not reach into it.
    clone_env = {k: v for k, v in project_env(**env).items() if not k.startswith("COVERAGE_")}
    result = subprocess.run(
        command, cwd=cwd, env=clone_env, capture_output=True, text=True, timeout=timeout
    )
    if check:
        assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result, time.monotonic() - started


def git(*args: str, cwd: Path) -> str:
    return run(["git", *AUTHOR, *args], cwd)[0].stdout


def clone_of_the_template(destination: Path) -> Path:
    """The template as committed in a new repository: a fresh clone."""
    clone = copy_project(destination)
    git("init", "-q", "-b", "main", cwd=clone)
    commit(clone, "The template")
    return clone


def commit(clone: Path, message: str) -> None:
    git("add", "-A", cwd=clone)
    git("commit", "-q", "--allow-empty", "-m", message, cwd=clone)


def make(target: str, clone: Path, *args: str, timeout: float = 900, check: bool = True):
    # The clone uses this test's virtualenv instead of building its own; its
    # test processes start Redis servers of their own.
    command = ["make", "--no-print-directory", target, f"VENV={sys.prefix}"]
    command += [f"PYTHON={sys.executable}", *args]
    return run(command, clone, timeout=timeout, check=check, TEST_REDIS_URL=None)


def fork(clone: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``make fork ARGS...`` in ``clone``."""
    return make("fork", clone, *args, check=check, timeout=120)[0]


def revisions(clone: Path) -> set[str]:
    return {path.name for path in (clone / "migrations" / "versions").glob("*.py")}


def tables(clone: Path, url: str) -> set[str]:
    script = (
        "from sqlalchemy import inspect; print('TABLES:', *inspect(db.engine).get_table_names())"
    )
    output = ok(manage("shell", cwd=clone, input=script, DATABASE_URL=url)).stdout
    match = re.search(r"TABLES:(.*)", output)
    assert match, output
    return set(match.group(1).split())


def files_naming(clone: Path, *words: str) -> str:
    """``git grep`` lines of tracked and new files naming any of ``words``
    (case-insensitive); empty when none does."""
    patterns = [arg for word in words for arg in ("-e", word)]
    command = ["git", "grep", "--untracked", "-n", "-i", "-F", *patterns]
    return subprocess.run(command, cwd=clone, capture_output=True, text=True, timeout=30).stdout


def write_files(clone: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        (clone / name).write_text(text)


def register_in_web_py(clone: Path, package: str) -> None:
    """The one change a package makes to the files it did not write: the
    lines in create_app() that wire it in (README "Add a package")."""
    web = clone / "web.py"
    anchor = "    app.register_blueprint(pages.bp)\n"
    assert anchor in web.read_text()
    wiring = f"    import {package}\n\n    {package}.init_app(app)\n"
    web.write_text(web.read_text().replace(anchor, wiring + anchor, 1))
