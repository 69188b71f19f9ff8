"""`make remove-accounts`, tried as a new user would, in a fresh clone of
the project: what it removes and keeps, its migrations, and the fork's
lint and quick checks after it (tests/test_fork.py removes every package
and runs the fork's whole suite). Every command is a real process."""

from pathlib import Path

import pytest

from tests.support.commands import manage
from tests.support.fork import (
    add_a_table_of_its_own,
    check_the_fork_after_a_removal,
    fork_of_the_project,
    make,
    ok,
    package_revisions,
    remove_keeping_the_history,
    revisions,
    tables,
    tracked_files_naming,
)

pytestmark = [pytest.mark.slow]

# What stays of accounts in no tracked file once it is removed.
ITS_NAMES = ["accounts/", ">>> accounts", "flask_login", "Flask-Login", "argon2", "aiosmtpd"]


@pytest.fixture
def fresh_clone(tmp_path) -> Path:
    return fork_of_the_project(tmp_path / "myapp")


def test_remove_accounts_leaves_the_template_and_says_what_it_removed(fresh_clone):
    before = revisions(fresh_clone)
    output = make("remove-accounts", fresh_clone)[0].stdout
    assert "removed  accounts\nremoved  stubs/flask_login\n" in output
    assert "removed  migrations/versions/0004_accounts_users.py" in output
    assert "edited   web.py (accounts blocks cut)" in output
    assert "edited   templates/base.html (accounts blocks cut)" in output
    assert revisions(fresh_clone) == before - package_revisions("accounts")
    leftover = tracked_files_naming(fresh_clone, *ITS_NAMES)
    assert leftover == "", "accounts are still named in:\n" + leftover
    url = f"sqlite:///{fresh_clone / 'fresh.sqlite3'}"
    ok(manage("db", "upgrade", cwd=fresh_clone, DATABASE_URL=url))
    ok(manage("db", "check", cwd=fresh_clone, DATABASE_URL=url))
    assert "users" not in tables(fresh_clone, url)


def test_remove_accounts_keeps_a_projects_own_revisions_and_drops_the_users_table(
    fresh_clone, database_url
):
    add_a_table_of_its_own(fresh_clone, database_url)
    output = remove_keeping_the_history(fresh_clone, database_url, "accounts", "users")
    assert "_drop_accounts.py (drops the users table" in output


@pytest.mark.postgres
def test_a_fork_stays_green_after_remove_accounts(fresh_clone):
    make("remove-accounts", fresh_clone)
    check_the_fork_after_a_removal(fresh_clone)
