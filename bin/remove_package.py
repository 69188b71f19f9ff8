#!/usr/bin/env python3
"""Remove one of the template's optional packages: `make remove-example`
(the example app) or `make remove-accounts`.

It deletes the package and cuts the blocks marked with its name out of
every tracked file:

    >>> NAME             a line containing this opens a block
    === after removal    (optional) the lines below it are kept
    <<< NAME             a line containing this closes it

Migrations: while the history holds only the revisions the template's
packages ship, the removed package's revisions go (the rest are linked up
again), with the development database built from them. Once it holds
revisions of the project's own, every revision stays (databases were
upgraded along them) and a new one drops the package's tables.

It refuses to run on a work tree with uncommitted changes, so that
`git checkout . && git clean -fd` undoes it, and prints what it changed.
Standard library only: it runs before any virtualenv exists.
"""

import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
VERSIONS = PROJECT_DIR / "migrations" / "versions"
SWITCH = "=== after removal"


@dataclass
class Package:
    title: str  # for the messages: "the example"
    paths: list[str]
    revisions: set[str]  # file names in migrations/versions
    tables: str  # for the messages: "the example's table"
    # The drop revision's body: upgrade() drops the tables; downgrade()
    # puts them back as the package's last revision left them.
    drop_revision_body: str
    next_steps: str


PACKAGES: dict[str, Package] = {}
# >>> example

PACKAGES["example"] = Package(
    title="the example",
    paths=["wordcount"],
    revisions={
        "0001_create_results_table.py",
        "0002_count_status.py",
        "0003_rename_results_to_counts.py",
    },
    tables="the example's table",
    drop_revision_body="""JSON_DOCUMENT = sa.JSON().with_variant(
    postgresql.JSONB(astext_type=sa.Text()), "postgresql"
)


def upgrade():
    op.drop_table("counts")


def downgrade():
    op.create_table(
        "counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_words", sa.Integer(), nullable=True),
        sa.Column("unique_words", sa.Integer(), nullable=True),
        sa.Column("all_words", JSON_DOCUMENT, nullable=True),
        sa.Column("words", JSON_DOCUMENT, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("requested_url", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_counts_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_counts_idempotency_key")),
    )
    with op.batch_alter_table("counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_counts_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_counts_status"), ["status"], unique=False)
""",
    next_steps="add your tables to models.py",
)
# <<< example
# >>> accounts

PACKAGES["accounts"] = Package(
    title="accounts",
    paths=["accounts", "stubs/flask_login"],
    revisions={"0004_accounts_users.py"},
    tables="the users table (first drop or change your own foreign keys to it)",
    drop_revision_body="""def upgrade():
    op.drop_table("users")


def downgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_token", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("session_token", name=op.f("uq_users_session_token")),
    )
""",
    next_steps="change what used login_required or current_user",
)
# <<< accounts


# A revision that removes a package from a history of the project's own.
DROP_REVISION = '''"""Drop {tables} (make remove-{name}).

Revision ID: {revision}
Revises: {down_revision}
Create Date: {date}

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None

{body}
'''


class RemovalError(Exception):
    pass


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        raise RemovalError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def check_clean_work_tree() -> None:
    if git("status", "--porcelain"):
        raise RemovalError(
            "the work tree has uncommitted changes; commit or stash them "
            "first, so that this step can be undone with git"
        )


def cut_marked_blocks(text: str, name: str, package: str) -> str:
    """Drop each block marked with ``package``, keeping the lines of its
    'after removal' part."""
    kept, state = [], "outside"
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if f">>> {package}" in line:
            if state != "outside":
                raise RemovalError(f"{name}:{number}: a block opens inside another")
            state = "inside"
        elif SWITCH in line and state == "inside":
            state = "after"
        elif f"<<< {package}" in line:
            if state == "outside":
                raise RemovalError(f"{name}:{number}: a block closes that never opened")
            state = "outside"
        elif state in ("outside", "after"):
            kept.append(line)
    if state != "outside":
        raise RemovalError(f"{name}: a block is never closed")
    return "".join(kept)


def marked_files(package: str) -> dict[Path, str]:
    """{path: text} of every tracked file outside the package with a block of it."""
    tracked = git("ls-files", "-z").split("\0")
    own = tuple(PACKAGES[package].paths)
    files = [PROJECT_DIR / name for name in tracked if name and not name.startswith(own)]
    texts = {path: read_text(path) for path in files if path.is_file()}
    return {path: text for path, text in texts.items() if f">>> {package}" in text}


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return ""


def remove(name: str) -> list[str]:
    check_clean_work_tree()
    package = PACKAGES[name]
    shipped = set().union(*(each.revisions for each in PACKAGES.values()))
    edits = {
        path: cut_marked_blocks(text, str(path.relative_to(PROJECT_DIR)), name)
        for path, text in marked_files(name).items()
    }  # all checked before anything changes
    changes = []
    for path, text in edits.items():
        path.write_text(text, encoding="utf-8")
        changes.append(f"edited   {path.relative_to(PROJECT_DIR)} ({name} blocks cut)")
    for each in package.paths:
        path = PROJECT_DIR / each
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        changes.append(f"removed  {each}")
    changes.extend(remove_migrations(name, package, shipped))
    return changes


def remove_migrations(name: str, package: Package, shipped: set[str]) -> list[str]:
    """The package's revisions and the database built from them; or, in a
    history of the project's own, a revision that drops its tables."""
    revisions = sorted(VERSIONS.glob("*.py"))
    if any(path.name not in shipped for path in revisions):
        return [add_drop_revision(name, package, head_of(revisions))]
    changes = []
    removed = [path for path in revisions if path.name in package.revisions]
    parents = {revision_id(path): parent_of(path) for path in removed}
    for path in removed:
        path.unlink()
        changes.append(f"removed  migrations/versions/{path.name}")
    changes.extend(relink([path for path in revisions if path not in removed], parents))
    # Built by the removed revisions: its alembic_version may name one that is gone.
    database = PROJECT_DIR / "instance" / "development.sqlite3"
    if database.exists():
        database.unlink()
        changes.append("removed  instance/development.sqlite3 (your local database)")
    return changes


def add_drop_revision(name: str, package: Package, head: str) -> str:
    new = uuid.uuid4().hex[-12:]  # as Alembic makes them
    path = VERSIONS / f"{new}_drop_{name}.py"
    date = time.strftime("%Y-%m-%d")
    path.write_text(
        DROP_REVISION.format(
            tables=package.tables,
            name=name,
            revision=new,
            down_revision=head,
            date=date,
            body=package.drop_revision_body,
        )
    )
    return (
        f"added    migrations/versions/{path.name} (drops {package.tables}:\n"
        "         python manage.py db upgrade applies it; your revisions are kept)"
    )


def relink(kept: list[Path], parents: dict[str, str | None]) -> list[str]:
    """Point each kept revision that revised a removed one (``parents``:
    removed id -> its parent) at the nearest kept ancestor (None: it
    becomes the first)."""
    changes = []
    for path in kept:
        parent = parent_of(path)
        if parent not in parents:
            continue
        while parent in parents:
            parent = parents[parent]
        text = path.read_text(encoding="utf-8")
        text = re.sub(
            r"^down_revision\s*=.*$", f"down_revision = {quoted(parent)}", text, flags=re.M
        )
        text = re.sub(r"^Revises:.*$", f"Revises: {parent or ''}".rstrip(), text, flags=re.M)
        path.write_text(text, encoding="utf-8")
        changes.append(f"edited   migrations/versions/{path.name} (now revises {parent})")
    return changes


def quoted(revision: str | None) -> str:
    return f'"{revision}"' if revision else "None"


def revision_id(path: Path) -> str:
    return assigned(path.read_text(encoding="utf-8"), "revision", path)


def parents_of(path: Path) -> list[str]:
    """The revisions ``path`` revises: none for the first, two for a merge."""
    value = assigned(path.read_text(encoding="utf-8"), "down_revision", path)
    return re.findall(r"[\'\"]([^\'\"]+)[\'\"]", value)


def parent_of(path: Path) -> str | None:
    """The one revision ``path`` revises (None for the first)."""
    ids = parents_of(path)
    if len(ids) > 1:
        raise RemovalError(f"{path.name} merges revisions: remove the package by hand")
    return ids[0] if ids else None


def head_of(revisions: list[Path]) -> str:
    """The one revision no other revises (refused when there are two)."""
    ids = {revision_id(path) for path in revisions}
    parents = {parent for path in revisions for parent in parents_of(path)}
    heads = sorted(ids - parents)
    if len(heads) != 1:
        raise RemovalError(
            f"the migration history has {len(heads)} heads ({', '.join(heads)}): "
            "merge them first with python manage.py db merge heads"
        )
    return heads[0]


def assigned(text: str, name: str, path: Path) -> str:
    match = re.search(rf"^{name}\s*(?::[^=]+)?=\s*(.+)$", text, re.MULTILINE)
    if match is None:
        raise RemovalError(f"{path.name} sets no {name}")
    return match.group(1).strip().strip("\"'") if name == "revision" else match.group(1)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in PACKAGES:
        names = ", ".join(PACKAGES) or "none is left"
        print(f"Usage: bin/remove_package.py NAME, where NAME is one of: {names}", file=sys.stderr)
        return 2
    try:
        changes = remove(argv[0])
    except RemovalError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print("\n".join(changes))
    package = PACKAGES[argv[0]]
    print(
        f"\n{package.title.capitalize()} is gone. Next, with the virtualenv active "
        f"(. .venv/bin/activate): {package.next_steps}, then\n"
        '  python manage.py db migrate -m "Your change"\n'
        "  python manage.py db upgrade\n"
        "and commit. `git checkout . && git clean -fd` undoes this until then."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
