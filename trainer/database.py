"""The declarative base, column types and the few SQL helpers every domain shares."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, String, TypeDecorator
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
