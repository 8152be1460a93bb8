"""questions may belong to an exclusion group

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exclusion_group', sa.String(length=50), nullable=True))
        batch_op.create_index(batch_op.f('ix_questions_exclusion_group'), ['exclusion_group'], unique=False)


def downgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questions_exclusion_group'))
        batch_op.drop_column('exclusion_group')
