"""population margins (versioned per district), wave weighting, run's population version

Revision ID: b14a7c2e5f01
Revises: b13e5ec0a1d2
Create Date: 2026-11-30 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b14a7c2e5f01'
down_revision = 'b13e5ec0a1d2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('population_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_population_version_created_by_id_user')),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_population_version_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population_version')),
    sa.UniqueConstraint('district_id', 'version', name=op.f('uq_population_version_district_id_version'))
    )
    with op.batch_alter_table('population_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_population_version_district_id'), ['district_id'], unique=False)

    op.create_table('population_margin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('group_code', sa.String(length=20), nullable=False),
    sa.Column('variable', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=10), nullable=False),
    sa.Column('count', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['street_id'], ['street.id'], name=op.f('fk_population_margin_street_id_street')),
    sa.ForeignKeyConstraint(['version_id'], ['population_version.id'], name=op.f('fk_population_margin_version_id_population_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population_margin')),
    sa.UniqueConstraint('version_id', 'street_id', 'group_code', 'variable', 'category', name='uq_population_margin_cell')
    )
    with op.batch_alter_table('population_margin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_population_margin_version_id'), ['version_id'], unique=False)

    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weighting', sa.String(length=10), server_default='imported', nullable=False))

    with op.batch_alter_table('scoring_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('population_version_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_scoring_run_population_version_id_population_version'), 'population_version', ['population_version_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('scoring_run', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_scoring_run_population_version_id_population_version'), type_='foreignkey')
        batch_op.drop_column('population_version_id')

    with op.batch_alter_table('wave', schema=None) as batch_op:
        batch_op.drop_column('weighting')

    with op.batch_alter_table('population_margin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_population_margin_version_id'))

    op.drop_table('population_margin')
    with op.batch_alter_table('population_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_population_version_district_id'))

    op.drop_table('population_version')
