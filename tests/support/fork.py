"""A fork of the project, as a new user makes one: a fresh clone committed
in a repository of its own, and the commands run in it as real processes.
The removal tests of each optional package use it (make remove-<name>)."""

import importlib.util
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.support.commands import copy_project, manage, ok
from tests.support.environment import PROJECT_DIR, project_env


def run(command: list[str], cwd: Path, timeout: float = 300, **env: str | None):
    started = time.monotonic()
    # The clone is another project: this suite's coverage must not reach into it.
    clone_env = {k: v for k, v in project_env(**env).items() if not k.startswith("COVERAGE_")}
    result = subprocess.run(
        command, cwd=cwd, env=clone_env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result, time.monotonic() - started


def git(*args: str, cwd: Path) -> str:
    return run(
        ["git", "-c", "user.name=Fork", "-c", "user.email=fork@example.invalid", *args], cwd
    )[0].stdout


def fork_of_the_project(destination: Path) -> Path:
    """The project as committed in a new repository: a fresh clone of a fork."""
    clone = copy_project(destination)
    git("init", "-q", "-b", "main", cwd=clone)
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", "Fork of the template", cwd=clone)
    return clone


def make(target: str, clone: Path, timeout: float = 600, *args: str):
    # The clone uses this test's virtualenv instead of building its own; its
    # test processes start Redis servers of their own.
    return run(
        [
            "make",
            "--no-print-directory",
            target,
            f"VENV={sys.prefix}",
            f"PYTHON={sys.executable}",
            *args,
        ],
        clone,
        timeout=timeout,
        TEST_REDIS_URL=None,
    )


def pytest_in(clone: Path, *args: str, timeout: float = 600):
    """The clone's own tests, in two processes, without coverage."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", *args]
    return run(command, clone, timeout=timeout, TEST_REDIS_URL=None)


def check_the_fork_after_a_removal(clone: Path) -> None:
    """After one package's removal: the fork's lint, then its quick
    end-to-end checks (the tests marked smoke: the template's pages and
    command line, and each remaining package's own). The packages share no
    code (each one's test_independence.py), so what a removal changes is the
    template's marked lines, which these exercise; the whole suite runs in
    tests/test_fork.py."""
    make("lint", clone)
    result, _ = pytest_in(clone, "-m", "smoke and not slow")
    assert " passed" in result.stdout and " failed" not in result.stdout


def removable_packages(clone: Path) -> list[str]:
    """The optional packages still in ``clone``: its ``make remove-<name>`` targets."""
    return re.findall(r"^remove-([\w-]+):", (clone / "Makefile").read_text(), re.MULTILINE)


def tables(clone: Path, url: str) -> set[str]:
    script = (
        "from sqlalchemy import inspect; print('TABLES:', *inspect(db.engine).get_table_names())"
    )
    output = ok(manage("shell", cwd=clone, input=script, DATABASE_URL=url)).stdout
    match = re.search(r"TABLES:(.*)", output)
    assert match, output
    return set(match.group(1).split())


def migrated_from_scratch(clone: Path) -> set[str]:
    """The tables of a new SQLite database that ``clone``'s migrations
    built, once ``db check`` finds them equal to its models."""
    url = f"sqlite:///{clone / 'fresh.sqlite3'}"
    ok(manage("db", "upgrade", cwd=clone, DATABASE_URL=url))
    ok(manage("db", "check", cwd=clone, DATABASE_URL=url))
    return tables(clone, url)


def revisions(clone: Path) -> set[str]:
    return {path.name for path in (clone / "migrations" / "versions").glob("*.py")}


def tracked_files_naming(clone: Path, *words: str) -> str:
    """``git grep`` output for any of ``words`` (case-insensitive): empty
    when no tracked file names them."""
    patterns = [arg for word in words for arg in ("-e", word)]
    return subprocess.run(
        ["git", "grep", "-n", "-i", "-F", *patterns],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout


def package_revisions(name: str) -> set[str]:
    """The revisions that ``make remove-<name>`` removes, as
    bin/remove_package.py (a script, not a module) lists them."""
    path = PROJECT_DIR / "bin" / "remove_package.py"
    spec = importlib.util.spec_from_file_location("remove_package", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return set(script.PACKAGES[name].revisions)


# A table of a project's own, in models.py.
NOTE_MODEL = """

class Note(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
"""


def add_a_table_of_its_own(clone: Path, url: str) -> None:
    """The README's workflow while a package is still there: a table and a
    revision of the project's own, a database upgraded along them, and a
    commit (a removal refuses uncommitted work)."""
    models = clone / "models.py"
    models.write_text(
        models.read_text().replace(
            "from sqlalchemy.orm import DeclarativeBase\n",
            "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n",
        )
        + NOTE_MODEL
    )
    ok(manage("db", "upgrade", cwd=clone, DATABASE_URL=url))
    ok(manage("db", "migrate", "-m", "Add notes", cwd=clone, DATABASE_URL=url))
    ok(manage("db", "upgrade", cwd=clone, DATABASE_URL=url))
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", "Notes", cwd=clone)


def remove_keeping_the_history(clone: Path, url: str, package: str, table: str) -> str:
    """``make remove-<package>`` once the history has a revision of the
    project's own: every revision stays, a new one drops ``table``, and the
    history still runs down and up. What the removal printed."""
    before = revisions(clone)
    output = make(f"remove-{package}", clone)[0].stdout
    after = revisions(clone)
    assert before < after and len(after) == len(before) + 1, after  # all kept, and the drop
    assert {table, "note"} <= tables(clone, url)
    ok(manage("db", "upgrade", cwd=clone, DATABASE_URL=url))
    assert table not in tables(clone, url) and "note" in tables(clone, url)
    for command in (["check"], ["downgrade", "base"], ["upgrade"]):
        ok(manage("db", *command, cwd=clone, DATABASE_URL=url))
    return output
