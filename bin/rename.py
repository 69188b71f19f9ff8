#!/usr/bin/env python3
"""Rename the project: `make rename NAME=ReadingList` (or SHORT=reading-list too).

Every name a fork changes stands in README's "Rename" table, with the files
it stands in; this script reads that table, so the two cannot disagree, and
tests/test_names.py checks that the names stand nowhere else.

- the display name (APP_NAME, app.json) becomes NAME;
- the short name (conda environment, database names, Heroku app names)
  becomes SHORT, by default NAME in lower case;
- README's title and its paragraph about the template become the fork's.

It refuses to run on a work tree with uncommitted changes, so that
`git checkout .` undoes it. Rename the folder yourself, then run
`make clean` once: a virtualenv keeps the path it was made in.
Standard library only.
"""

import re
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
README = PROJECT_DIR / "README.md"
SECTION = "## Rename"
ABOUT = re.compile(r"<!-- >>> about the template -->\n.*?<!-- <<< about the template -->\n", re.S)
DISPLAY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,39}")
SHORT_NAME = re.compile(r"[a-z][a-z0-9-]{0,29}")


class RenameError(Exception):
    pass


def rename_table(readme: str) -> dict[str, list[str]]:
    """{name: [files]} from README's table, display name first."""
    if SECTION not in readme:
        raise RenameError(f"README.md has no {SECTION!r} section")
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \|", section, re.MULTILINE)
    if len(rows) != 2:
        raise RenameError("README.md's rename table must have two rows: display and short name")
    return {name: re.findall(r"`([^`]+)`", files) for name, files in rows}


def replace_word(text: str, old: str, new: str) -> str:
    # Between non-alphanumerics: a name followed by _dev or -staging is renamed too.
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(old)}(?![A-Za-z0-9])", new, text)


def rename(display: str, short: str) -> list[str]:
    if not DISPLAY_NAME.fullmatch(display):
        raise RenameError(f"NAME must be letters and digits, starting with a letter: {display!r}")
    if not SHORT_NAME.fullmatch(short):
        raise RenameError(f"SHORT must be lower-case letters, digits and '-': {short!r}")
    if subprocess.run(
        ["git", "status", "--porcelain"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout:
        raise RenameError("the work tree has uncommitted changes; commit or stash them first")
    readme = README.read_text(encoding="utf-8")
    (old_display, display_files), (old_short, short_files) = rename_table(readme).items()
    texts = {
        name: (PROJECT_DIR / name).read_text(encoding="utf-8")
        for name in {*display_files, *short_files}
    }
    for name in texts:
        if name in display_files:
            texts[name] = replace_word(texts[name], old_display, display)
        if name in short_files:
            texts[name] = replace_word(texts[name], old_short, short)
    about = f"{display} is a web application on Flask, PostgreSQL and Heroku.\n"
    texts["README.md"] = ABOUT.sub(about, texts.get("README.md", readme), count=1)
    texts["README.md"] = re.sub(r"\A# .*\n", f"# {display}\n", texts["README.md"], count=1)
    changes = []
    for name, text in sorted(texts.items()):
        path = PROJECT_DIR / name
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changes.append(f"edited   {name}")
    return changes


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or not argv[1]:
        print("Usage: make rename NAME=ReadingList [SHORT=readinglist]", file=sys.stderr)
        return 2
    display = argv[1]
    short = argv[2] if len(argv) == 3 and argv[2] else display.lower()
    try:
        changes = rename(display, short)
    except RenameError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print("\n".join(changes))
    print(f"\nRenamed to {display} ({short}). `git checkout .` undoes it until you commit.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
