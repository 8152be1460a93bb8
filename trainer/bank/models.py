from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..lessons.models import Lesson

question_tags = Table(
    "question_tags",
    db.metadata,
    Column("question_id", ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Category(db.Model):
    """A node of the category tree; `path` is the full name, e.g. 政务信息写作基础/三个理念."""

    __tablename__ = "question_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("question_categories.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(900), unique=True)

    __table_args__ = (
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        UniqueConstraint("parent_id", "name"),
    )

    @property
    def depth(self) -> int:
        return self.path.count("/")


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)

    __table_args__ = (CheckConstraint("length(name) > 0", name="name_not_empty"),)


QTYPES_SQL = "qtype IN ('single', 'multiple', 'truefalse', 'blank', 'short')"
STATUSES_SQL = "status IN ('draft', 'ready', 'retired')"


class Question(db.Model):
    """The current, editable state of a question.

    `revision` grows with every change and doubles as the optimistic lock: an edit
    based on an older revision is refused instead of silently overwriting another
    instructor's change. Every revision, this one included, is kept in `QuestionVersion`.
    """

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    idnumber: Mapped[str | None] = mapped_column(String(100), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("question_categories.id", ondelete="RESTRICT"), index=True)
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    qtype: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    difficulty: Mapped[int] = mapped_column(default=3)
    points: Mapped[int] = mapped_column(default=1)
    stem: Mapped[str] = mapped_column(Text)
    # The type's own parts: options and scoring, the true/false answer, blanks, the
    # reference answer; exactly the type-specific keys of QuestionData.to_mapping().
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    explanation: Mapped[str] = mapped_column(Text, default="")
    # Stem and options normalized for substring search (works for Chinese, which has
    # no word boundaries for a tokenizer to find).
    search_text: Mapped[str] = mapped_column(Text, default="")
    stem_hash: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(default=1)
    # The revision the course bank (question_bank/, loaded by `trainer init`) last gave
    # this question; NULL for questions instructors brought in. When `revision` has moved
    # on, an instructor changed the question and `trainer init` leaves it alone.
    course_revision: Mapped[int | None] = mapped_column()
    # QuestionData.exclusion_group: a quiz draws at most one question of a group.
    exclusion_group: Mapped[str | None] = mapped_column(String(50), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category] = relationship(lazy="joined", innerjoin=True)
    lesson: Mapped[Lesson | None] = relationship()
    author: Mapped[User | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=question_tags, order_by=Tag.name)

    __mapper_args__ = {"version_id_col": revision}
    __table_args__ = (
        CheckConstraint(QTYPES_SQL, name="qtype"),
        CheckConstraint(STATUSES_SQL, name="status"),
        CheckConstraint("difficulty BETWEEN 1 AND 5", name="difficulty_range"),
        CheckConstraint("points BETWEEN 1 AND 100", name="points_range"),
        CheckConstraint("length(stem) > 0", name="stem_not_empty"),
        # Re-imports match questions by stem: without this every lookup scans the bank.
        Index("ix_questions_stem_hash", "stem_hash"),
        Index("ix_questions_status_type", "status", "qtype"),
        # Ids are in links, history and (soon) attempts: a deleted question's id must
        # never come back as another question. PostgreSQL's sequences never reuse one.
        {"sqlite_autoincrement": True},
    )


# Why a revision was made: created, edited in the form, by an import, by a bulk action,
# by renaming or moving its category, by restoring an older revision, by undoing an
# import, by the course bank (`trainer init`), or recorded when history began (0006).
REASONS = ("create", "edit", "import", "bulk", "category", "restore", "undo", "course", "migration")
REASONS_SQL = "reason IN (" + ", ".join(f"'{r}'" for r in REASONS) + ")"


class QuestionVersion(db.Model):
    """One revision of a question, exactly as it was: the full history, the current
    revision included, written in the same transaction as the change.

    `data` is the question's QuestionData mapping. `used_at` is set when a quiz attempt
    first draws this revision (see `logic.snapshot`): a used revision is what trainees
    saw, and its question can then only be retired, never deleted. Rows never change
    otherwise; they go only with their question.
    """

    __tablename__ = "question_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    revision: Mapped[int]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(20))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The upload that made this revision (an import, or the undoing of one).
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    changed_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("question_id", "revision"),
        CheckConstraint(REASONS_SQL, name="reason"),
        # Attempts will point at version ids: never hand one out twice.
        {"sqlite_autoincrement": True},
    )


class ImportBatch(db.Model):
    """An uploaded file: its preview, its confirmation, and then the record of that import.

    Kept in the database, not in a process or on one host's disk, so the confirming
    request may land on any server. The revisions the import wrote point back at it
    (`QuestionVersion.import_batch_id`, reason "import"): those at revision 1 are the
    questions it created, the others the questions it updated, each from the revision
    just before. Undoing it writes revisions with reason "undo" that point back too.
    """

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    default_category: Mapped[str] = mapped_column(String(900), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[dict[str, int] | None] = mapped_column(JSON)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    # Its id is in the links of the import history: never given to another upload.
    __table_args__ = ({"sqlite_autoincrement": True},)

