"""response.import_sha256: the digest of the file a response was imported from

Revision ID: b13e5ec0a1d2
Revises: 827c34a9961a
Create Date: 2026-11-30 11:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b13e5ec0a1d2"
down_revision = "827c34a9961a"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_sha256", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("import_sha256")
