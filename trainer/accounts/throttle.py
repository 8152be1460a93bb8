"""Login throttling kept in the database, so that every server process sees it.

Every attempt (a login, or the current password typed to change it) counts in three
buckets, each with its own limit within the same window:

- the pair of user name and client address (`LOGIN_MAX_FAILURES`): five wrong guesses
  lock that name out from that address only, so an attacker cannot lock the real user
  (an administrator included) out from the addresses they use;
- the user name from every address (`LOGIN_MAX_FAILURES_PER_NAME`, higher): guesses
  at one account spread over many addresses are still bounded;
- the client address, whatever the names (`LOGIN_MAX_FAILURES_PER_ADDRESS`): one
  password tried across many accounts is slowed.

An attempt is counted *before* the password is checked, by an atomic upsert of each
of the three rows in its own short transaction: the database numbers concurrent attempts, and
only those within every limit get their password checked. A burst of parallel guesses
cannot slip past a limit while the count is read, and no lock is held while the
password hash is computed. The rows are always written in the order pair, name,
address, so parallel attempts never deadlock.

A right password takes its own attempt back (`succeeded`): the pair starts afresh and
the name and address buckets lose one, so logins that succeed never add up to a lock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Integer, and_, bindparam, case, delete, literal, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from ..database import UTCDateTime
from ..extensions import db
from .models import LoginThrottle, ThrottleScope

# Rows purged per attempt at most, so an attempt costs the same however many expired.
PURGE_BATCH = 100


@dataclass(frozen=True)
class ThrottlePolicy:
    limits: dict[ThrottleScope, int]
    window: timedelta
    lock: timedelta


@dataclass(frozen=True)
class AttemptTicket:
    allowed: bool
    remaining: int  # failures left before the first bucket locks
    locked_until: datetime | None


def buckets(username: str, address: str) -> list[tuple[ThrottleScope, str]]:
    """The three buckets of an attempt, in the order they are always written."""
    address = (address or "unknown")[:64]
    # A client address never holds "@", so the pair's key is unambiguous.
    return [
        (ThrottleScope.PAIR, f"{username}@{address}"),
        (ThrottleScope.NAME, username),
        (ThrottleScope.ADDRESS, address),
    ]


@lru_cache(maxsize=2)
def _count_statement(dialect: str):
    """The upsert that numbers an attempt in one bucket, built once per dialect (a
    login pays for neither building nor compiling it)."""
    t = LoginThrottle.__table__.c
    now = bindparam("now", type_=UTCDateTime())
    locked_at = bindparam("locked_at", type_=UTCDateTime())
    limit = bindparam("limit", type_=Integer())
    no_lock = literal(None, UTCDateTime())
    restart = or_(
        and_(t.locked_until.is_not(None), t.locked_until <= now),
        and_(t.locked_until.is_(None), t.window_started_at <= bindparam("window_start", type_=UTCDateTime())),
    )
    lock_at_once = case((limit <= 1, locked_at), else_=no_lock)
    module = postgresql if dialect == "postgresql" else sqlite
    insert = module.insert(LoginThrottle.__table__).values(
        scope=bindparam("bucket_scope"), key=bindparam("bucket_key"), attempts=1, window_started_at=now,
        locked_until=lock_at_once,
    )
    return insert.on_conflict_do_update(
        index_elements=["scope", "key"],
        set_={
            "attempts": case((restart, 1), else_=t.attempts + 1),
            "window_started_at": case((restart, now), else_=t.window_started_at),
            # The attempt that reaches a limit locks its bucket at once; if its password
            # is right, `succeeded` takes the lock back.
            "locked_until": case(
                (restart, lock_at_once),
                (t.locked_until.is_not(None), t.locked_until),
                (t.attempts + 1 >= limit, locked_at),
                else_=no_lock,
            ),
        },
    ).returning(t.attempts, t.locked_until)


def begin_attempt(username: str, address: str, now: datetime, policy: ThrottlePolicy) -> AttemptTicket:
    """Count one attempt in its own committed transaction and say whether it may be checked."""
    allowed, remaining, locks = True, None, []
    with db.engine.begin() as connection:
        statement = _count_statement(connection.dialect.name)
        for scope, key in buckets(username, address):  # always in this order: no deadlock
            limit = policy.limits[scope]
            attempts, locked_until = connection.execute(
                statement,
                {
                    "bucket_scope": scope.value,
                    "bucket_key": key,
                    "now": now,
                    "window_start": now - policy.window,
                    "locked_at": now + policy.lock,
                    "limit": limit,
                },
            ).one()
            allowed = allowed and attempts <= limit
            left = max(limit - attempts, 0)
            remaining = left if remaining is None else min(remaining, left)
            if locked_until is not None:
                locks.append(locked_until)
        _purge_expired(connection, now, policy)
    return AttemptTicket(allowed=allowed, remaining=remaining or 0, locked_until=max(locks) if locks else None)


def succeeded(username: str, address: str, policy: ThrottlePolicy) -> None:
    """Take back a right password's attempt, in the request's own transaction."""
    table = LoginThrottle.__table__
    t = table.c
    (pair_scope, pair_key), *others = buckets(username, address)
    db.session.execute(delete(table).where(t.scope == pair_scope.value, t.key == pair_key))
    for scope, key in others:  # one statement each, keeping the pair-name-address order
        attempts = case((t.attempts > 0, t.attempts - 1), else_=0)
        db.session.execute(
            update(table)
            .where(t.scope == scope.value, t.key == key)
            .values(
                attempts=attempts,
                locked_until=case((attempts < policy.limits[scope], literal(None, UTCDateTime())), else_=t.locked_until),
            )
            .execution_options(synchronize_session=False)
        )


def _purge_expired(connection, now: datetime, policy: ThrottlePolicy) -> int:
    """Forget buckets whose window and lock are over, so guessing random names cannot
    grow the table without bound. Rows another attempt holds are skipped, not waited
    for (PostgreSQL), so purging never makes two attempts wait on each other."""
    t = LoginThrottle.__table__.c
    expired = (
        select(t.scope, t.key)
        .where(
            t.window_started_at <= now - policy.window - policy.lock,
            or_(t.locked_until.is_(None), t.locked_until <= now),
        )
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    result = connection.execute(delete(LoginThrottle.__table__).where(tuple_(t.scope, t.key).in_(expired)))
    return result.rowcount or 0
