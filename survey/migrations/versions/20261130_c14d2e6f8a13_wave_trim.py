"""wave: raking's weight trimming bounds

Revision ID: c14d2e6f8a13
Revises: c18a4e2d7b30
Create Date: 2026-11-30 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c14d2e6f8a13'
down_revision = 'c18a4e2d7b30'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trim_low', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('trim_high', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_column('trim_high')
        batch_op.drop_column('trim_low')
