"""The schema comes only from the migrations, and they match the models."""
from collections.abc import Iterator
from contextlib import contextmanager

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from trainer.extensions import db

from .conftest import fresh_database, make_app


def test_migrations_build_the_models_schema_on_an_empty_database_and_back(tmp_path):
    with fresh_database(tmp_path) as url:
        app = make_app(url, tmp_path)
        with app.app_context():
            directory = app.extensions["migrate"].directory
            assert inspect(db.engine).get_table_names() == []
            upgrade(directory=directory)
            tables = set(inspect(db.engine).get_table_names())
            assert {t.name for t in db.metadata.sorted_tables} | {"alembic_version"} == tables
            with db.engine.connect() as connection:
                context = MigrationContext.configure(
                    connection, opts={"compare_type": True, "render_as_batch": True}
                )
                assert compare_metadata(context, db.metadata) == []
            downgrade(directory=directory, revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()


def test_constraints_follow_the_naming_convention(tmp_path):
    for table in db.metadata.sorted_tables:
        for constraint in table.constraints:
            assert constraint.name, f"unnamed constraint on {table.name}"
            assert constraint.name.startswith(("pk_", "uq_", "fk_", "ck_")), constraint.name


@contextmanager
def database_at(tmp_path, revision: str) -> Iterator[str]:
    """A fresh database migrated up to `revision`, inside an app context; yields the
    migrations folder for further upgrades and downgrades."""
    with fresh_database(tmp_path) as url:
        app = make_app(url, tmp_path)
        with app.app_context():
            directory = app.extensions["migrate"].directory
            upgrade(directory=directory, revision=revision)
            yield directory
            db.engine.dispose()


def test_0006_records_every_current_revision_and_rebuilds_tables_without_losing_rows(tmp_path):
    import json

    from sqlalchemy import select, text

    from trainer.bank import logic
    from trainer.bank.models import Question, QuestionVersion

    body = json.dumps({"options": [{"text": "甲", "correct": True}, {"text": "乙", "correct": False}]}, ensure_ascii=False)
    with fresh_database(tmp_path) as url:
        app = make_app(url, tmp_path)
        with app.app_context():
            directory = app.extensions["migrate"].directory
            upgrade(directory=directory, revision="0003")
            with db.engine.begin() as connection:
                run = connection.execute
                run(text("INSERT INTO courses (slug, title, description, source_title, position, created_at, updated_at)"
                         " VALUES ('c', '课程', '', '', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
                run(text("INSERT INTO lessons (course_id, slug, position, title, summary, estimated_minutes, objectives,"
                         " key_points, excerpts, body_markdown, body_blocks, content_hash, archived, updated_at)"
                         " SELECT id, 'l1', 1, '第一课', '', 10, '[]', '[]', '[]', '', '[]', 'h', false, CURRENT_TIMESTAMP FROM courses"))
                run(text("INSERT INTO question_categories (name, path) VALUES ('a', 'a')"))
                run(text("INSERT INTO tags (name) VALUES ('甲'), ('x')"))
                for stem, qtype, value, revision, idnumber in (
                    ("单选", "single", body, 3, None), ("判断", "truefalse", '{"answer": true}', 1, None),
                    ("填空___", "blank", '{"blanks": [["快"]]}', 1, "B-1"),
                ):
                    run(text(
                        "INSERT INTO questions (idnumber, category_id, lesson_id, qtype, status, difficulty, points, stem, body,"
                        " explanation, search_text, stem_hash, revision, created_at, updated_at)"
                        " SELECT :idnumber, (SELECT id FROM question_categories), (SELECT id FROM lessons), :qtype, 'ready', 3, 2,"
                        " :stem, :body, '解析', '', 'h', :revision, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
                    ), {"idnumber": idnumber, "qtype": qtype, "stem": stem, "body": value, "revision": revision})
                ids = dict(run(text("SELECT stem, id FROM questions")).all())
                run(text("INSERT INTO question_tags (question_id, tag_id) SELECT :q, id FROM tags"), {"q": ids["单选"]})
                # Versions an attempt used: an older revision of one question, the current one of another.
                for stem, revision in (("单选", 2), ("判断", 1)):
                    run(text("INSERT INTO question_versions (question_id, revision, data, created_at)"
                             " VALUES (:q, :r, '{\"type\": \"short\", \"stem\": \"旧\"}', CURRENT_TIMESTAMP)"),
                        {"q": ids[stem], "r": revision})
            upgrade(directory=directory)
            rows = {
                (v.question_id, v.revision): v
                for v in db.session.scalars(select(QuestionVersion))
            }
            assert set(rows) == {(ids["单选"], 2), (ids["单选"], 3), (ids["判断"], 1), (ids["填空___"], 1)}
            assert all(v.reason == "migration" for v in rows.values())
            assert rows[ids["单选"], 2].used_at is not None and rows[ids["判断"], 1].used_at is not None
            assert rows[ids["单选"], 3].used_at is None and rows[ids["判断"], 1].data["stem"] == "旧"  # kept as used
            for stem in ("单选", "填空___"):
                question = db.session.get(Question, ids[stem])
                assert rows[ids[stem], question.revision].data == logic.data_of(question).to_mapping()
            assert rows[ids["单选"], 3].data["tags"] == ["x", "甲"] and rows[ids["单选"], 3].data["lesson"] == "c/l1"
            # The rebuilt tables lost no row, and a deleted highest id is not handed out again.
            with db.engine.begin() as connection:
                assert connection.execute(text("SELECT count(*) FROM question_tags")).scalar() == 2
            highest = max(ids.values())
            db.session.delete(db.session.get(Question, highest))
            db.session.commit()
            assert logic.create_question(logic.data_of(db.session.get(Question, ids["单选"])), None).id > highest
            db.session.rollback()
            downgrade(directory=directory, revision="0003")
            with db.engine.connect() as connection:
                kept = connection.execute(text("SELECT question_id, revision FROM question_versions")).all()
                assert sorted(kept) == sorted([(ids["单选"], 2), (ids["判断"], 1)])
                assert connection.execute(text("SELECT count(*) FROM question_tags")).scalar() == 2
            db.session.remove()
            db.engine.dispose()


def test_sqlite_tables_that_must_not_reuse_ids_keep_autoincrement(migrated_database):
    """Every later migration that rebuilds one of these tables in batch mode must ask for
    AUTOINCREMENT again: a rebuild forgets it silently."""
    from sqlalchemy import create_engine, text

    engine = create_engine(migrated_database)
    if engine.dialect.name != "sqlite":
        engine.dispose()
        return  # PostgreSQL's sequences never hand an id out twice
    wanted = {t.name for t in db.metadata.sorted_tables if t.dialect_options["sqlite"]["autoincrement"]}
    assert wanted == {"questions", "question_versions", "import_batches"}
    with engine.connect() as connection:
        schema = dict(connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
    engine.dispose()
    assert {name for name in wanted if "AUTOINCREMENT" in schema[name]} == wanted


def test_0003_takes_the_course_banks_questions_as_its_own(tmp_path):
    from sqlalchemy import text

    with database_at(tmp_path, "0002") as directory:
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO users (id, username, display_name, unit, role, active, password_hash, session_version, created_at) VALUES (1, 'teacher', 'T', '', 'instructor', true, 'x', 1, CURRENT_TIMESTAMP)"))
            connection.execute(text("INSERT INTO question_categories (id, name, path) VALUES (1, 'a', 'a')"))
            for qid, idnumber, author in ((1, "'GIW-01-001'", "NULL"), (2, "NULL", "NULL"), (3, "'MINE-1'", "1")):
                connection.execute(text(
                    "INSERT INTO questions (id, idnumber, category_id, author_id, qtype, status, difficulty, points,"
                    " stem, body, explanation, search_text, stem_hash, revision, created_at, updated_at)"
                    f" VALUES ({qid}, {idnumber}, 1, {author}, 'short', 'ready', 3, 1, 's', '{{}}', '', '', 'h', 4,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ))
        upgrade(directory=directory)
        with db.engine.connect() as connection:
            rows = dict(connection.execute(text("SELECT id, course_revision FROM questions")).all())
        assert rows == {1: 4, 2: None, 3: None}


def test_0004_keeps_the_accounts_and_forgets_the_old_logins(tmp_path):
    from sqlalchemy import text

    with database_at(tmp_path, "0003") as directory:
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO users (id, username, display_name, unit, role, active, password_hash, session_version, created_at) VALUES (1, 'admin', 'A', '', 'admin', true, 'scrypt:x', 3, CURRENT_TIMESTAMP)"))
            connection.execute(text("INSERT INTO login_throttles (username, attempts, window_started_at) VALUES ('admin', 2, CURRENT_TIMESTAMP)"))
        upgrade(directory=directory)
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT username, must_change_password, password_hash FROM users")).one() == ("admin", False, "scrypt:x")
            assert connection.execute(text("SELECT count(*) FROM login_throttles")).scalar() == 0
        downgrade(directory=directory, revision="0003")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT username, session_version FROM users")).one() == ("admin", 1)
