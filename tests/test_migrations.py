"""The schema comes only from the migrations, and they match the models."""
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
