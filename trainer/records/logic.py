"""What staff see of trainees' progress.

Instructors see the trainees of the courses they teach; administrators see everyone.
The table is one aggregate query, whatever the number of trainees and lessons.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select

from ..accounts.logic import escape_like
from ..accounts.models import Cohort, Role, User
from ..errors import NotFound
from ..extensions import db
from ..lessons.logic import CourseProgress, lesson_outline
from ..lessons.models import Course, CourseInstructor, Enrollment, Lesson, LessonProgress


def visible_courses(staff: User) -> list[Course]:
    query = select(Course).order_by(Course.position, Course.id)
    if not staff.is_admin:
        query = query.join(CourseInstructor, CourseInstructor.course_id == Course.id).where(
            CourseInstructor.user_id == staff.id
        )
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class ProgressFilter:
    unit: str = ""
    cohort_id: int | None = None
    course_id: int | None = None
    q: str = ""


@dataclass(frozen=True)
class ProgressRow:
    user_id: int
    display_name: str
    username: str
    unit: str
    cohort: str | None
    course_title: str
    total: int
    started: int
    completed: int
    last_activity: datetime | None

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0


def _enrollment_scope(course_ids: list[int], filters: ProgressFilter):
    """Trainee enrollments in the given courses matching the filters."""
    scope = and_(
        Enrollment.course_id.in_(course_ids or [-1]),
        User.role == Role.TRAINEE.value,
    )
    if filters.course_id:
        scope = and_(scope, Enrollment.course_id == filters.course_id)
    if filters.unit:
        scope = and_(scope, User.unit == filters.unit)
    if filters.cohort_id:
        scope = and_(scope, User.cohort_id == filters.cohort_id)
    if filters.q:
        pattern = f"%{escape_like(filters.q.strip().lower())}%"
        scope = and_(
            scope,
            (User.username.like(pattern, escape="\\")) | (func.lower(User.display_name).like(pattern, escape="\\")),
        )
    return scope


def progress_table(
    courses: list[Course], filters: ProgressFilter, page: int = 1, per_page: int = 50
) -> tuple[list[ProgressRow], int]:
    """One page of (trainee, course) rows with lesson progress, and the row count.

    `courses` are the ones the staff member may see: `visible_courses(staff)`, which
    the page has already loaded for its filters.
    """
    course_ids = [c.id for c in courses]
    scope = _enrollment_scope(course_ids, filters)
    total = db.session.scalar(
        select(func.count()).select_from(Enrollment).join(User, User.id == Enrollment.user_id).where(scope)
    ) or 0
    last_activity = func.max(func.coalesce(LessonProgress.completed_at, LessonProgress.started_at))
    query = (
        select(
            User.id,
            User.display_name,
            User.username,
            User.unit,
            Cohort.name,
            Course.title,
            func.count(Lesson.id),
            func.count(LessonProgress.id),
            func.count(LessonProgress.completed_at),
            last_activity,
        )
        .select_from(Enrollment)
        .join(User, User.id == Enrollment.user_id)
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(Cohort, Cohort.id == User.cohort_id)
        .outerjoin(Lesson, and_(Lesson.course_id == Course.id, Lesson.archived.is_(False)))
        .outerjoin(LessonProgress, and_(LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == User.id))
        .where(scope)
        .group_by(User.id, User.display_name, User.username, User.unit, Cohort.name, Course.id, Course.title, Course.position)
        .order_by(User.unit_sort, User.unit, User.name_sort, User.display_name, User.id, Course.position)
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    )
    return [ProgressRow(*row) for row in db.session.execute(query)], total


def filter_options(staff: User) -> tuple[list[Course], list[str], list[Cohort]]:
    """The courses, units and cohorts that occur among this staff member's trainees."""
    courses = visible_courses(staff)
    course_ids = [c.id for c in courses] or [-1]
    trainees = (
        select(User.id)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(Enrollment.course_id.in_(course_ids), User.role == Role.TRAINEE.value)
    )
    units = list(
        db.session.scalars(
            select(User.unit)
            .where(User.id.in_(trainees), User.unit != "")
            .group_by(User.unit)
            .order_by(func.min(User.unit_sort), User.unit)
        )
    )
    cohorts = list(
        db.session.scalars(
            select(Cohort).where(Cohort.id.in_(select(User.cohort_id).where(User.id.in_(trainees)))).order_by(Cohort.name_sort, Cohort.name)
        )
    )
    return courses, units, cohorts


def trainee_detail(staff: User, trainee_id: int) -> tuple[User, list[CourseProgress]]:
    """A trainee's lesson progress in the courses `staff` may see."""
    trainee = db.session.get(User, trainee_id)
    if trainee is None or trainee.role != Role.TRAINEE:
        raise NotFound()
    visible = {c.id: c for c in visible_courses(staff)}
    enrolled = [
        visible[cid]
        for cid in db.session.scalars(select(Enrollment.course_id).where(Enrollment.user_id == trainee.id))
        if cid in visible
    ]
    if not enrolled:
        # Not one of theirs: answered like an unknown id, so ids cannot be probed.
        raise NotFound()
    enrolled.sort(key=lambda c: (c.position, c.id))
    outline = lesson_outline([c.id for c in enrolled], trainee)
    return trainee, [CourseProgress(c, [e for cid, e in outline if cid == c.id]) for c in enrolled]
