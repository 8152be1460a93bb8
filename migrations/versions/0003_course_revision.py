"""questions remember the revision the course bank gave them

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 01:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('course_revision', sa.Integer(), nullable=True))
    # Until now only the course bank loaded questions without an author and with an
    # idnumber; whatever revision they are at is taken as the course's, so the next
    # `trainer init` keeps updating them and leaves every later edit alone.
    op.execute(
        "UPDATE questions SET course_revision = revision WHERE author_id IS NULL AND idnumber IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('course_revision')
