"""document job parts: parent_id (a wave's notices rendered in parts by any worker)

Revision ID: e6b0d4c2a816
Revises: c14d2e6f8a13
Create Date: 2026-11-30 14:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e6b0d4c2a816'
down_revision = 'c14d2e6f8a13'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('document_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_document_job_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_document_job_parent_id_document_job'),
            'document_job',
            ['parent_id'],
            ['id'],
            ondelete='CASCADE',
        )


def downgrade() -> None:
    with op.batch_alter_table('document_job', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_document_job_parent_id_document_job'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_document_job_parent_id'))
        batch_op.drop_column('parent_id')
