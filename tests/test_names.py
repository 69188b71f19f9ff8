"""Renaming: every place a fork changes stands in one list, README's
"Rename the template" table, and nowhere else."""

import re
import subprocess

import pytest

from tests.helpers import PROJECT_DIR


def rename_table() -> dict[str, set[str]]:
    """{name: files where it may stand}, read from the README's table."""
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("## Rename the template", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \|", section, re.MULTILINE)
    return {name: set(re.findall(r"`([^`]+)`", files)) for name, files in rows}


def files_naming(name: str) -> set[str]:
    result = subprocess.run(
        ["git", "grep", "--untracked", "-l", "-i", "-F", name],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return set(result.stdout.split())


def test_the_readme_lists_the_names_to_change():
    assert len(rename_table()) >= 2


@pytest.mark.parametrize("name", sorted(rename_table()))
def test_a_template_name_stands_only_where_the_rename_list_says(name):
    listed = rename_table()[name]
    found = files_naming(name)
    assert found - listed == set(), f"{name!r} also stands in files the README does not list"
    existing = {path for path in listed if (PROJECT_DIR / path).exists()}
    assert existing - found == set(), f"the README lists files without {name!r}"
