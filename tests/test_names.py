"""Renaming: every place a fork changes stands in one list, README's
"Rename" table, which ``make rename`` (bin/rename.py) reads and applies."""

import re
import subprocess
import sys

import pytest

from tests.support.commands import copy_project
from tests.support.environment import PROJECT_DIR

# The template's own names; after `make rename` they stand nowhere.
TEMPLATE_NAMES = ("HerokuCondaFlaskAlembic", "hcfa")


def rename_table(project=PROJECT_DIR) -> dict[str, set[str]]:
    """{name: files where it may stand}, read from the README's table."""
    readme = (project / "README.md").read_text()
    section = readme.split("## Rename", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \|", section, re.MULTILINE)
    return {name: set(re.findall(r"`([^`]+)`", files)) for name, files in rows}


def files_naming(name: str, project=PROJECT_DIR) -> set[str]:
    """Files where ``name`` stands between non-alphanumerics (hcfa_dev
    names it), in its own case (in "ReadingList", "readinglist" does not
    stand), but for this one."""
    pattern = f"(^|[^A-Za-z0-9]){name}([^A-Za-z0-9]|$)"
    result = subprocess.run(
        ["git", "grep", "--untracked", "-l", "-E", pattern, "--", ":!tests/test_names.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return set(result.stdout.split())


def rename(project, name: str, short: str = "") -> subprocess.CompletedProcess:
    """``make rename NAME=name SHORT=short``, as the Makefile runs it."""
    command = [sys.executable, "bin/rename.py", name, short]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=30)


def test_the_readme_lists_the_two_names_to_change():
    assert len(rename_table()) == 2


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_a_template_name_stands_only_where_the_rename_list_says(name):
    found = files_naming(name)
    if not found:
        return  # renamed: the name is gone
    listed = rename_table().get(name, set())
    assert found - listed == set(), f"{name!r} also stands in files the README does not list"
    assert listed - found == set(), f"the README lists files without {name!r}"


def test_make_rename_replaces_every_name_and_leaves_none_behind(tmp_path):
    project = copy_project(tmp_path / "readinglist")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True, timeout=30)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True, timeout=30)
    author = ["-c", "user.name=Fork", "-c", "user.email=fork@example.invalid"]
    subprocess.run(["git", *author, "commit", "-q", "-m", "Fork"], cwd=project, check=True)
    result = rename(project, "ReadingList")
    assert result.returncode == 0, result.stderr
    assert "Renamed to ReadingList (readinglist)." in result.stdout
    for name in TEMPLATE_NAMES:
        assert files_naming(name, project) == set(), name
    assert rename_table(project) == {
        "ReadingList": rename_table()["HerokuCondaFlaskAlembic"],
        "readinglist": rename_table()["hcfa"],
    }
    assert 'APP_NAME = "ReadingList"' in (project / "config.py").read_text()
    assert "name: readinglist\n" in (project / "environment.yml").read_text()
    readme = (project / "README.md").read_text()
    assert readme.startswith("# ReadingList\n\nReadingList is a web application")
    assert "A template for" not in readme


def test_make_rename_refuses_a_name_that_is_not_one_word():
    result = rename(PROJECT_DIR, "Reading List")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: NAME must be letters and digits")
