"""`make remove-accounts`, tried as a new user would, in a fresh clone of
the project: what it removes and keeps, its migrations, and the fork's
lint and quick checks after it (tests/test_fork.py removes every package
and runs the fork's whole suite). Every command is a real process."""

import pytest

from tests.support.fork import (
    add_a_table_of_its_own,
    check_the_fork_after_a_removal,
    make,
    migrated_from_scratch,
    package_revisions,
    remove_keeping_the_history,
    revisions,
    tracked_files_naming,
)

pytestmark = [pytest.mark.slow]

# What stays of accounts in no tracked file once it is removed.
ITS_NAMES = ["accounts/", ">>> accounts", "flask_login", "Flask-Login", "argon2", "aiosmtpd"]


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
    assert "users" not in migrated_from_scratch(fresh_clone)


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
