"""`make remove-example`, tried as a new user would: in a fresh clone of the
project, remove the example, add a model and a page of one's own, migrate,
and run that clone's tests and lint. Every command is a real process."""

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import copy_project, head_revision, manage, project_env

# The clone's own suite runs on both databases, for minutes.
pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# What a fork adds after removing the example: a table and a page that lists it.
NOTE_MODEL = """

class Note(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
"""
NOTES_BLUEPRINT = '''"""Notes: the fork's own first page."""

from flask import Blueprint
from sqlalchemy import select

from models import Note, db

bp = Blueprint("notes", __name__)


@bp.get("/notes")
def index() -> dict[str, list[str]]:
    notes = db.session.scalars(select(Note).order_by(Note.id)).all()
    return {"notes": [note.body for note in notes]}
'''
NOTES_TEST = """from models import Note, db


def test_notes_lists_what_is_stored(app, client):
    with app.app_context():
        db.session.add(Note(body="first"))
        db.session.commit()
    assert client.get("/notes").get_json() == {"notes": ["first"]}
"""


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


@pytest.fixture
def fresh_clone(tmp_path) -> Path:
    """The project as committed in a new repository: a fresh clone of a fork."""
    clone = copy_project(tmp_path / "myapp")
    git("init", "-q", "-b", "main", cwd=clone)
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", "Fork of the template", cwd=clone)
    return clone


def make(target: str, clone: Path, timeout: float = 600):
    # The clone uses this test's virtualenv instead of building its own; its
    # test processes start Redis servers of their own.
    return run(
        ["make", "--no-print-directory", target, f"VENV={sys.prefix}", f"PYTHON={sys.executable}"],
        clone,
        timeout=timeout,
        TEST_REDIS_URL=None,
    )


def test_remove_example_refuses_a_work_tree_with_uncommitted_changes(fresh_clone):
    (fresh_clone / "models.py").write_text("# half-done work\n")
    result = subprocess.run(
        ["make", "--no-print-directory", "remove-example"],
        cwd=fresh_clone,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Error: the work tree has uncommitted changes" in result.stderr
    assert (fresh_clone / "wordcount").is_dir()


def test_remove_example_leaves_the_template_and_says_what_it_removed(fresh_clone):
    (fresh_clone / "instance").mkdir()
    (fresh_clone / "instance" / "development.sqlite3").write_bytes(b"")
    output = make("remove-example", fresh_clone)[0].stdout
    assert "removed  wordcount" in output
    assert "removed  instance/development.sqlite3" in output
    assert f"removed  migrations/versions/{head_revision()}_" in output
    assert "edited   web.py" in output

    assert not (fresh_clone / "wordcount").exists()
    assert list((fresh_clone / "migrations" / "versions").glob("*.py")) == []
    leftover = subprocess.run(
        ["git", "grep", "-n", "-i", "-F", "-e", "wordcount", "-e", ">>> example"],
        cwd=fresh_clone,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert leftover.stdout == "", "the example is still named in:\n" + leftover.stdout
    requirements = (fresh_clone / "requirements.txt").read_text()
    assert "selectolax" not in requirements and "Flask==" in requirements


@pytest.mark.timeout(900)
def test_a_fork_stays_green_after_remove_example_and_its_own_first_model(fresh_clone, tmp_path):
    timings = {}
    timings["remove-example"] = make("remove-example", fresh_clone)[1]
    # The fork's lint and suite run once, below, with its first model added:
    # the template's own tests are all in it, so they prove the removal too.

    # The start page is the template's own, and the app still serves /healthz.
    url = f"sqlite:///{tmp_path / 'fork.sqlite3'}"
    assert manage("db", "upgrade", cwd=fresh_clone, DATABASE_URL=url).returncode == 0

    models = fresh_clone / "models.py"
    models.write_text(
        models.read_text()
        .replace(
            "from sqlalchemy import JSON, DateTime, Dialect, MetaData, TypeDecorator\n",
            "from sqlalchemy import JSON, DateTime, Dialect, MetaData, Text, TypeDecorator\n",
        )
        .replace(
            "from sqlalchemy.orm import DeclarativeBase\n",
            "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n",
        )
        + NOTE_MODEL
    )
    (fresh_clone / "notes.py").write_text(NOTES_BLUEPRINT)
    web = fresh_clone / "web.py"
    web.write_text(
        web.read_text()
        .replace("import errors\n", "import errors\nimport notes\n")
        .replace(
            "    app.register_blueprint(pages.bp)\n",
            "    app.register_blueprint(notes.bp)\n    app.register_blueprint(pages.bp)\n",
        )
    )
    (fresh_clone / "tests" / "test_notes.py").write_text(NOTES_TEST)

    migrate = manage("db", "migrate", "-m", "Initial tables", cwd=fresh_clone, DATABASE_URL=url)
    assert migrate.returncode == 0, migrate.stderr
    for command in (["db", "upgrade"], ["db", "check"]):
        result = manage(*command, cwd=fresh_clone, DATABASE_URL=url)
        assert result.returncode == 0, result.stderr
    result, timings["test after removal, with a model"] = make("test", fresh_clone)
    assert " passed" in result.stdout and " failed" not in result.stdout
    assert re.search(r"Required test coverage of [\d.]+% reached", result.stdout), result.stdout
    _, timings["lint"] = make("lint", fresh_clone)
    print("fork timings (s):", {name: round(seconds, 1) for name, seconds in timings.items()})
