"""Test data generators (in the spirit of CTFd's gen_user): each call commits in its
own application context and returns ids, so tests never hold detached objects."""
from __future__ import annotations

import itertools
from typing import Any

from flask import Flask
from sqlalchemy import select

from trainer.accounts import logic as accounts
from trainer.accounts.models import User
from trainer.database import utcnow
from trainer.extensions import db
from trainer.lessons import logic as lessons
from trainer.lessons.content import CourseFile, LessonFile, sync_content

PASSWORD = "correct-horse-9"
_counter = itertools.count(1)


def lesson_file(position: int, slug: str | None = None, **fields: Any) -> LessonFile:
    slug = slug or f"lesson-{position}"
    values = {
        "path": f"lessons/test/{position:02d}-{slug}.md",
        "position": position,
        "slug": slug,
        "title": f"第{position}课",
        "summary": "",
        "estimated_minutes": 10,
        "objectives": ["目标"],
        "key_points": ["要点"],
        "excerpts": [],
        "body_markdown": f"第{position}课正文",
        "body_blocks": [{"html": f"<p>第{position}课正文</p>"}],
    }
    values.update(fields)
    return LessonFile(**values)


class Factories:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def user(
        self,
        role: str = "trainee",
        username: str | None = None,
        password: str = PASSWORD,
        display_name: str | None = None,
        unit: str = "测试单位",
        cohort: str | None = None,
        active: bool = True,
        courses: list[int] | None = None,
    ) -> int:
        username = username or f"{role}{next(_counter)}"
        with self.app.app_context():
            user = accounts.create_user(username, password, role, display_name=display_name, unit=unit, cohort=cohort)
            user.active = active
            if courses:
                if role == "trainee":
                    lessons.enroll(user, courses)
                else:
                    lessons.assign_instructor(user, courses)
            db.session.commit()
            return user.id

    def username_of(self, user_id: int) -> str:
        with self.app.app_context():
            return db.session.get(User, user_id).username

    def course(self, slug: str | None = None, lessons_count: int = 3, title: str | None = None) -> int:
        """A course with `lessons_count` small lessons, loaded by the real sync code."""
        slug = slug or f"course-{next(_counter)}"
        course_file = CourseFile(
            path=f"lessons/{slug}",
            slug=slug,
            title=title or f"课程 {slug}",
            description="课程简介",
            position=1,
            source_title="信息培训会议讲话",
            lessons=[lesson_file(n) for n in range(1, lessons_count + 1)],
        )
        with self.app.app_context():
            sync_content([course_file])
            db.session.commit()
            return lessons.course_by_slug(slug).id

    def lesson_ids(self, course_id: int) -> list[int]:
        from trainer.lessons.models import Lesson

        with self.app.app_context():
            return list(
                db.session.scalars(select(Lesson.id).where(Lesson.course_id == course_id).order_by(Lesson.position))
            )

    def progress(self, user_id: int, lesson_id: int, completed: bool = True) -> None:
        from trainer.lessons.models import LessonProgress

        with self.app.app_context():
            now = utcnow()
            db.session.add(
                LessonProgress(user_id=user_id, lesson_id=lesson_id, started_at=now, completed_at=now if completed else None)
            )
            db.session.commit()
