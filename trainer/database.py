"""The declarative base, column types and the few SQL helpers every domain shares."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase

# Named constraints let Alembic alter and drop them on every backend (SQLite batch mode
# needs the names) and make integrity errors readable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both backends.

    SQLite has no time zones and would hand back naive values; storing naive UTC and
    re-attaching UTC on the way out gives the same aware values PostgreSQL gives.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# A `trainer.sorting.sort_key` column: ASCII compared byte by byte. PostgreSQL's default
# collation would ignore some characters and reorder others; "C" is plain byte order,
# which SQLite's default collation already is.
SortKey = String(1000).with_variant(String(1000, collation="C"), "postgresql")


def insert_ignoring_conflicts(table: Any, index_elements: list[str]):
    """An INSERT that silently skips rows violating the given unique key.

    Two requests racing to create the same row (double clicks, two tabs) both succeed
    and leave exactly one row, without a savepoint, on both backends.
    """
    from .extensions import db

    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=index_elements)


def begin_writing() -> None:
    """Hold SQLite's write lock from here to the end of the transaction.

    pysqlite opens a transaction only at the first INSERT, UPDATE or DELETE: every
    SELECT before it reads outside any transaction, so what it found may have changed
    by the time the write comes. Opening the transaction with BEGIN IMMEDIATE takes
    the lock first (waiting for another writer up to the busy timeout), and what this
    transaction reads next stays true until it commits. Once a write has run, the
    lock is already held. PostgreSQL needs row or advisory locks instead.
    """
    from .extensions import db

    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_named(name: str) -> None:
    """Run the transactions that take this lock one at a time, on every host.

    PostgreSQL: a transaction-level advisory lock, released at commit or rollback.
    SQLite: its single write lock, which already serializes every writer.
    """
    from .extensions import db

    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # A stable 64-bit key from the name: the same on every host and in every release.
        key = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        begin_writing()
