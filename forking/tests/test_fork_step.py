"""``make fork``, taken in scratch clones of the template: what each choice
of packages leaves, and its refusals. (test_fork.py goes on to build a
package in a fork and run the fork's own tests.)"""

import sys

import pytest

from forking.tests.clones import (
    commit,
    files_naming,
    fork,
    git,
    make,
    revisions,
    run,
    tables,
    write_files,
)
from tests.support.commands import manage, ok

# What makes the template a template: in no file of any fork.
MACHINERY = [
    "forking/",
    "forking.",
    "make fork",
    "test-fork",
    "remove-example",
    "remove-accounts",
    "make rename",
    ">>> ",
    "<<< ",
    "=== after removal",
    "HerokuCondaFlaskAlembic",
    "hcfa",
    "history.md",
    "the template",
    "template's",
]
# What names a package: in no file of a fork without it.
NAMES_OF = {
    "example": [
        "wordcount",
        "the example",
        "selectolax",
        "webencodings",
        "schemathesis",
        "bench-wordcount",
    ],
    "accounts": ["accounts", "flask_login", "Flask-Login", "argon2", "aiosmtpd", "users.id"],
}
NAMES_OF_BOTH = ["playwright", "chromium", "tests/support/browser"]

# A table of the fork's own that references accounts' users.
OWNED_TABLE = '''"""A table whose rows belong to users."""

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from models import Model


class Shelf(Model):
    __tablename__ = "qx_shelves"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
'''


def left_over(clone, kept: set[str]) -> str:
    words = list(MACHINERY)
    for name, names in NAMES_OF.items():
        if name not in kept:
            words += names
    if not kept:
        words += NAMES_OF_BOTH
    return files_naming(clone, *words)


@pytest.mark.parametrize("keep", ["accounts example", "accounts", "example", "none"])
def test_a_fork_holds_nothing_of_the_template_or_of_what_it_left_out(template_clone, keep):
    kept = set(keep.split()) - {"none"}
    output = fork(template_clone, "NAME=Qzshelf", f"KEEP={keep}").stdout
    assert "This is Qzshelf now." in output
    assert left_over(template_clone, kept) == ""
    assert not (template_clone / "forking").exists()
    assert {path.name for path in template_clone.iterdir() if path.is_dir()} >= {
        "plumbing",
        "migrations",
        "tests",
        *(("accounts",) if "accounts" in kept else ()),
        *(("wordcount",) if "example" in kept else ()),
    }
    # Cut blocks leave code as ruff formats it: no stray blank line or import.
    run([sys.executable, "-m", "ruff", "check", "."], template_clone)
    run([sys.executable, "-m", "ruff", "format", "--check", "."], template_clone)
    readme = (template_clone / "README.md").read_text()
    assert readme.startswith("# Qzshelf\n\nQzshelf is a web application on Flask")
    assert 'APP_NAME = "Qzshelf"' in (template_clone / "config.py").read_text()
    assert "name: qzshelf\n" in (template_clone / "environment.yml").read_text()


def test_a_fork_keeping_nothing_migrates_from_an_empty_history(template_clone, tmp_path):
    output = fork(template_clone, "NAME=Qzshelf", "SHORT=qz-shelf", "KEEP=none").stdout
    assert "removed  migrations/versions/0004_accounts_users.py" in output
    assert revisions(template_clone) == set()
    assert "qz-shelf" in (template_clone / "docs" / "heroku.md").read_text()
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    for command in (["upgrade"], ["check"]):
        ok(manage("db", *command, cwd=template_clone, DATABASE_URL=url))


def test_the_step_is_taken_once(template_clone):
    fork(template_clone, "NAME=Qzshelf", "KEEP=accounts")
    commit(template_clone, "Qzshelf")
    again = make("fork", template_clone, "NAME=Other", "KEEP=none", check=False)[0]
    assert again.returncode != 0
    assert "No rule to make target 'fork'" in again.stderr
    assert (template_clone / "accounts").is_dir()


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["NAME=Two Words", "KEEP=none"], "Error: NAME must be letters and digits"),
        (["NAME=Qz", "SHORT=Qz_Z", "KEEP=none"], "Error: SHORT must be lower-case letters"),
        (["NAME=Qz", "KEEP=accounts billing"], "Error: KEEP names billing: say none"),
        (["NAME=Qz"], "Usage: make fork NAME=Shelf"),
    ],
)
def test_the_step_refuses_what_it_cannot_do_in_one_line(template_clone, arguments, error):
    result = fork(template_clone, *arguments, check=False)
    assert result.returncode != 0
    # One line, then make's own word that the recipe failed.
    assert result.stderr.startswith(error) and "Traceback" not in result.stderr
    assert "*** [Makefile" in result.stderr.splitlines()[1], result.stderr
    assert (template_clone / "forking").is_dir()


def test_the_step_refuses_uncommitted_work(template_clone):
    (template_clone / "models.py").write_text("# half-done work\n")
    result = fork(template_clone, "NAME=Qz", "KEEP=none", check=False)
    assert "Error: the work tree has uncommitted changes" in result.stderr
    assert (template_clone / "accounts").is_dir()


@pytest.mark.parametrize(
    ("files", "place"),
    [
        ({"qx_shelf/__init__.py": "", "qx_shelf/models.py": OWNED_TABLE}, "models.py:13"),
        ({"qx_shelf/__init__.py": "from flask_login import login_required\n"}, "__init__.py:1"),
    ],
)
def test_removing_accounts_that_your_code_needs_is_refused_naming_it(template_clone, files, place):
    write_files(template_clone, files)
    commit(template_clone, "A package of its own")
    result = fork(template_clone, "NAME=Qz", "KEEP=example", check=False)
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (
        f"Error: qx_shelf/{place} needs accounts: keep it (KEEP=accounts example), "
        "or first remove those imports and foreign keys and migrate"
    )
    assert git("status", "--porcelain", cwd=template_clone) == ""


NOTE_MODEL = """

class Note(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
"""


def test_a_history_of_your_own_is_kept_and_the_packages_tables_dropped(
    template_clone, database_url
):
    models = template_clone / "models.py"
    models.write_text(
        models.read_text().replace(
            "from sqlalchemy.orm import DeclarativeBase\n",
            "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n",
        )
        + NOTE_MODEL
    )
    write_files(template_clone, {"qx_notes/__init__.py": '"""Mine."""\n'})
    for command in (["upgrade"], ["migrate", "-m", "Add notes"], ["upgrade"]):
        ok(manage("db", *command, cwd=template_clone, DATABASE_URL=database_url))
    commit(template_clone, "Notes")
    before = revisions(template_clone)

    output = fork(template_clone, "NAME=Qz", "KEEP=none").stdout
    assert output.count("_drop_") == 2
    assert before < revisions(template_clone) and len(revisions(template_clone)) == len(before) + 2
    assert (template_clone / "qx_notes" / "__init__.py").read_text() == '"""Mine."""\n'
    ok(manage("db", "upgrade", cwd=template_clone, DATABASE_URL=database_url))
    assert tables(template_clone, database_url) == {"alembic_version", "note"}
    for command in (["check"], ["downgrade", "base"], ["upgrade"], ["check"]):
        ok(manage("db", *command, cwd=template_clone, DATABASE_URL=database_url))
