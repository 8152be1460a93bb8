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
