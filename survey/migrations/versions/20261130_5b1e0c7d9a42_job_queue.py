"""Job queue: parameters, one active job per key, lease, retries and results on document_job.

Revision ID: 5b1e0c7d9a42
Revises: a7d3c1e5f901
Create Date: 2026-11-30 10:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5b1e0c7d9a42"
down_revision = "a7d3c1e5f901"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.Text(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("lock_key", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("lease_id", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("worker", sa.String(length=120), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("result", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column("result_name", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.create_unique_constraint(batch_op.f("uq_document_job_lock_key"), ["lock_key"])
    # Jobs left "queued"/"running" by the old in-process threads can never finish.
    op.execute(
        "UPDATE document_job SET state = 'failed', "
        "message = 'interrupted before the task queue was installed' "
        "WHERE state IN ('queued', 'running')"
    )


def downgrade() -> None:
    with op.batch_alter_table("document_job", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_document_job_lock_key"), type_="unique")
        for column in (
            "result_name",
            "result",
            "heartbeat_at",
            "started_at",
            "queued_at",
            "worker",
            "lease_id",
            "attempts",
            "lock_key",
            "params",
        ):
            batch_op.drop_column(column)
