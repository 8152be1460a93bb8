"""The question bank: storing questions, their history, categories and tags, and
finding them again. Plain functions over the session; callers commit.

Every write of a question's content goes with a QuestionVersion row for the revision it
makes (see `record_versions`), in the same transaction: the history is complete."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..accounts.logic import escape_like
from ..accounts.models import User
from ..database import begin_writing, insert_ignoring_conflicts, utcnow
from ..errors import DomainError, NotFound
from ..extensions import db
from ..lessons.models import Course, Lesson
from ..sorting import sorted_naturally
from .categories import branch_ids, checked_path, tree
from .models import Category, Question, QuestionVersion, Tag, question_tags
from .schema import (
    LESSON_REF,
    QUESTION_TYPES,
    STATUSES,
    Problem,
    QuestionData,
    from_mapping,
    normalize_answer,
    validate,
)

# The keys of QuestionData.to_mapping() that live in Question.body.
BODY_KEYS = ("options", "scoring", "answer", "feedback_true", "feedback_false", "blanks", "reference_answer", "scoring_points")
MAX_SEARCH_CHARS = 200
MAX_SEARCH_TERMS = 10
CHUNK = 500  # ids per IN (...) list: far below every backend's parameter limit


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def stem_hash(stem: str) -> str:
    return hashlib.sha256(" ".join(stem.split()).encode("utf-8")).hexdigest()


def search_text_of(data: QuestionData) -> str:
    parts = [data.stem, *(o.text for o in data.options)]
    return normalize_answer("\n".join(parts))


# ---------------------------------------------------------------- conversions


def lesson_ref(lesson: Lesson | None, course_slug: str | None) -> str | None:
    return f"{course_slug}/{lesson.slug}" if lesson is not None and course_slug else None


def to_data(question: Question, category_path: str, tags: list[str], lesson: str | None) -> QuestionData:
    mapping = {
        "idnumber": question.idnumber,
        "type": question.qtype,
        "category": category_path,
        "stem": question.stem,
        **question.body,
        "explanation": question.explanation,
        "difficulty": question.difficulty,
        "points": question.points,
        "tags": tags,
        "lesson": lesson,
        "status": question.status,
        "exclusion_group": question.exclusion_group,
    }
    data, problems = from_mapping(mapping)
    assert data is not None and not problems, problems  # stored data was validated on the way in
    return data


def data_of(question: Question) -> QuestionData:
    """The question as QuestionData (loads its lesson's course when it has one)."""
    course_slug = None
    if question.lesson_id is not None:
        course_slug = db.session.scalar(
            select(Course.slug).join(Lesson, Lesson.course_id == Course.id).where(Lesson.id == question.lesson_id)
        )
    return to_data(question, question.category.path, [t.name for t in question.tags], lesson_ref(question.lesson, course_slug))


def datas_of(questions: Sequence[Question]) -> list[QuestionData]:
    """Many questions at once: categories, tags and lessons come preloaded (see `browse_query`)."""
    lesson_ids = {q.lesson_id for q in questions if q.lesson_id is not None}
    refs: dict[int, str] = {}
    for ids in chunks(sorted(lesson_ids)):
        for lesson_id, course_slug, slug in db.session.execute(
            select(Lesson.id, Course.slug, Lesson.slug).join(Course, Course.id == Lesson.course_id).where(Lesson.id.in_(ids))
        ):
            refs[lesson_id] = f"{course_slug}/{slug}"
    return [
        to_data(q, q.category.path, [t.name for t in q.tags], refs.get(q.lesson_id) if q.lesson_id else None)
        for q in questions
    ]


def _body_of(data: QuestionData) -> dict[str, Any]:
    mapping = data.to_mapping()
    return {key: mapping[key] for key in BODY_KEYS if key in mapping}


def column_values(data: QuestionData) -> dict[str, Any]:
    """The Question columns that come straight from QuestionData."""
    canonical = data.canonical()
    return {
        "idnumber": canonical.idnumber,
        "qtype": canonical.type,
        "status": canonical.status,
        "difficulty": canonical.difficulty,
        "points": canonical.points,
        "stem": canonical.stem,
        "body": _body_of(canonical),
        "explanation": canonical.explanation,
        "search_text": search_text_of(canonical),
        "stem_hash": stem_hash(canonical.stem),
        "exclusion_group": canonical.exclusion_group,
    }


# ---------------------------------------------------------------- categories, tags, lessons


def ensure_categories(paths: Iterable[str]) -> dict[str, int]:
    """Ids of these category paths, creating missing levels (safe under concurrency)."""
    wanted: set[str] = set()
    for path in paths:
        levels = path.split("/")
        wanted.update("/".join(levels[: n + 1]) for n in range(len(levels)))
    known: dict[str, int] = {}
    for batch in chunks(sorted(wanted)):
        known.update(db.session.execute(select(Category.path, Category.id).where(Category.path.in_(batch))).all())
    for path in sorted(wanted - known.keys(), key=lambda p: p.count("/")):  # parents first
        parent, _sep, name = path.rpartition("/")
        db.session.execute(
            insert_ignoring_conflicts(Category.__table__, ["path"]).values(
                path=path, name=name, parent_id=known.get(parent) if parent else None
            )
        )
        known[path] = db.session.scalar(select(Category.id).where(Category.path == path))
    return known


def ensure_tags(names: Iterable[str]) -> dict[str, int]:
    wanted = sorted({n for n in names if n})
    known: dict[str, int] = {}
    for batch in chunks(wanted):
        known.update(db.session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(batch))).all())
    missing = [n for n in wanted if n not in known]
    if missing:
        db.session.execute(insert_ignoring_conflicts(Tag.__table__, ["name"]), [{"name": n} for n in missing])
        for batch in chunks(missing):
            known.update(db.session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(batch))).all())
    return known


def lesson_ids_by_ref() -> dict[str, int]:
    return {
        f"{course_slug}/{slug}": lesson_id
        for lesson_id, course_slug, slug in db.session.execute(
            select(Lesson.id, Course.slug, Lesson.slug).join(Course, Course.id == Lesson.course_id)
        )
    }


def set_tags(question_ids_and_tags: Sequence[tuple[int, list[str]]], replace: bool) -> None:
    """Give each question exactly (or, without `replace`, at least) these tags."""
    tag_ids = ensure_tags(name for _qid, names in question_ids_and_tags for name in names)
    if replace:
        ids = [qid for qid, _names in question_ids_and_tags]
        for batch in chunks(ids):
            db.session.execute(question_tags.delete().where(question_tags.c.question_id.in_(batch)))
    rows = [{"question_id": qid, "tag_id": tag_ids[name]} for qid, names in question_ids_and_tags for name in set(names)]
    if rows:
        db.session.execute(insert_ignoring_conflicts(question_tags, ["question_id", "tag_id"]), rows)


# ---------------------------------------------------------------- saving


def check_references(data: QuestionData, lessons: dict[str, int] | None = None, line: int | None = None) -> list[Problem]:
    """Problems only the database can see (an unknown lesson), and a missing category."""
    problems: list[Problem] = []
    # A lesson not written as a reference at all is `validate`'s to report.
    if data.lesson and LESSON_REF.match(data.lesson):
        lessons = lessons if lessons is not None else lesson_ids_by_ref()
        if data.lesson not in lessons:
            problems.append(Problem(_("“所属课”中的课“%(lesson)s”不存在", lesson=data.lesson), line, "lesson"))
    if not data.category.strip():
        problems.append(Problem(_("请填写“分类”"), line, "category"))
    return problems


def _raise_first(problems: list[Problem]) -> None:
    if problems:
        raise QuestionInvalid(problems)


class QuestionInvalid(DomainError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("；".join(p.message for p in problems), problems[0].field)
        self.problems = problems


def _idnumber_taken(idnumber: str | None, except_id: int | None) -> bool:
    if not idnumber:
        return False
    query = select(Question.id).where(Question.idnumber == idnumber)
    if except_id is not None:
        query = query.where(Question.id != except_id)
    return db.session.scalar(query) is not None


def _idnumber_in_use(idnumber: str | None) -> DomainError:
    return DomainError(_("外部编号“%(id)s”已被另一道题使用", id=idnumber), "idnumber")


def create_question(data: QuestionData, author: User | None) -> Question:
    problems = validate(data) + check_references(data)
    data = data.canonical()
    if _idnumber_taken(data.idnumber, None):
        problems.append(Problem(_("外部编号“%(id)s”已被另一道题使用", id=data.idnumber), field="idnumber"))
    _raise_first(problems)
    category_id = ensure_categories([data.category])[data.category]
    question = Question(
        **column_values(data),
        category_id=category_id,
        lesson_id=lesson_ids_by_ref().get(data.lesson) if data.lesson else None,
        author_id=author.id if author else None,
    )
    db.session.add(question)
    try:
        db.session.flush()
    except IntegrityError:
        if not data.idnumber:
            raise
        # Another request gave the same idnumber between the check and here; the caller
        # rolls back, as for any refusal.
        raise _idnumber_in_use(data.idnumber) from None
    set_tags([(question.id, data.tags)], replace=True)
    record_versions([(question.id, question.revision, data)], "create", author)
    return question


def update_question(
    question: Question,
    data: QuestionData,
    based_on_revision: int | None = None,
    by: User | None = None,
    reason: str = "edit",
    restoring: int | None = None,
) -> bool:
    """Save an edit as a new revision; False when nothing changed.

    An edit made from an older revision than the stored one is refused, so two
    instructors editing at once cannot silently overwrite each other. Every earlier
    revision stays in the history. `restoring` is the revision whose data this is
    (a restore): if the course bank gave that revision, the question is the course's again.
    """
    if based_on_revision is not None and based_on_revision != question.revision:
        raise DomainError(_("这道题在您编辑期间已被他人修改。请重新打开后再编辑。"))
    problems = validate(data) + check_references(data)
    data = data.canonical()
    if _idnumber_taken(data.idnumber, question.id):
        problems.append(Problem(_("外部编号“%(id)s”已被另一道题使用", id=data.idnumber), field="idnumber"))
    _raise_first(problems)
    if data == data_of(question).canonical():
        return False
    # Look everything up before touching the row: a query in between would flush it
    # early and count the edit as two revisions.
    category_id = ensure_categories([data.category])[data.category]
    lesson_id = lesson_ids_by_ref().get(data.lesson) if data.lesson else None
    for key, value in column_values(data).items():
        setattr(question, key, value)
    question.category_id = category_id
    question.lesson_id = lesson_id
    question.updated_at = utcnow()
    if restoring is not None and question.course_revision == restoring:
        question.course_revision = question.revision + 1  # the revision this flush makes
    try:
        db.session.flush()
    except StaleDataError:
        raise DomainError(_("这道题在您编辑期间已被他人修改。请重新打开后再编辑。")) from None
    except IntegrityError:
        if not data.idnumber:
            raise
        raise _idnumber_in_use(data.idnumber) from None
    set_tags([(question.id, data.tags)], replace=True)
    record_versions([(question.id, question.revision, data)], reason, by)
    db.session.expire(question, ["tags", "category", "lesson"])
    return True


# ---------------------------------------------------------------- history


def record_versions(
    revisions: Sequence[tuple[int, int, QuestionData]],
    reason: str,
    by: User | None,
    batch_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Keep (question id, revision, data) in the history: one statement per chunk."""
    now = now or utcnow()
    by_id = by.id if by is not None else None
    for part in chunks(revisions):
        db.session.execute(
            insert(QuestionVersion.__table__),
            [
                {
                    "question_id": question_id, "revision": revision, "data": data.to_mapping(), "reason": reason,
                    "changed_by_id": by_id, "import_batch_id": batch_id, "created_at": now,
                }
                for question_id, revision, data in part
            ],
        )


def record_current(question_ids: Sequence[int], reason: str, by: User | None, now: datetime | None = None) -> None:
    """Keep the current revision of questions just changed by an UPDATE statement."""
    for part in chunks(sorted(question_ids)):
        questions = list(
            db.session.scalars(
                select(Question)
                .where(Question.id.in_(part))
                .options(selectinload(Question.tags))
                .execution_options(populate_existing=True)  # the statement bypassed the session
            )
        )
        record_versions([(q.id, q.revision, d) for q, d in zip(questions, datas_of(questions))], reason, by, now=now)


def lock_questions(question_ids: Sequence[int], shared: bool = False) -> None:
    """Lock these questions until the transaction ends: what is read of them next stays true.

    PostgreSQL: row locks taken in id order (so two transactions locking overlapping sets
    wait for each other instead of deadlocking); `shared` lets other shared lockers in
    and keeps writers out. SQLite: its write lock, which keeps every other writer out.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        begin_writing()
        return
    for part in chunks(sorted(set(question_ids))):
        db.session.execute(
            select(Question.id).where(Question.id.in_(part)).order_by(Question.id).with_for_update(read=shared)
        ).all()


def snapshot(question_ids: Sequence[int]) -> dict[int, int]:
    """The version ids of these questions' current revisions, {question id: version id},
    marked as used by a quiz attempt.

    Called when an attempt draws the questions: the attempt points at exactly what the
    trainee saw, however the questions change later, and a used revision keeps its
    question from being deleted. Drawing a revision again adds no row. Questions that
    do not exist (any more) are left out.
    """
    ids = sorted(set(question_ids))
    if not ids:
        return {}
    # Until this transaction ends, no question can be deleted, restored or edited under it.
    lock_questions(ids, shared=True)
    now = utcnow()
    found: dict[int, int] = {}
    for part in chunks(ids):
        rows = db.session.execute(
            select(QuestionVersion.question_id, QuestionVersion.id)
            .join(Question, and_(Question.id == QuestionVersion.question_id, Question.revision == QuestionVersion.revision))
            .where(Question.id.in_(part))
        ).all()
        found.update(rows)
        db.session.execute(
            update(QuestionVersion)
            .where(QuestionVersion.id.in_([version_id for _qid, version_id in rows]), QuestionVersion.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
    return found


def history_counts(question: Question) -> tuple[int, int]:
    """How many revisions the question has, and how many of them quiz attempts used."""
    total, used = db.session.execute(
        select(func.count(QuestionVersion.id), func.count(QuestionVersion.used_at)).where(
            QuestionVersion.question_id == question.id
        )
    ).one()
    return total, used


def version_data(version: QuestionVersion) -> QuestionData:
    """The revision's data; QuestionInvalid if it no longer reads as a question."""
    data, problems = from_mapping(version.data)
    if data is None:
        raise QuestionInvalid(problems)
    return data


def get_question(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound()
    return question


def delete_question(question: Question) -> None:
    """Only a question no attempt ever used may go, with its history; the others are
    retired instead."""
    lock_questions([question.id])  # no attempt draws it between the check and the delete
    used = db.session.scalar(
        select(QuestionVersion.id).where(QuestionVersion.question_id == question.id, QuestionVersion.used_at.is_not(None)).limit(1)
    )
    if used is not None:
        raise DomainError(_("这道题已被测验使用过，不能删除，只能停用。"))
    db.session.delete(question)
    try:
        db.session.flush()
    except StaleDataError:
        raise DomainError(_("这道题在您查看之后已被他人修改。请重新打开后再决定是否删除。")) from None


# ---------------------------------------------------------------- browsing and bulk actions


@dataclass(frozen=True)
class BankFilter:
    category_id: int | None = None
    qtype: str = ""
    tag_id: int | None = None
    lesson_id: int | None = None
    difficulty: int | None = None
    status: str = ""
    q: str = ""

    def is_empty(self) -> bool:
        return self == BankFilter()


def filtered_ids_query(filters: BankFilter) -> Select:
    """SELECT questions.id with the filters applied (the basis of lists, exports, bulk actions)."""
    query = select(Question.id)
    if filters.category_id:
        path = db.session.scalar(select(Category.path).where(Category.id == filters.category_id))
        query = query.where(Question.category_id.in_(branch_ids(filters.category_id, path or "")))
    if filters.qtype in QUESTION_TYPES:
        query = query.where(Question.qtype == filters.qtype)
    if filters.status in STATUSES:
        query = query.where(Question.status == filters.status)
    if filters.difficulty:
        query = query.where(Question.difficulty == filters.difficulty)
    if filters.lesson_id:
        query = query.where(Question.lesson_id == filters.lesson_id)
    if filters.tag_id:
        query = query.where(
            Question.id.in_(select(question_tags.c.question_id).where(question_tags.c.tag_id == filters.tag_id))
        )
    # A search is a few words; a pasted essay would build a query too large to run.
    for term in normalize_answer(filters.q[:MAX_SEARCH_CHARS]).split()[:MAX_SEARCH_TERMS]:
        query = query.where(Question.search_text.like(f"%{escape_like(term)}%", escape="\\"))
    return query


def browse(filters: BankFilter, page: int, per_page: int) -> tuple[list[Question], int]:
    """One page of questions with category, lesson and tags, and the number matching.

    Three queries whatever the bank's size: the count, the page, and the page's tags.
    """
    ids = filtered_ids_query(filters)
    total = db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    questions = list(
        db.session.scalars(
            select(Question)
            .where(Question.id.in_(ids))
            .options(selectinload(Question.tags))
            .order_by(Question.id.desc())
            .limit(per_page)
            .offset((max(page, 1) - 1) * per_page)
        )
    )
    return questions, total


def questions_for_export(filters: BankFilter) -> list[QuestionData]:
    questions: list[Question] = []
    ids = list(db.session.scalars(filtered_ids_query(filters).order_by(Question.id)))
    for batch in chunks(ids, 2000):
        questions.extend(
            db.session.scalars(
                select(Question).where(Question.id.in_(batch)).options(selectinload(Question.tags)).order_by(Question.id)
            )
        )
    return datas_of(questions)


def bulk_move(question_ids: Sequence[int], category_path: str, by: User | None = None) -> int:
    if not (category_path or "").strip():
        raise DomainError(_("请填写要移动到的分类，例如“政务信息写作基础/三个理念”"), "category")
    path = checked_path(category_path)
    category_id = ensure_categories([path])[path]
    return _bulk_update(question_ids, by, category_id=category_id)


def bulk_set_status(question_ids: Sequence[int], status: str, by: User | None = None) -> int:
    if status not in STATUSES:
        raise DomainError(_("未知的状态"), "status")
    return _bulk_update(question_ids, by, status=status)


def _bulk_update(question_ids: Sequence[int], by: User | None, **values: Any) -> int:
    """Set these columns on the questions that differ, each as a new revision; how many changed."""
    if not question_ids:
        raise DomainError(_("请先勾选要处理的题目"), "ids")
    ids = sorted(set(question_ids))
    lock_questions(ids)
    now = utcnow()
    changed: list[int] = []
    for batch in chunks(ids):
        changed += db.session.scalars(
            update(Question)
            .where(Question.id.in_(batch), or_(*(getattr(Question, name) != value for name, value in values.items())))
            .values(**values, revision=Question.revision + 1, updated_at=now)
            .returning(Question.id)
            .execution_options(synchronize_session=False)
        ).all()
    record_current(changed, "bulk", by, now)
    return len(changed)


def lesson_choices() -> list[tuple[int, str, str]]:
    """(id, "course · lesson" title, "course/lesson" reference) of every shown lesson."""
    return [
        (lesson_id, f"{course_title} · {title}", f"{course_slug}/{slug}")
        for lesson_id, course_title, title, course_slug, slug in db.session.execute(
            select(Lesson.id, Course.title, Lesson.title, Course.slug, Lesson.slug)
            .join(Course, Course.id == Lesson.course_id)
            .where(Lesson.archived.is_(False))
            .order_by(Course.position, Course.id, Lesson.position)
        )
    ]


def lesson_title(ref: str | None) -> str | None:
    """"政务信息写作基础 · 三个理念" for "gov-info-writing/three-ideas" (None if unknown)."""
    if not ref:
        return None
    return next((title for _lid, title, known in lesson_choices() if known == ref), None)


def lesson_refs_by_title(lessons: list[tuple[int, str, str]] | None = None) -> tuple[dict[str, str], set[str]]:
    """The reference of each lesson by the titles people write in a sheet — "三个理念", or
    "政务信息写作基础 · 三个理念" — and the short titles that several courses share."""
    lessons = lesson_choices() if lessons is None else lessons
    by_title: dict[str, str] = {}
    shared: set[str] = set()
    for _lid, full_title, ref in lessons:
        by_title[full_title] = ref
        short = full_title.split(" · ", 1)[1]
        if by_title.setdefault(short, ref) != ref:
            shared.add(short)
    return {title: ref for title, ref in by_title.items() if title not in shared}, shared


def filter_choices_data() -> tuple[list[Category], list[Tag], list[tuple[int, str, str]]]:
    """Categories (tree order), tags and lessons for the browser's filters: three queries."""
    categories = [row.category for row in tree()]
    tags = sorted_naturally(db.session.scalars(select(Tag)), key=lambda tag: tag.name)
    return categories, tags, lesson_choices()
