"""Login throttling kept in the database, so that every server process sees it.

An attempt is counted *before* the password is checked, by one atomic UPDATE: the
database numbers concurrent attempts for a user name, and only the first
`max_failures` of a window get their password checked. A burst of parallel guesses
therefore cannot slip past the limit while the count is being read.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, literal, or_, select, update

from ..database import UTCDateTime, insert_ignoring_conflicts
from ..extensions import db
from .models import LoginThrottle


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    window: timedelta
    lock: timedelta


@dataclass(frozen=True)
class AttemptTicket:
    allowed: bool
    attempt: int  # this attempt's number within the window
    locked_until: datetime | None

    def remaining(self, policy: ThrottlePolicy) -> int:
        return max(policy.max_failures - self.attempt, 0)


def begin_attempt(username: str, now: datetime, policy: ThrottlePolicy) -> AttemptTicket:
    """Count one login attempt for `username` and say whether it may be checked."""
    db.session.execute(
        insert_ignoring_conflicts(LoginThrottle.__table__, ["username"]).values(
            username=username, attempts=0, window_started_at=now, locked_until=None
        )
    )
    t = LoginThrottle.__table__.c
    lock_over = and_(t.locked_until.is_not(None), t.locked_until <= now)
    window_over = and_(t.locked_until.is_(None), t.window_started_at <= now - policy.window)
    restart = or_(lock_over, window_over)
    locked_at = literal(now + policy.lock, UTCDateTime())
    restart_lock = locked_at if policy.max_failures <= 1 else literal(None, UTCDateTime())
    db.session.execute(
        update(LoginThrottle.__table__)
        .where(t.username == username)
        .values(
            attempts=case((restart, 1), else_=t.attempts + 1),
            window_started_at=case((restart, literal(now, UTCDateTime())), else_=t.window_started_at),
            # The attempt that reaches the limit locks the name at once; if its password
            # is right, `clear` removes the lock again.
            locked_until=case(
                (restart, restart_lock),
                (t.locked_until.is_not(None), t.locked_until),
                (t.attempts + 1 >= policy.max_failures, locked_at),
                else_=literal(None, UTCDateTime()),
            ),
        )
        .execution_options(synchronize_session=False)
    )
    attempts, locked_until = db.session.execute(
        select(t.attempts, t.locked_until).where(t.username == username)
    ).one()
    return AttemptTicket(allowed=attempts <= policy.max_failures, attempt=attempts, locked_until=locked_until)


def clear(username: str) -> None:
    db.session.execute(delete(LoginThrottle.__table__).where(LoginThrottle.__table__.c.username == username))


def purge_expired(now: datetime, policy: ThrottlePolicy) -> int:
    """Forget names whose window and lock are over, so guessing random names cannot
    grow the table without bound."""
    t = LoginThrottle.__table__.c
    result = db.session.execute(
        delete(LoginThrottle.__table__).where(
            t.window_started_at <= now - policy.window - policy.lock,
            or_(t.locked_until.is_(None), t.locked_until <= now),
        )
    )
    return result.rowcount or 0
