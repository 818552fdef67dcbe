"""invitation typed code digest, batch request key, evidence caption, wave agency and hotline, community phone

Revision ID: 5c1f0e7a9b21
Revises: 827c34a9961a
Create Date: 2026-11-30 10:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5c1f0e7a9b21'
down_revision = '827c34a9961a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_invitation_code_hash'), ['code_hash'])
    with op.batch_alter_table('invitation_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_invitation_batch_request_key'), ['request_key'])
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency_name', sa.String(length=120), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('hotline', sa.String(length=40), nullable=False, server_default=''))
    with op.batch_alter_table('community', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=False, server_default=''))
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('caption', sa.String(length=200), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_column('caption')
    with op.batch_alter_table('invitation_batch', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_invitation_batch_request_key'), type_='unique')
        batch_op.drop_column('request_key')
    with op.batch_alter_table('community', schema=None) as batch_op:
        batch_op.drop_column('phone')
    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_column('hotline')
        batch_op.drop_column('agency_name')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_invitation_code_hash'), type_='unique')
        batch_op.drop_column('code_hash')
