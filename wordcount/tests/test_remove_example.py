"""`make remove-example`, tried as a new user would, in a fresh clone of the
project: what it removes and keeps, its migrations, and the fork's lint and
quick checks after it (tests/test_fork.py removes every package and runs
the fork's whole suite). Every command is a real process."""

import subprocess

import pytest

from tests.support.environment import project_env
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
    before = revisions(fresh_clone)
    output = make("remove-example", fresh_clone)[0].stdout
    assert "removed  wordcount" in output
    assert "removed  instance/development.sqlite3" in output
    assert "removed  migrations/versions/0003_rename_results_to_counts.py" in output
    assert "edited   web.py" in output

    assert not (fresh_clone / "wordcount").exists()
    # The other packages' revisions stay, linked up again.
    assert revisions(fresh_clone) == before - package_revisions("example")
    leftover = tracked_files_naming(fresh_clone, "wordcount", ">>> example")
    assert leftover == "", "the example is still named in:\n" + leftover
    requirements = (fresh_clone / "requirements.txt").read_text()
    assert "selectolax" not in requirements and "Flask==" in requirements
    assert "counts" not in migrated_from_scratch(fresh_clone)


def test_remove_example_keeps_a_projects_own_revisions_and_drops_the_example_table(
    fresh_clone, database_url
):
    add_a_table_of_its_own(fresh_clone, database_url)
    output = remove_keeping_the_history(fresh_clone, database_url, "example", "counts")
    assert "_drop_example.py (drops the example's table" in output


@pytest.mark.postgres
def test_a_fork_stays_green_after_remove_example(fresh_clone):
    make("remove-example", fresh_clone)
    check_the_fork_after_a_removal(fresh_clone)
