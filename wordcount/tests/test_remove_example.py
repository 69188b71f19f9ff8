"""`make remove-example`, tried as a new user would: in a fresh clone of the
project, remove the example, add a package of one's own (a table, a page, a
JSON endpoint, a job), migrate, and run that clone's tests and lint. Every
command is a real process."""

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.commands import copy_project, head_revision, manage
from tests.support.environment import project_env

# The clone's own suite runs on both databases, for minutes.
pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# What a fork adds after removing the example: a table and a page that lists it.
NOTE_MODEL = """

class Note(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
"""
# A fork's first package, as README's "Add a table, a page and a job" shows
# it: a table with a unique constraint, a page, a JSON endpoint and a job.
# Only web.py changes among the template's files, to register its blueprints.
BOOKS_PACKAGE = {
    "books/__init__.py": '''"""Books: the fork's own first package."""
''',
    "books/models.py": '''"""The books table."""

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models import Model


class Book(Model):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    isbn: Mapped[str] = mapped_column(String(13), unique=True)
    title: Mapped[str] = mapped_column(Text)
    cover_checked: Mapped[bool] = mapped_column(default=False)
''',
    "books/tasks.py": '''"""The job: check a book's cover."""

from sqlalchemy import update

from books.models import Book
from database import transaction
from models import db


def check_cover(book_id: int) -> None:
    with transaction():
        db.session.execute(update(Book).where(Book.id == book_id).values(cover_checked=True))


def cover_failed(book_id: int, *, error: BaseException) -> None:
    raise AssertionError(f"the cover of book {book_id} failed: {error}")
''',
    "books/views.py": '''"""The books page and JSON API."""

from flask import Blueprint, render_template_string, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from books.models import Book
from books.tasks import check_cover, cover_failed
from database import transaction
from errors import AppError, answer_errors_in_json
from jobs import jobs
from models import db

bp = Blueprint("books", __name__)
api = Blueprint("books_api", __name__, url_prefix="/api")
answer_errors_in_json(api)
PAGE = "<ul>{% for book in books %}<li>{{ book.title }}</li>{% endfor %}</ul>"


@bp.get("/books")
def index() -> str:
    books = db.session.scalars(select(Book).order_by(Book.title)).all()
    return render_template_string(PAGE, books=books)


@api.post("/books")
def create_book() -> ResponseReturnValue:
    payload = request.get_json()
    book = Book(isbn=payload["isbn"], title=payload["title"])
    try:
        with transaction():
            db.session.add(book)
    except IntegrityError:
        raise AppError("duplicate_isbn", "A book with this ISBN exists.", 409) from None
    jobs.submit(check_cover, book.id, timeout=30, on_failure=cover_failed)
    return {"id": book.id}, 201


@api.get("/books/<int:book_id>")
def get_book(book_id: int) -> dict[str, object]:
    book = db.get_or_404(Book, book_id)
    return {"isbn": book.isbn, "title": book.title, "cover_checked": book.cover_checked}
''',
    "tests/test_books.py": """def test_a_book_is_stored_its_job_runs_and_it_is_listed(client):
    created = client.post("/api/books", json={"isbn": "9780000000001", "title": "Dune"})
    assert created.status_code == 201
    book = client.get(f"/api/books/{created.get_json()['id']}").get_json()
    assert book == {"isbn": "9780000000001", "title": "Dune", "cover_checked": True}
    assert "<li>Dune</li>" in client.get("/books").get_data(as_text=True)


def test_an_isbn_is_unique_on_both_databases(client):
    client.post("/api/books", json={"isbn": "9780000000001", "title": "Dune"})
    again = client.post("/api/books", json={"isbn": "9780000000001", "title": "Emma"})
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "duplicate_isbn")


def test_an_unknown_book_is_a_json_404(client):
    assert client.get("/api/books/99").get_json()["error"]["code"] == "not_found"
""",
}


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


def add_note_model(clone: Path) -> None:
    models = clone / "models.py"
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


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def tables(clone: Path, url: str) -> set[str]:
    script = "from sqlalchemy import inspect; print(sorted(inspect(db.engine).get_table_names()))"
    output = ok(manage("shell", cwd=clone, input=script, DATABASE_URL=url))
    return {name for name in ("counts", "note", "alembic_version") if f"'{name}'" in output}


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_remove_example_keeps_a_projects_own_revisions_and_drops_the_example_table(
    fresh_clone, tmp_path, database, request
):
    # The README's workflow while the example is still there: a table and a
    # revision of the project's own, and a database upgraded along them.
    url = (
        f"sqlite:///{tmp_path / 'kept.sqlite3'}"
        if database == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    add_note_model(fresh_clone)
    ok(manage("db", "upgrade", cwd=fresh_clone, DATABASE_URL=url))
    ok(manage("db", "migrate", "-m", "Add notes", cwd=fresh_clone, DATABASE_URL=url))
    ok(manage("db", "upgrade", cwd=fresh_clone, DATABASE_URL=url))
    own = [p.name for p in (fresh_clone / "migrations" / "versions").glob("*_add_notes.py")]
    git("add", "-A", cwd=fresh_clone)
    git("commit", "-q", "-m", "Notes", cwd=fresh_clone)

    output = make("remove-example", fresh_clone)[0].stdout
    assert "_drop_the_example.py (drops the example's table" in output
    kept = {p.name for p in (fresh_clone / "migrations" / "versions").glob("*.py")}
    assert set(own) < kept and len(kept) == 5, kept  # three of the example's, own, the drop
    assert tables(fresh_clone, url) == {"counts", "note", "alembic_version"}
    ok(manage("db", "upgrade", cwd=fresh_clone, DATABASE_URL=url))
    assert tables(fresh_clone, url) == {"note", "alembic_version"}
    ok(manage("db", "check", cwd=fresh_clone, DATABASE_URL=url))
    ok(manage("db", "downgrade", "base", cwd=fresh_clone, DATABASE_URL=url))
    ok(manage("db", "upgrade", cwd=fresh_clone, DATABASE_URL=url))


@pytest.mark.timeout(900)
def test_a_fork_stays_green_after_remove_example_and_its_own_first_package(fresh_clone, tmp_path):
    timings = {}
    timings["remove-example"] = make("remove-example", fresh_clone)[1]
    # The fork's lint and suite run once, below, with its first package added:
    # the template's own tests are all in it, so they prove the removal too.

    # The start page is the template's own, and the app still serves /healthz.
    url = f"sqlite:///{tmp_path / 'fork.sqlite3'}"
    assert manage("db", "upgrade", cwd=fresh_clone, DATABASE_URL=url).returncode == 0

    for name, text in BOOKS_PACKAGE.items():
        (fresh_clone / name).parent.mkdir(exist_ok=True)
        (fresh_clone / name).write_text(text)
    web = fresh_clone / "web.py"
    web.write_text(
        web.read_text()
        .replace("from config import", "from books import views as books\nfrom config import")
        .replace(
            "    app.register_blueprint(pages.bp)\n",
            "    app.register_blueprint(books.bp)\n    app.register_blueprint(books.api)\n"
            "    app.register_blueprint(pages.bp)\n",
        )
    )

    migrate = manage("db", "migrate", "-m", "Add books", cwd=fresh_clone, DATABASE_URL=url)
    assert migrate.returncode == 0, migrate.stderr
    for command in (["db", "upgrade"], ["db", "check"]):
        result = manage(*command, cwd=fresh_clone, DATABASE_URL=url)
        assert result.returncode == 0, result.stderr
    result, timings["test after removal, with a package"] = make("test", fresh_clone)
    assert " passed" in result.stdout and " failed" not in result.stdout
    assert re.search(r"Required test coverage of [\d.]+% reached", result.stdout), result.stdout
    _, timings["lint"] = make("lint", fresh_clone)
    print("fork timings (s):", {name: round(seconds, 1) for name, seconds in timings.items()})
