"""every revision of a question is kept; imports can be undone; ids are never reused

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

REASONS_SQL = ("reason IN ('create', 'edit', 'import', 'bulk', 'category', 'restore', 'undo', 'course',"
               " 'migration')")
CHUNK = 1000

questions = sa.table(
    'questions', sa.column('id', sa.Integer), sa.column('idnumber', sa.String), sa.column('category_id', sa.Integer),
    sa.column('lesson_id', sa.Integer), sa.column('qtype', sa.String), sa.column('status', sa.String),
    sa.column('difficulty', sa.Integer), sa.column('points', sa.Integer), sa.column('stem', sa.Text),
    sa.column('body', sa.JSON), sa.column('explanation', sa.Text), sa.column('revision', sa.Integer),
    sa.column('updated_at', sa.DateTime), sa.column('exclusion_group', sa.String),
)
versions = sa.table(
    'question_versions', sa.column('id', sa.Integer), sa.column('question_id', sa.Integer),
    sa.column('revision', sa.Integer), sa.column('data', sa.JSON), sa.column('reason', sa.String),
    sa.column('created_at', sa.DateTime), sa.column('used_at', sa.DateTime),
)
categories = sa.table('question_categories', sa.column('id', sa.Integer), sa.column('path', sa.String))
lessons = sa.table('lessons', sa.column('id', sa.Integer), sa.column('course_id', sa.Integer), sa.column('slug', sa.String))
courses = sa.table('courses', sa.column('id', sa.Integer), sa.column('slug', sa.String))
tags = sa.table('tags', sa.column('id', sa.Integer), sa.column('name', sa.String))
question_tags = sa.table('question_tags', sa.column('question_id', sa.Integer), sa.column('tag_id', sa.Integer))


def _rebuild_on_sqlite(table, autoincrement):
    """SQLite only learns AUTOINCREMENT by rebuilding the table (and forgets it at every
    rebuild that does not ask for it); PostgreSQL's sequences never hand out an id twice."""
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}):
            pass


def upgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('undone_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('undone_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_import_batches_undone_by_id_users'), 'users', ['undone_by_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('question_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('changed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('import_batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('used_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_question_versions_import_batch_id'), ['import_batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_question_versions_changed_by_id_users'), 'users', ['changed_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_question_versions_import_batch_id_import_batches'), 'import_batches', ['import_batch_id'], ['id'], ondelete='SET NULL')
        # The history of a question goes with it; a revision an attempt used keeps its
        # question from being deleted (checked by the bank, and by the attempts' keys).
        batch_op.drop_constraint('fk_question_versions_question_id_questions', type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_question_versions_question_id_questions'), 'questions', ['question_id'], ['id'], ondelete='CASCADE')

    # Until now a version existed only where a quiz attempt used the question.
    op.execute(versions.update().values(reason='migration', used_at=versions.c.created_at))
    _record_current_revisions()

    with op.batch_alter_table('question_versions', schema=None) as batch_op:
        batch_op.alter_column('reason', existing_type=sa.String(length=20), nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_question_versions_reason'), REASONS_SQL)
    # Last: every other batch operation rebuilds its table without AUTOINCREMENT.
    _rebuild_on_sqlite('import_batches', True)
    _rebuild_on_sqlite('questions', True)
    _rebuild_on_sqlite('question_versions', True)


def _record_current_revisions():
    """A version row for every question's current revision that has none, as the bank's
    `QuestionData.to_mapping()` would write it (stored questions are already canonical)."""
    bind = op.get_bind()
    missing = (
        sa.select(questions, categories.c.path, courses.c.slug.label('course_slug'), lessons.c.slug.label('lesson_slug'))
        .join(categories, categories.c.id == questions.c.category_id)
        .outerjoin(lessons, lessons.c.id == questions.c.lesson_id)
        .outerjoin(courses, courses.c.id == lessons.c.course_id)
        .where(~sa.exists().where(versions.c.question_id == questions.c.id, versions.c.revision == questions.c.revision))
        .order_by(questions.c.id)
    )
    last_id = 0
    while True:
        rows = bind.execute(missing.where(questions.c.id > last_id).limit(CHUNK)).all()
        if not rows:
            return
        last_id = rows[-1].id
        names: dict[int, list[str]] = {}
        for question_id, name in bind.execute(
            sa.select(question_tags.c.question_id, tags.c.name)
            .join(tags, tags.c.id == question_tags.c.tag_id)
            .where(question_tags.c.question_id.in_([row.id for row in rows]))
        ):
            names.setdefault(question_id, []).append(name)
        bind.execute(versions.insert(), [
            {'question_id': row.id, 'revision': row.revision, 'data': _mapping(row, sorted(names.get(row.id, []))),
             'reason': 'migration', 'created_at': row.updated_at}
            for row in rows
        ])


def _mapping(row, tag_names):
    data = {}
    if row.idnumber:
        data['idnumber'] = row.idnumber
    data['type'] = row.qtype
    data['category'] = row.path
    data['stem'] = row.stem
    data.update(row.body or {})
    if row.explanation:
        data['explanation'] = row.explanation
    data['difficulty'] = row.difficulty
    data['points'] = row.points
    if tag_names:
        data['tags'] = tag_names
    if row.lesson_slug:
        data['lesson'] = f'{row.course_slug}/{row.lesson_slug}'
    data['status'] = row.status
    if row.exclusion_group:
        data['exclusion_group'] = row.exclusion_group
    return data


def downgrade():
    # Back to versions only where an attempt used the question.
    op.execute(versions.delete().where(versions.c.used_at.is_(None)))
    with op.batch_alter_table('question_versions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_question_versions_reason'), type_='check')
        batch_op.drop_constraint('fk_question_versions_question_id_questions', type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_question_versions_question_id_questions'), 'questions', ['question_id'], ['id'], ondelete='RESTRICT')
        batch_op.drop_constraint(batch_op.f('fk_question_versions_import_batch_id_import_batches'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_question_versions_changed_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_question_versions_import_batch_id'))
        batch_op.drop_column('used_at')
        batch_op.drop_column('import_batch_id')
        batch_op.drop_column('changed_by_id')
        batch_op.drop_column('reason')
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_import_batches_undone_by_id_users'), type_='foreignkey')
        batch_op.drop_column('undone_by_id')
        batch_op.drop_column('undone_at')
    _rebuild_on_sqlite('question_versions', False)
    _rebuild_on_sqlite('questions', False)
    _rebuild_on_sqlite('import_batches', False)
