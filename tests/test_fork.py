"""A fork, tried as a new user makes one: in a fresh clone of the project,
remove every optional package (each ``make remove-<name>`` the Makefile
still has), add a package of one's own (a table, a page, a JSON endpoint, a
job), migrate, and run that clone's tests and lint. Every command is a real
process. Each package's own removal test checks the fork with only that
package removed."""

import re

import pytest

from tests.support.commands import manage, ok
from tests.support.fork import git, make, removable_packages

# The clone's own suite runs on both databases, for minutes.
pytestmark = [pytest.mark.postgres, pytest.mark.slow]

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
from models import transaction
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
from models import transaction
from errors import AppError, answer_errors_in_json
from extensions import jobs
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


def add_books(clone) -> None:
    """The package, and the one change it makes to the template's files:
    web.py registers its blueprints."""
    for name, text in BOOKS_PACKAGE.items():
        (clone / name).parent.mkdir(exist_ok=True)
        (clone / name).write_text(text)
    web = clone / "web.py"
    web.write_text(
        web.read_text()
        .replace("from config import", "from books import views as books\nfrom config import")
        .replace(
            "    app.register_blueprint(pages.bp)\n",
            "    app.register_blueprint(books.bp)\n    app.register_blueprint(books.api)\n"
            "    app.register_blueprint(pages.bp)\n",
        )
    )


@pytest.mark.timeout(900)
def test_a_fork_without_the_optional_packages_and_with_its_own_stays_green(fresh_clone, tmp_path):
    clone = fresh_clone
    timings = {}
    for package in removable_packages(clone):
        timings[f"remove-{package}"] = make(f"remove-{package}", clone)[1]
        git("add", "-A", cwd=clone)
        git("commit", "-q", "-m", f"Without {package}", cwd=clone)
    assert removable_packages(clone) == []

    # The start page is the template's own, and the app still serves /healthz.
    url = f"sqlite:///{tmp_path / 'fork.sqlite3'}"
    ok(manage("db", "upgrade", cwd=clone, DATABASE_URL=url))
    add_books(clone)
    for command in (["migrate", "-m", "Add books"], ["upgrade"], ["check"]):
        ok(manage("db", *command, cwd=clone, DATABASE_URL=url))
    # The template's own tests are all in this run, so they prove the removals too.
    # Not this test again inside the fork: it would fork the fork.
    no_fork_again = "PYTEST_ARGS=--ignore=tests/test_fork.py"
    result, timings["test, with a package of its own"] = make("test", clone, 600, no_fork_again)
    assert " passed" in result.stdout and " failed" not in result.stdout
    assert re.search(r"Required test coverage of [\d.]+% reached", result.stdout), result.stdout
    _, timings["lint"] = make("lint", clone)
    print("fork timings (s):", {name: round(seconds, 1) for name, seconds in timings.items()})
