"""drop the dimension and indicator tables (written, never read: the TOML is the source of truth)

Revision ID: c18a4e2d7b30
Revises: b14a7c2e5f01
Create Date: 2026-11-30 14:00:00

The downgrade recreates both tables and refills them from each stored
framework's TOML, as the code of that revision wrote them.
"""
import tomllib

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c18a4e2d7b30'
down_revision = 'b14a7c2e5f01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_framework_id'))
    op.drop_table('indicator')
    with op.batch_alter_table('dimension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dimension_framework_id'))
    op.drop_table('dimension')


def downgrade() -> None:
    dimension = op.create_table('dimension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['framework_id'], ['framework.id'], name=op.f('fk_dimension_framework_id_framework')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dimension')),
    sa.UniqueConstraint('framework_id', 'code', name=op.f('uq_dimension_framework_id_code'))
    )
    with op.batch_alter_table('dimension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dimension_framework_id'), ['framework_id'], unique=False)

    indicator = op.create_table('indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('dimension_code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('name_en', sa.String(length=160), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('question_en', sa.Text(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('groups', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['framework_id'], ['framework.id'], name=op.f('fk_indicator_framework_id_framework')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator')),
    sa.UniqueConstraint('framework_id', 'code', name=op.f('uq_indicator_framework_id_code'))
    )
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_framework_id'), ['framework_id'], unique=False)

    framework = sa.table('framework', sa.column('id', sa.Integer()), sa.column('toml', sa.Text()))
    dims, inds = [], []
    for framework_id, text in op.get_bind().execute(sa.select(framework.c.id, framework.c.toml)):
        parsed = tomllib.loads(text)
        for pos, d in enumerate(parsed.get('dimensions', [])):
            dims.append({
                'framework_id': framework_id, 'code': d['code'], 'name': d['name'],
                'name_en': d.get('name_en', ''), 'weight': float(d.get('weight', 0.0)),
                'position': pos,
            })
        for pos, i in enumerate(parsed.get('indicators', [])):
            inds.append({
                'framework_id': framework_id, 'code': i['code'],
                'dimension_code': i['dimension'], 'name': i['name'],
                'name_en': i.get('name_en', ''), 'question': i.get('question', ''),
                'question_en': i.get('question_en', ''), 'weight': float(i.get('weight', 1.0)),
                'groups': ';'.join(i.get('groups', [])), 'position': pos,
            })
    if dims:
        op.bulk_insert(dimension, dims)
    if inds:
        op.bulk_insert(indicator, inds)
