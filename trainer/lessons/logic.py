"""Reading lessons: enrollment, progress, the dashboard and the lesson page.

Every function takes the acting user and checks it may see what it asks for, so the
views cannot forget an object check.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, delete, literal, select, update

from ..accounts.models import User
from ..database import UTCDateTime, insert_ignoring_conflicts, utcnow
from ..errors import AccessDenied, NotFound
from ..extensions import db
from ..markdown import QUOTATION, QUOTATION_CLASS
from .models import Course, CourseInstructor, Enrollment, Lesson, LessonProgress


def all_courses() -> list[Course]:
    return list(db.session.scalars(select(Course).order_by(Course.position, Course.id)))


def course_by_slug(slug: str) -> Course:
    course = db.session.scalars(select(Course).where(Course.slug == slug)).one_or_none()
    if course is None:
        raise NotFound()
    return course


def enroll(user: User, course_ids: list[int]) -> None:
    """Add enrollments; already-enrolled courses are left as they are."""
    if not course_ids:
        return
    now = utcnow()
    db.session.execute(
        insert_ignoring_conflicts(Enrollment.__table__, ["user_id", "course_id"]),
        [{"user_id": user.id, "course_id": cid, "created_at": now} for cid in course_ids],
    )


def set_enrollments(user: User, course_ids: list[int]) -> None:
    """Make `course_ids` the user's courses. Progress stays, should they come back."""
    db.session.execute(
        delete(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id.not_in(course_ids or [-1]))
    )
    enroll(user, course_ids)


def enrolled_course_ids(user: User) -> list[int]:
    return list(db.session.scalars(select(Enrollment.course_id).where(Enrollment.user_id == user.id)))


def assign_instructor(user: User, course_ids: list[int]) -> None:
    if course_ids:
        db.session.execute(
            insert_ignoring_conflicts(CourseInstructor.__table__, ["user_id", "course_id"]),
            [{"user_id": user.id, "course_id": cid} for cid in course_ids],
        )


def taught_course_ids(user: User) -> list[int]:
    return list(db.session.scalars(select(CourseInstructor.course_id).where(CourseInstructor.user_id == user.id)))


def set_taught_courses(user: User, course_ids: list[int]) -> None:
    db.session.execute(
        delete(CourseInstructor).where(
            CourseInstructor.user_id == user.id, CourseInstructor.course_id.not_in(course_ids or [-1])
        )
    )
    assign_instructor(user, course_ids)


def is_enrolled(user: User, course_id: int) -> bool:
    return (
        db.session.scalar(
            select(Enrollment.id).where(Enrollment.user_id == user.id, Enrollment.course_id == course_id)
        )
        is not None
    )


@dataclass(frozen=True)
class OutlineEntry:
    id: int
    slug: str
    title: str
    position: int
    estimated_minutes: int
    started_at: datetime | None
    completed_at: datetime | None

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


def lesson_outline(course_ids: list[int], user: User) -> list[tuple[int, OutlineEntry]]:
    """The shown lessons of these courses in order, with `user`'s progress: one query."""
    if not course_ids:
        return []
    rows = db.session.execute(
        select(
            Lesson.course_id,
            Lesson.id,
            Lesson.slug,
            Lesson.title,
            Lesson.position,
            Lesson.estimated_minutes,
            LessonProgress.started_at,
            LessonProgress.completed_at,
        )
        .outerjoin(
            LessonProgress,
            and_(LessonProgress.lesson_id == Lesson.id, LessonProgress.user_id == user.id),
        )
        .where(Lesson.course_id.in_(course_ids), Lesson.archived.is_(False))
        .order_by(Lesson.course_id, Lesson.position, Lesson.id)
    )
    return [(row[0], OutlineEntry(*row[1:])) for row in rows]


@dataclass
class CourseProgress:
    course: Course
    lessons: list[OutlineEntry]

    @property
    def total(self) -> int:
        return len(self.lessons)

    @property
    def completed(self) -> int:
        return sum(1 for lesson in self.lessons if lesson.completed)

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0

    @property
    def next_lesson(self) -> OutlineEntry | None:
        return next((lesson for lesson in self.lessons if not lesson.completed), None)

    @property
    def minutes_left(self) -> int:
        return sum(lesson.estimated_minutes for lesson in self.lessons if not lesson.completed)


def dashboard(user: User) -> list[CourseProgress]:
    """A trainee's courses with progress and the next lesson to read; for staff, every
    course (they read without progress). Two queries."""
    query = select(Course).order_by(Course.position, Course.id)
    if user.is_trainee:
        query = query.join(Enrollment, Enrollment.course_id == Course.id).where(Enrollment.user_id == user.id)
    courses = list(db.session.scalars(query))
    outline = lesson_outline([c.id for c in courses], user)
    return [CourseProgress(course, [entry for cid, entry in outline if cid == course.id]) for course in courses]


def _check_course_access(user: User, course: Course) -> None:
    """Trainees read the courses they are enrolled in; staff may read every course."""
    if user.is_trainee and not is_enrolled(user, course.id):
        raise AccessDenied()


def course_progress(user: User, course_slug: str) -> CourseProgress:
    course = course_by_slug(course_slug)
    _check_course_access(user, course)
    return CourseProgress(course, [entry for _cid, entry in lesson_outline([course.id], user)])


@dataclass
class LessonPage:
    course: Course
    lesson: Lesson
    outline: list[OutlineEntry]
    completed_at: datetime | None
    started_now: bool = False  # this visit recorded the start, and needs a commit

    @property
    def index(self) -> int:
        return next(i for i, entry in enumerate(self.outline) if entry.id == self.lesson.id)

    @property
    def previous(self) -> OutlineEntry | None:
        return self.outline[self.index - 1] if self.index > 0 else None

    @property
    def next(self) -> OutlineEntry | None:
        return self.outline[self.index + 1] if self.index + 1 < len(self.outline) else None

    @property
    def excerpts_by_id(self) -> dict[str, dict]:
        return {e["id"]: e for e in self.lesson.excerpts}

    @property
    def has_quotations(self) -> bool:
        """Whether the page shows inline quotations of the speech, which then need a legend."""
        lesson = self.lesson
        texts = [lesson.summary, *lesson.objectives, *lesson.key_points]
        return any(QUOTATION.search(t) for t in texts) or any(
            QUOTATION_CLASS in block.get("html", "") for block in lesson.body_blocks)


def _find_lesson(course: Course, lesson_slug: str) -> Lesson:
    lesson = db.session.scalars(
        select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == lesson_slug, Lesson.archived.is_(False))
    ).one_or_none()
    if lesson is None:
        raise NotFound()
    return lesson


def open_lesson(user: User, course_slug: str, lesson_slug: str) -> LessonPage:
    """The lesson page's data; a trainee opening it is recorded as having started it.

    The number of queries does not depend on the number of lessons.
    """
    course = course_by_slug(course_slug)
    _check_course_access(user, course)
    lesson = _find_lesson(course, lesson_slug)
    outline = [entry for _cid, entry in lesson_outline([course.id], user)]
    entry = next(e for e in outline if e.id == lesson.id)
    started_now = user.is_trainee and entry.started_at is None
    if started_now:
        # Only the first visit writes; two tabs opening it at once leave one row.
        db.session.execute(
            insert_ignoring_conflicts(LessonProgress.__table__, ["user_id", "lesson_id"]).values(
                user_id=user.id, lesson_id=lesson.id, started_at=utcnow()
            )
        )
    return LessonPage(course, lesson, outline, entry.completed_at, started_now)


def complete_lesson(user: User, course_slug: str, lesson_slug: str) -> tuple[Course, Lesson]:
    """Mark the lesson completed; marking it twice keeps the first time."""
    if not user.is_trainee:
        raise AccessDenied()
    course = course_by_slug(course_slug)
    _check_course_access(user, course)
    lesson = _find_lesson(course, lesson_slug)
    now = utcnow()
    db.session.execute(
        insert_ignoring_conflicts(LessonProgress.__table__, ["user_id", "lesson_id"]).values(
            user_id=user.id, lesson_id=lesson.id, started_at=now
        )
    )
    db.session.execute(
        update(LessonProgress)
        .where(
            LessonProgress.user_id == user.id,
            LessonProgress.lesson_id == lesson.id,
            LessonProgress.completed_at.is_(None),
        )
        # Another host's clock may run slightly ahead: never finish before the start.
        .values(
            completed_at=case(
                (LessonProgress.started_at > now, LessonProgress.started_at), else_=literal(now, UTCDateTime())
            )
        )
        .execution_options(synchronize_session=False)
    )
    return course, lesson


def next_lesson_after(course: Course, lesson: Lesson) -> Lesson | None:
    return db.session.scalars(
        select(Lesson)
        .where(Lesson.course_id == course.id, Lesson.archived.is_(False), Lesson.position > lesson.position)
        .order_by(Lesson.position)
        .limit(1)
    ).first()
