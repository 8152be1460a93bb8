"""Cohorts (培训班期次): naming them, merging them, enrolling a whole class at once.

Two administrators may act on the same cohorts at the same moment. Every operation
locks the cohorts it reads or changes (in id order, then their members' rows in id
order) and checks after the lock that they still exist, so each one either applies to
what is there once it runs or is refused with a message; none loses a member's cohort.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import case, delete, func, literal, select, true, update
from sqlalchemy.exc import IntegrityError

from ..database import UTCDateTime, insert_ignoring_conflicts, utcnow
from ..errors import DomainError
from ..extensions import db
from ..lessons.models import Course, Enrollment
from .locking import lock_rows
from .models import Cohort, Role, User

MAX_NAME = 100


@dataclass(frozen=True)
class CohortSummary:
    cohort: Cohort
    trainees: int
    members: int


def summaries() -> list[CohortSummary]:
    """Every cohort with its head counts, in one query."""
    trainees = func.count(case((User.role == Role.TRAINEE.value, User.id)))
    rows = db.session.execute(
        select(Cohort, trainees, func.count(User.id))
        .outerjoin(User, User.cohort_id == Cohort.id)
        .group_by(Cohort.id)
        .order_by(Cohort.name_sort, Cohort.name)
    ).all()
    return [CohortSummary(cohort, trainee_count, member_count) for cohort, trainee_count, member_count in rows]


def summary(cohort: Cohort) -> CohortSummary:
    trainees, members = db.session.execute(
        select(func.count(case((User.role == Role.TRAINEE.value, User.id))), func.count(User.id))
        .where(User.cohort_id == cohort.id)
    ).one()
    return CohortSummary(cohort, trainees, members)


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError(_("请填写期次名称"), "name")
    if len(name) > MAX_NAME:
        raise DomainError(_("“期次名称”不能超过 %(n)d 个字符", n=MAX_NAME), "name")
    return name


def _name_taken(name: str, own_id: int | None = None) -> bool:
    query = select(Cohort.id).where(Cohort.name == name)
    if own_id is not None:
        query = query.where(Cohort.id != own_id)
    return db.session.scalar(query) is not None


def _taken_error(name: str) -> DomainError:
    return DomainError(_("已有名为“%(name)s”的期次；若要把两期合在一起，请用“并入其他期次”。", name=name), "name")


def _gone() -> DomainError:
    return DomainError(_("该期次已不存在：可能刚被其他管理员删除或并入其他期次。"))


def _lock(cohort_ids: list[int], shared: bool = False) -> set[int]:
    """Lock the cohorts and return the ids of those that still exist."""
    return set(lock_rows(Cohort, Cohort.id.in_(cohort_ids), shared=shared).scalars())


def _lock_one(cohort: Cohort, shared: bool = False) -> None:
    if not _lock([cohort.id], shared):
        raise _gone()
    db.session.refresh(cohort)


def _flush_name(name: str) -> None:
    """Flush the new name; when a concurrent request took it first, this one is refused
    like any other taken name (and the caller rolls back)."""
    try:
        db.session.flush()
    except IntegrityError:
        raise _taken_error(name) from None


def create(name: str) -> Cohort:
    name = _clean_name(name)
    if _name_taken(name):
        raise _taken_error(name)
    cohort = Cohort(name=name)
    db.session.add(cohort)
    _flush_name(name)
    return cohort


def rename(cohort: Cohort, name: str) -> None:
    name = _clean_name(name)
    if name == cohort.name:
        return
    _lock_one(cohort)
    if _name_taken(name, cohort.id):
        raise _taken_error(name)
    cohort.name = name
    _flush_name(name)


def merge(source: Cohort, target_id: int | None) -> tuple[Cohort, int]:
    """Move every member of `source` into the target cohort and drop `source`."""
    if not target_id:
        raise DomainError(_("请选择要并入的期次"), "target")
    if target_id == source.id:
        raise DomainError(_("不能把期次并入它自己"), "target")
    existing = _lock([source.id, target_id])
    if source.id not in existing:
        raise _gone()
    if target_id not in existing:
        raise DomainError(
            _("请选择要并入的期次：所选期次已不存在，可能刚被其他管理员删除或并入其他期次。"), "target"
        )
    target = db.session.get(Cohort, target_id, populate_existing=True)
    # The members too, in id order, before they are moved.
    members = list(lock_rows(User, User.cohort_id == source.id).scalars())
    if members:
        db.session.execute(
            update(User).where(User.id.in_(members)).values(cohort_id=target.id).execution_options(synchronize_session=False)
        )
    db.session.execute(delete(Cohort).where(Cohort.id == source.id))
    db.session.expire_all()  # members loaded in this session now belong to the target
    return target, len(members)


def remove(cohort: Cohort) -> None:
    """Delete an empty cohort; one with members must be merged or emptied first."""
    _lock_one(cohort)
    # The check and the delete are one statement, so a user added meanwhile keeps the cohort.
    members = select(User.id).where(User.cohort_id == cohort.id).exists()
    deleted = db.session.execute(delete(Cohort).where(Cohort.id == cohort.id, ~members)).rowcount
    if not deleted:
        raise DomainError(_("该期次还有成员，不能删除；请先把成员移到其他期次，或用“并入其他期次”。"))


def enroll_trainees(cohort: Cohort, course_ids: list[int]) -> int:
    """Enroll every trainee of the cohort in the courses; returns how many enrollments are new.

    One INSERT ... SELECT, so a trainee who joins the cohort while this runs is either
    enrolled or not, never half, and already-enrolled trainees are skipped by the database.
    """
    if not course_ids:
        raise DomainError(_("请至少选择一门课程"), "courses")
    _lock_one(cohort, shared=True)  # no member moves away meanwhile
    # Every trainee with every chosen course: a deliberate cross join.
    trainees = select(User.id, Course.id, literal(utcnow(), UTCDateTime)).join(Course, true()).where(
        User.cohort_id == cohort.id, User.role == Role.TRAINEE.value, Course.id.in_(course_ids)
    )
    table = Enrollment.__table__
    statement = (
        insert_ignoring_conflicts(table, ["user_id", "course_id"])
        .from_select(["user_id", "course_id", "created_at"], trainees)
        # rowcount is not reported for INSERT ... SELECT by every driver; RETURNING is exact.
        .returning(table.c.user_id)
    )
    return len(db.session.execute(statement).all())
