"""provenance: response.import_sha256 (imported file's digest), invitation.start_address

(keyed hash of the network address that started an open-link questionnaire)

Revision ID: b13e5ec0a1d2
Revises: 5b1e0c7d9a42
Create Date: 2026-11-30 11:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b13e5ec0a1d2"
down_revision = "5b1e0c7d9a42"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_sha256", sa.String(length=64), nullable=True))
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("start_address", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_invitation_start_address", ["wave_id", "start_address"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index("ix_invitation_start_address")
        batch_op.drop_column("start_address")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("import_sha256")
