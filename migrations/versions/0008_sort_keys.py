"""people, units and cohorts sort as Chinese readers expect

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01 23:30:00

"""
import sqlalchemy as sa
from alembic import op

from trainer.sorting import sort_key

revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def _sort_key_type():
    return sa.String(length=1000).with_variant(sa.String(length=1000, collation="C"), "postgresql")


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_sort', _sort_key_type(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('unit_sort', _sort_key_type(), nullable=False, server_default=''))
        batch_op.create_index('ix_users_sorted', ['unit_sort', 'name_sort'], unique=False)
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_sort', _sort_key_type(), nullable=False, server_default=''))

    connection = op.get_bind()
    users = sa.table('users', sa.column('id'), sa.column('display_name'), sa.column('unit'),
                     sa.column('name_sort'), sa.column('unit_sort'))
    rows = connection.execute(sa.select(users.c.id, users.c.display_name, users.c.unit)).all()
    if rows:
        connection.execute(
            users.update().where(users.c.id == sa.bindparam('user_id')).values(
                name_sort=sa.bindparam('name_key'), unit_sort=sa.bindparam('unit_key')),
            [{'user_id': i, 'name_key': sort_key(name, person=True), 'unit_key': sort_key(unit)} for i, name, unit in rows],
        )
    cohorts = sa.table('cohorts', sa.column('id'), sa.column('name'), sa.column('name_sort'))
    rows = connection.execute(sa.select(cohorts.c.id, cohorts.c.name)).all()
    if rows:
        connection.execute(
            cohorts.update().where(cohorts.c.id == sa.bindparam('cohort_id')).values(name_sort=sa.bindparam('key')),
            [{'cohort_id': i, 'key': sort_key(name)} for i, name in rows],
        )

    # The defaults only filled existing rows; the application always sets the keys.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('name_sort', server_default=None)
        batch_op.alter_column('unit_sort', server_default=None)
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.alter_column('name_sort', server_default=None)


def downgrade():
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.drop_column('name_sort')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_sorted')
        batch_op.drop_column('unit_sort')
        batch_op.drop_column('name_sort')
