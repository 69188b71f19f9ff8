"""Rename the results table to counts, as the code calls a row, and its
word columns to all_words and words.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATUS_CHECK = "status IN ('queued', 'running', 'done', 'failed')"
COLUMNS = {"result_all": "all_words", "result_no_stop_words": "words"}


def rename(old_table, new_table, columns):
    op.rename_table(old_table, new_table)
    with op.batch_alter_table(new_table, schema=None) as batch_op:
        for old, new in columns.items():
            batch_op.alter_column(old, new_column_name=new)
        for column in ("created_at", "status"):
            batch_op.drop_index(batch_op.f(f"ix_{old_table}_{column}"))
            batch_op.create_index(batch_op.f(f"ix_{new_table}_{column}"), [column], unique=False)
        batch_op.drop_constraint(batch_op.f(f"ck_{old_table}_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f(f"ck_{new_table}_status"), STATUS_CHECK)
        batch_op.drop_constraint(batch_op.f(f"uq_{old_table}_idempotency_key"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f(f"uq_{new_table}_idempotency_key"), ["idempotency_key"]
        )
    if op.get_context().dialect.name == "postgresql":
        # Names a table rename leaves as they were: the id's sequence, and
        # the primary key (results_pkey, or pk_results where 0001 ran with
        # the naming convention).
        # Looked up by the server, so that `db upgrade --sql` works too. The
        # names are this revision's own constants, never input (bandit B608).
        op.execute(f"ALTER SEQUENCE {old_table}_id_seq RENAME TO {new_table}_id_seq")
        op.execute(
            "DO $$ DECLARE primary_key text; BEGIN "
            "SELECT conname INTO primary_key FROM pg_constraint "
            f"WHERE conrelid = '{new_table}'::regclass AND contype = 'p'; "  # nosec B608
            f"EXECUTE format('ALTER TABLE {new_table} RENAME CONSTRAINT %I TO pk_{new_table}', "
            "primary_key); END $$"
        )


def upgrade():
    rename("results", "counts", COLUMNS)


def downgrade():
    rename("counts", "results", {new: old for old, new in COLUMNS.items()})
