"""Row locks for the account operations that must read and change rows as one step
(merging cohorts, keeping an administrator), on both databases."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Result, false, select, update

from ..extensions import db


def lock_rows(model: Any, condition: ColumnElement[bool], columns: tuple = (), shared: bool = False) -> Result:
    """Lock the rows of `model` matching `condition` until the transaction ends, and
    return their ids (then `columns`) as read after the lock, in id order.

    PostgreSQL: SELECT ... ORDER BY id FOR UPDATE (FOR SHARE when `shared`), so rows
    are locked in id order and transactions locking several rows never deadlock; a row
    a concurrent transaction changed is read as that one committed it, and a row it
    deleted is not returned. Every cohort operation locks cohorts before user rows.

    SQLite has no row locks, and pysqlite begins a transaction only before the first
    write, so what was read before it may have changed since: a write that changes
    nothing takes the database's write lock first, then the rows are read.
    """
    table = model.__table__
    key = table.c.id
    query = select(key, *columns).where(condition).order_by(key)
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(table).where(false()).values({key.name: key}))
    else:
        query = query.with_for_update(read=shared)
    return db.session.execute(query)
