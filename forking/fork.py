#!/usr/bin/env python3
"""The one step from the template to your project:

    make fork NAME=Shelf KEEP=accounts          # or KEEP=none, KEEP="accounts example"
    make fork NAME=Shelf SHORT=shelf-app KEEP=none

It names the project (NAME, the display name, and SHORT, the short name of
databases, the conda environment and Heroku apps: NAME in lower case by
default), keeps the optional packages KEEP names and deletes the others,
then deletes everything that makes the template a template: this folder
(the step and its tests), the marker comments, the template's history and
every text about forking. Afterwards nothing refers to what is gone.

Marker comments, in any tracked file, say what belongs to which package:

    >>> NAME[|NAME...]      opens a block kept while any NAME is kept
    === after removal       (optional) the lines below it replace the block when it goes
    <<< NAME[|NAME...]      closes it

``template`` is a NAME that no fork keeps. A kept block loses its markers
(and its "after removal" lines); a removed one loses everything but those.

Nothing changes until every check has passed: a clean work tree (so that
``git checkout . && git clean -fd`` undoes the step), valid names, and no
file of yours that needs a package KEEP leaves out (an import of it, or a
foreign key to its tables): the step refuses in one line and names them.
Standard library only: it runs before any virtualenv exists.
"""

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python3 forking/fork.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forking.migrations import RevisionError, plan_removal

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The template's names, replaced wherever they stand.
DISPLAY_NAME = "HerokuCondaFlaskAlembic"
SHORT_NAME = "hcfa"
VALID_DISPLAY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,39}")
VALID_SHORT_NAME = re.compile(r"[a-z][a-z0-9-]{0,29}")
# Files of the template that no fork keeps, besides the marked blocks.
TEMPLATE_FILES = ["forking", "docs/history.md"]
MARKER = re.compile(r"(>>>|<<<) ([a-z]+(?:\|[a-z]+)*)\b")
SWITCH = "=== after removal"


@dataclass
class Package:
    paths: list[str]  # the package, and files only it needs
    revisions: set[str]  # its revisions' file names in migrations/versions
    tables: list[str]
    models: list[str]  # the classes of its tables
    imports: list[str]  # the modules that are gone with it
    test_support: list[str] = field(default_factory=list)


OPTIONAL = {
    "accounts": Package(
        paths=["accounts", "stubs/flask_login"],
        revisions={"0004_accounts_users.py"},
        tables=["users"],
        models=["User"],
        imports=["accounts", "flask_login", "limits", "argon2"],
        test_support=[
            "tests/support/users.py",
            "tests/support/mail_server.py",
            "tests/support/smtp_server.py",
        ],
    ),
    "example": Package(
        paths=["wordcount", "stubs/webencodings"],
        revisions={
            "0001_create_results_table.py",
            "0002_count_status.py",
            "0003_rename_results_to_counts.py",
        },
        tables=["counts"],
        models=["Count"],
        imports=["wordcount"],
    ),
}
# Test support that stays while any of these packages does.
SHARED_TEST_SUPPORT = {"tests/support/browser.py": {"accounts", "example"}}


@dataclass
class Block:
    names: frozenset[str]
    kept: bool
    opened_at: int  # its line
    after: bool = False  # in its "after removal" lines


class ForkError(Exception):
    """The step cannot run as asked; nothing has changed."""


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        raise ForkError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def project_files() -> list[Path]:
    """Tracked files, and untracked ones git does not ignore, but this folder's."""
    names = git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    paths = [PROJECT_DIR / name for name in names if name and not name.startswith("forking/")]
    return [path for path in paths if path.is_file() and not path.is_symlink()]


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None  # a binary file: no names, no markers


def cut_blocks(text: str, name: str, kept: set[str]) -> str:
    """``text`` with each marked block kept (its markers gone) or removed
    (but for its "after removal" lines)."""
    out: list[str] = []
    stack: list[Block] = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        marker = MARKER.search(line)
        if marker and marker.group(1) == ">>>":
            names = frozenset(marker.group(2).split("|"))
            stack.append(Block(names, bool(names & kept), number))
        elif marker:
            if not stack or stack[-1].names != frozenset(marker.group(2).split("|")):
                raise ForkError(f"{name}:{number}: '<<< {marker.group(2)}' closes no open block")
            stack.pop()
        elif SWITCH in line and stack:
            stack[-1].after = True
        elif all(block.kept != block.after for block in stack):
            out.append(line)
    if stack:
        raise ForkError(f"{name}:{stack[-1].opened_at}: a block is never closed")
    return "".join(out)


def replace_word(text: str, old: str, new: str) -> str:
    # Between non-alphanumerics: a name followed by _dev or -staging is renamed too.
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(old)}(?![A-Za-z0-9])", new, text)


def dependants(package: str, texts: dict[Path, str], kept: set[str]) -> list[str]:
    """Places outside ``package`` that would still need it once it is cut
    out: imports of its modules, foreign keys to its tables (in models and
    revisions) and relationships to its models."""
    spec = OPTIONAL[package]
    own = tuple(spec.paths + spec.test_support)
    shipped = {f"migrations/versions/{name}" for name in spec.revisions}
    modules, tables, models = (
        "|".join(map(re.escape, names)) for names in (spec.imports, spec.tables, spec.models)
    )
    needs = re.compile(
        rf"^\s*(?:from|import)\s+(?:{modules})\b"
        rf"|ForeignKey(?:Constraint)?\([^)]*?[\"'](?:{tables})\.\w+[\"']"
        rf"|relationship\(\s*[\"'](?:{models})[\"']",
        re.MULTILINE,
    )
    found = []
    for path, text in texts.items():
        relative = str(path.relative_to(PROJECT_DIR))
        if path.suffix != ".py" or relative.startswith(own) or relative in shipped:
            continue
        text = cut_blocks(text, relative, kept)
        for match in needs.finditer(text):
            found.append(f"{relative}:{text.count(chr(10), 0, match.start()) + 1}")
    return found


def check(display: str, short: str, kept: set[str]) -> None:
    if not VALID_DISPLAY_NAME.fullmatch(display):
        raise ForkError(f"NAME must be letters and digits, starting with a letter: {display!r}")
    if not VALID_SHORT_NAME.fullmatch(short):
        raise ForkError(f"SHORT must be lower-case letters, digits and '-': {short!r}")
    if unknown := kept - set(OPTIONAL):
        raise ForkError(f"KEEP names {', '.join(sorted(unknown))}: say none, accounts or example")
    if git("status", "--porcelain"):
        raise ForkError(
            "the work tree has uncommitted changes; commit or stash them first, "
            "so that git can undo this step"
        )


def removed_paths(kept: set[str]) -> list[str]:
    paths = list(TEMPLATE_FILES)
    for name, package in OPTIONAL.items():
        if name not in kept:
            paths += package.paths + package.test_support
    paths += [path for path, users in SHARED_TEST_SUPPORT.items() if not users & kept]
    return paths


def fork(display: str, short: str, kept: set[str]) -> list[str]:
    check(display, short, kept)
    texts = {path: text for path in project_files() if (text := read_text(path)) is not None}
    for name in sorted(set(OPTIONAL) - kept):
        if found := dependants(name, texts, kept):
            raise ForkError(
                f"{', '.join(found)} need{'s' if len(found) == 1 else ''} {name}: "
                f"keep it (KEEP={' '.join(sorted(kept | {name}))}), or first remove "
                f"those imports and foreign keys and migrate"
            )
    removed = sorted(set(OPTIONAL) - kept)
    history = plan_removal(
        PROJECT_DIR / "migrations" / "versions",
        removed,
        own={name for package in removed for name in OPTIONAL[package].revisions},
        shipped={name for package in OPTIONAL.values() for name in package.revisions},
    )
    gone = removed_paths(kept)
    edits = {}
    for path, text in texts.items():
        relative = str(path.relative_to(PROJECT_DIR))
        if relative.startswith(tuple(gone)):
            continue
        new = cut_blocks(text, relative, kept)
        new = replace_word(replace_word(new, DISPLAY_NAME, display), SHORT_NAME, short)
        if new != text:
            edits[path] = new  # every file is checked before any changes
    changes = []
    for path, new in sorted(edits.items()):
        path.write_text(new, encoding="utf-8")
        changes.append(f"edited   {path.relative_to(PROJECT_DIR)}")
    for name in gone:
        path = PROJECT_DIR / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        changes.append(f"removed  {name}")
    return changes + history.apply()


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not argv[0] or argv[2] == "":
        print(
            'Usage: make fork NAME=Shelf KEEP="accounts example" (or KEEP=none) [SHORT=shelf]',
            file=sys.stderr,
        )
        return 2
    display, short, keep = argv
    kept = set(keep.split()) - {"none"}
    try:
        changes = fork(display, short or display.lower(), kept)
    except (ForkError, RevisionError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print("\n".join(changes))
    print(
        f"\nThis is {display} now. `git checkout . && git clean -fd` undoes the step until you "
        "commit. Next:\n"
        "  make test     # the tests of what you kept\n"
        f'  git add -A && git commit -m "{display}"'
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
