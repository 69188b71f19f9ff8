"""What the fork step does to the migration history for a package it removes.

While the history holds only the revisions the template ships, the
package's revisions go and the rest are linked up again (with the
development database built from them). Once it holds revisions of the
project's own, every revision stays (databases were upgraded along them)
and a new one drops the package's tables. Planned before anything changes.
"""

import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

# What a drop revision's downgrade puts back: each package's tables as its
# last revision left them.
DROP_BODIES = {
    "example": """JSON_DOCUMENT = sa.JSON().with_variant(
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
    "accounts": """def upgrade():
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
}

DROP_REVISION = '''"""Drop {tables}.

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


class RevisionError(Exception):
    """The history cannot be changed as planned; nothing has changed."""


@dataclass
class Plan:
    """The changes to migrations/versions, made by ``apply``."""

    versions: Path
    delete: list[Path] = field(default_factory=list)
    relink: dict[Path, str | None] = field(default_factory=dict)  # revision -> its new parent
    add: dict[Path, str] = field(default_factory=dict)  # drop revisions and their text

    def apply(self) -> list[str]:
        changes = []
        for path in self.delete:
            path.unlink()
            changes.append(f"removed  migrations/versions/{path.name}")
        for path, parent in self.relink.items():
            text = path.read_text(encoding="utf-8")
            down = f"down_revision = {quoted(parent)}"
            text = re.sub(r"^down_revision\s*=.*$", down, text, flags=re.M)
            revises = f"Revises: {parent or ''}".rstrip()
            text = re.sub(r"^Revises:.*$", revises, text, flags=re.M)
            path.write_text(text, encoding="utf-8")
            changes.append(f"edited   migrations/versions/{path.name} (now revises {parent})")
        for path, text in self.add.items():
            path.write_text(text, encoding="utf-8")
            changes.append(
                f"added    migrations/versions/{path.name} (python manage.py db upgrade)"
            )
        database = self.versions.parent.parent / "instance" / "development.sqlite3"
        if self.delete and database.exists():
            # Built by the removed revisions: its alembic_version may name one that is gone.
            database.unlink()
            changes.append("removed  instance/development.sqlite3 (your local database)")
        return changes


def plan_removal(versions: Path, removed: list[str], own: set[str], shipped: set[str]) -> Plan:
    """How to take the packages ``removed`` (whose revisions are ``own``)
    out of the history, where the template ships the revisions ``shipped``."""
    revisions = sorted(versions.glob("*.py"))
    plan = Plan(versions)
    if any(path.name not in shipped for path in revisions):
        head = head_of(revisions)
        for name in removed:
            new = uuid.uuid4().hex[-12:]  # as Alembic makes them
            plan.add[versions / f"{new}_drop_{name}.py"] = DROP_REVISION.format(
                tables=f"the tables of {name}",
                revision=new,
                down_revision=head,
                date=time.strftime("%Y-%m-%d"),
                body=DROP_BODIES[name],
            )
            head = new
        return plan
    plan.delete = [path for path in revisions if path.name in own]
    parents = {revision_id(path): parent_of(path) for path in plan.delete}
    for path in revisions:
        parent = parent_of(path)
        if path in plan.delete or parent not in parents:
            continue
        while parent in parents:
            parent = parents[parent]
        plan.relink[path] = parent
    return plan


def quoted(revision: str | None) -> str:
    return f'"{revision}"' if revision else "None"


def revision_id(path: Path) -> str:
    return assigned(path, "revision").strip().strip("\"'")


def parents_of(path: Path) -> list[str]:
    """The revisions ``path`` revises: none for the first, two for a merge."""
    return re.findall(r"[\'\"]([^\'\"]+)[\'\"]", assigned(path, "down_revision"))


def parent_of(path: Path) -> str | None:
    ids = parents_of(path)
    if len(ids) > 1:
        raise RevisionError(f"{path.name} merges revisions: remove the package by hand")
    return ids[0] if ids else None


def head_of(revisions: list[Path]) -> str:
    """The one revision no other revises (refused when there are two)."""
    ids = {revision_id(path) for path in revisions}
    heads = sorted(ids - {parent for path in revisions for parent in parents_of(path)})
    if len(heads) != 1:
        raise RevisionError(
            f"the migration history has {len(heads)} heads ({', '.join(heads)}): "
            "merge them first with python manage.py db merge heads"
        )
    return heads[0]


def assigned(path: Path, name: str) -> str:
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"^{name}\s*(?::[^=]+)?=\s*(.+)$", text, re.MULTILINE)
    if match is None:
        raise RevisionError(f"{path.name} sets no {name}")
    return match.group(1)
