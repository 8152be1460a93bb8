"""Alembic environment: runs against the app's engine and metadata (Flask-Migrate)."""
import logging

from alembic import context
from flask import current_app

from trainer.database import UTCDateTime

logger = logging.getLogger("alembic.env")
config = context.config
migrate_ext = current_app.extensions["migrate"]


def render_item(type_, obj, autogen_context):
    # Migrations describe the database, not the app: a UTC column is a plain timestamp.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def skip_empty_revisions(context_, revision, directives):
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_online() -> None:
    options = dict(migrate_ext.configure_args)
    options.setdefault("process_revision_directives", skip_empty_revisions)
    options.setdefault("render_item", render_item)
    with migrate_ext.db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table (copy, drop, rename). With foreign keys on,
            # dropping the old table would delete or refuse the rows that refer to it,
            # so SQLite's own procedure turns them off first, outside any transaction,
            # and checks them at the end.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            context.configure(connection=connection, target_metadata=migrate_ext.db.metadata, **options)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"the migrations left rows with broken foreign keys: {broken[:10]}")
        finally:
            if sqlite:
                # Never hand this connection back to the app without foreign keys: the
                # pool's next connection turns them on again as it connects.
                connection.invalidate()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `trainer db upgrade`.")
run_migrations_online()
