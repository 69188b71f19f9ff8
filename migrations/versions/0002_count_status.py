"""Counts run as background jobs: a status, errors and an idempotency key.

Rows counted before this revision become ``done``. Downgrading deletes the
counts that are not done (the old table cannot hold them) and keeps the rest.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COUNTS = ("total_words", "unique_words", "result_all", "result_no_stop_words")


def upgrade():
    with op.batch_alter_table("results", schema=None) as batch_op:
        # server_default fills the rows that exist; it is dropped below.
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False,
                                      server_default="done"))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False,
                                      server_default="1"))
        batch_op.add_column(sa.Column("error_code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("error_message", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("requested_url", sa.Text(), nullable=True))
    op.execute("UPDATE results SET updated_at = created_at, finished_at = created_at, "
               "requested_url = url")
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)
        batch_op.alter_column("attempts", server_default=None)
        batch_op.alter_column("updated_at", existing_type=sa.DateTime(timezone=True),
                              nullable=False)
        for name in COUNTS:
            batch_op.alter_column(name, nullable=True)
        batch_op.create_check_constraint(
            batch_op.f("ck_results_status"), "status IN ('queued', 'running', 'done', 'failed')")
        batch_op.create_index(batch_op.f("ix_results_status"), ["status"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_results_idempotency_key"), ["idempotency_key"]
        )


def downgrade():
    op.execute("DELETE FROM results WHERE status != 'done'")
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_results_idempotency_key"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_results_status"))
        batch_op.drop_constraint(batch_op.f("ck_results_status"), type_="check")
        for name in COUNTS:
            batch_op.alter_column(name, nullable=False)
        batch_op.drop_column("requested_url")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("error_message")
        batch_op.drop_column("error_code")
        batch_op.drop_column("attempts")
        batch_op.drop_column("finished_at")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("status")
