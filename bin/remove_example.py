#!/usr/bin/env python3
"""Remove the Wordcount example, leaving the template's minimal app.

Run as `make remove-example`. It deletes the example's package and cuts
the marked blocks out of the template's files:

    >>> example          a line containing this opens a block
    === after removal    (optional) the lines below it are kept
    <<< example          a line containing this closes it

Migrations: when the history holds only the example's revisions, they go,
with the development database built from them. When it holds revisions of
the project's own, every revision stays (databases were upgraded along
them) and a new one drops the example's table.

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
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXAMPLE_PATHS = ["wordcount", "bin/remove_example.py"]
VERSIONS = PROJECT_DIR / "migrations" / "versions"
EXAMPLE_REVISIONS = {
    "0001_create_results_table.py",
    "0002_count_status.py",
    "0003_rename_results_to_counts.py",
}
# The revision that removes the example from a history of the project's own;
# its downgrade puts the table back as the example's last revision left it.
DROP_REVISION = '''"""Drop the example's table (make remove-example).

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

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


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
'''
OPEN, SWITCH, CLOSE = ">>> example", "=== after removal", "<<< example"


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


def cut_marked_blocks(text: str, name: str) -> str:
    """Drop each marked block, keeping the lines of its 'after removal' part."""
    kept, state = [], "outside"
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if OPEN in line:
            if state != "outside":
                raise RemovalError(f"{name}:{number}: a block opens inside another")
            state = "example"
        elif SWITCH in line and state == "example":
            state = "after"
        elif CLOSE in line:
            if state == "outside":
                raise RemovalError(f"{name}:{number}: a block closes that never opened")
            state = "outside"
        elif state in ("outside", "after"):
            kept.append(line)
    if state != "outside":
        raise RemovalError(f"{name}: a block is never closed")
    return "".join(kept)


def marked_files() -> dict[Path, str]:
    """{path: text} of every tracked file outside the example with a marked block."""
    tracked = git("ls-files", "-z").split("\0")
    example = tuple(EXAMPLE_PATHS)
    files = [PROJECT_DIR / name for name in tracked if name and not name.startswith(example)]
    texts = {path: read_text(path) for path in files if path.is_file()}
    return {path: text for path, text in texts.items() if OPEN in text}


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return ""


def remove_example() -> list[str]:
    check_clean_work_tree()
    edits = {
        path: cut_marked_blocks(text, str(path.relative_to(PROJECT_DIR)))
        for path, text in marked_files().items()
    }  # all checked before anything changes
    changes = []
    for path, text in edits.items():
        path.write_text(text, encoding="utf-8")
        changes.append(f"edited   {path.relative_to(PROJECT_DIR)} (example blocks cut)")
    for name in EXAMPLE_PATHS:
        path = PROJECT_DIR / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        changes.append(f"removed  {name}")
    changes.extend(remove_migrations())
    return changes


def remove_migrations() -> list[str]:
    """The example's revisions and the database built from them; or, in a
    history of the project's own, a revision that drops its table."""
    revisions = sorted(VERSIONS.glob("*.py"))
    own = [path for path in revisions if path.name not in EXAMPLE_REVISIONS]
    if own:
        head = head_of(revisions)
        new = uuid.uuid4().hex[-12:]  # as Alembic makes them
        path = VERSIONS / f"{new}_drop_the_example.py"
        date = time.strftime("%Y-%m-%d")
        path.write_text(DROP_REVISION.format(revision=new, down_revision=head, date=date))
        return [
            f"added    migrations/versions/{path.name} (drops the example's table:",
            "         python manage.py db upgrade applies it; your revisions are kept)",
        ]
    changes = []
    for revision in revisions:
        revision.unlink()
        changes.append(f"removed  migrations/versions/{revision.name}")
    # Built by the example's revisions: its alembic_version names one that is gone.
    database = PROJECT_DIR / "instance" / "development.sqlite3"
    if database.exists():
        database.unlink()
        changes.append("removed  instance/development.sqlite3 (your local database)")
    return changes


def head_of(revisions: list[Path]) -> str:
    """The one revision no other revises (refused when there are two)."""
    ids, parents = set(), set()
    for path in revisions:
        text = path.read_text(encoding="utf-8")
        ids.add(assigned(text, "revision", path))
        parents.update(re.findall(r"[\'\"]([^\'\"]+)[\'\"]", assigned(text, "down_revision", path)))
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


def main() -> int:
    try:
        changes = remove_example()
    except RemovalError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print("\n".join(changes))
    print(
        "\nThe example is gone. Next, with the virtualenv active (. .venv/bin/activate): add\n"
        "your tables to models.py, then\n"
        '  python manage.py db migrate -m "Initial tables"\n'
        "  python manage.py db upgrade\n"
        "and commit. `git checkout . && git clean -fd` undoes this until then."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
