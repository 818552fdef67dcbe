"""district scoping: user.district_id and audit_log.district_id

Revision ID: a7d3c1e5f901
Revises: 586b0df77580
Create Date: 2026-11-30 11:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a7d3c1e5f901"
down_revision = "586b0df77580"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("district_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_user_district_id"), ["district_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_user_district_id_district"), "district", ["district_id"], ["id"]
        )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("district_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_log_district_id"), ["district_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_log_district_id_district"), "district", ["district_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_audit_log_district_id_district"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_audit_log_district_id"))
        batch_op.drop_column("district_id")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_user_district_id_district"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_user_district_id"))
        batch_op.drop_column("district_id")
