"""auth and state: column lengths that fit their values

Revision ID: 586b0df77580
Revises: 5c1f0e7a9b21
Create Date: 2026-11-30 10:45:00

- ``response.gender`` VARCHAR(10) -> VARCHAR(20): ``undisclosed`` (不愿回答) is
  11 characters and PostgreSQL refused it.
- ``user.session_version``: bumped on logout, password change, role change and
  deactivation; sessions signed with an older version are refused.
- ``notice.supplement_to_id``: a 补充说明 re-determining an earlier document's
  provisional deadline; ``rectification_item.deadline_start`` and
  ``deadline_days``: what a re-determined deadline counts from.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "586b0df77580"
down_revision = "5c1f0e7a9b21"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supplement_to_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notice_supplement_to_id_notice"), "notice", ["supplement_to_id"], ["id"]
        )
    with op.batch_alter_table("rectification_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("deadline_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="1", nullable=False)
        )
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.alter_column(
            "gender",
            existing_type=sa.String(length=10),
            type_=sa.String(length=20),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("rectification_item", schema=None) as batch_op:
        batch_op.drop_column("deadline_days")
        batch_op.drop_column("deadline_start")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_notice_supplement_to_id_notice"), type_="foreignkey"
        )
        batch_op.drop_column("supplement_to_id")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("session_version")
    # Values longer than 10 characters would not fit the old column: keep their
    # meaning as "not answered" rather than failing the downgrade.
    op.execute("UPDATE response SET gender = NULL WHERE length(gender) > 10")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.alter_column(
            "gender",
            existing_type=sa.String(length=20),
            type_=sa.String(length=10),
            existing_nullable=True,
        )
