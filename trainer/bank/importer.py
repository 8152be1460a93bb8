"""Importing question files: plan (preview) first, then apply, all in one transaction.

The plan says, for every question in the file, whether it will be created, update an
existing question (matched by idnumber, or by an identical stem in the same category)
or leave it unchanged, and lists every problem with its line. A plan with problems is
never applied, so an import brings in all of a file or none of it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, defer, joinedload, selectinload

from ..accounts.models import User
from ..database import lock_named, utcnow
from ..errors import DomainError, NotFound
from ..extensions import db
from . import formats
from .formats import FormatError, ParseResult
from .logic import (
    check_references,
    chunks,
    column_values,
    datas_of,
    ensure_categories,
    lesson_ids_by_ref,
    lesson_refs_by_title,
    lock_questions,
    record_versions,
    set_tags,
    stem_hash,
)
from .models import Category, ImportBatch, Question, QuestionVersion
from .schema import Problem, QuestionData, from_mapping, normalize_category, validate

FALLBACK_CATEGORY = "未分类"
BATCH_LIFETIME = timedelta(days=2)
ANALYZE_AFTER = 1_000  # questions created by one import
Progress = Callable[[int], None]


@dataclass
class PlannedItem:
    line: int
    label: str
    data: QuestionData
    given: frozenset[str] | None = None  # what the file says; see ParsedQuestion.given
    action: str = "create"  # create | update | unchanged | kept (changed locally; course bank only)
    question_id: int | None = None
    revision: int = 0  # the stored question's revision, for updates
    course_revision: int | None = None  # the revision the course bank last gave it
    source: str = ""


@dataclass
class ImportPlan:
    items: list[PlannedItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)  # left out on purpose; not a reason to refuse
    source_problems: list[tuple[str, Problem]] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for item in self.items if item.action == action)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.source_problems

    def all_problems(self) -> list[str]:
        lines = [str(p) for p in sorted(self.problems, key=lambda p: (p.line or 0))]
        lines += [f"{source}：{problem}" for source, problem in self.source_problems]
        return lines


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # course questions an instructor has changed, left as they are

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged, "kept": self.kept}


def parse_file(filename: str, raw: bytes) -> ParseResult:
    return formats.parse(filename, raw, max_questions=current_app.config["IMPORT_MAX_QUESTIONS"])


def plan_import(parsed: ParseResult, default_category: str | None = None, source: str = "") -> ImportPlan:
    """Check every question and decide what importing it would do. Reads only."""
    plan = ImportPlan(problems=list(parsed.problems), notices=list(parsed.notices))
    fallback = (
        normalize_category(parsed.defaults.get("category"))
        or normalize_category(default_category)
        or FALLBACK_CATEGORY
    )
    default_lesson = parsed.defaults.get("lesson") or None
    lessons = lesson_ids_by_ref()
    refs_by_title, shared_titles = lesson_refs_by_title()
    seen_ids: dict[str, int] = {}
    seen_stems: dict[tuple[str, str], int] = {}
    for parsed_question in parsed.questions:
        data = parsed_question.data
        if not data.category.strip():
            data.category = fallback
        # A malformed path (a//b) is kept as written, for `validate` to report.
        if not data.lesson and default_lesson:
            data.lesson = default_lesson
        line = parsed_question.line
        problems = []
        if data.lesson:  # a sheet may name the lesson by its title
            title = data.lesson.strip()
            data.lesson = refs_by_title.get(title, data.lesson)
            if title in shared_titles:
                problems.append(Problem(_(
                    "“所属课”中的“%(title)s”是几门课程共有的课名，请写成“课程标题 · 课标题”。", title=title), line, "lesson"))
                data.lesson = None
        problems += validate(data, line) + check_references(data, lessons, line)
        data = data.canonical()
        if data.idnumber:
            if data.idnumber in seen_ids:
                problems.append(Problem(_("外部编号“%(id)s”与第 %(other)d 行重复", id=data.idnumber, other=seen_ids[data.idnumber]), line, "idnumber"))
            seen_ids.setdefault(data.idnumber, line)
        else:
            key = (data.category, stem_hash(data.stem))
            if key in seen_stems:
                problems.append(Problem(_("与第 %(other)d 行的题目重复（同一分类下题干相同）", other=seen_stems[key]), line, "stem"))
            seen_stems.setdefault(key, line)
        plan.problems.extend(problems)
        plan.items.append(PlannedItem(line, parsed_question.label, data, parsed_question.given, source=source))
    _match_existing(plan)
    return plan


def _match_existing(plan: ImportPlan) -> None:
    """Find the stored question each item would update, and whether it differs."""
    by_idnumber: dict[str, int] = {}
    idnumbers = sorted({item.data.idnumber for item in plan.items if item.data.idnumber})
    for batch in chunks(idnumbers):
        by_idnumber.update(db.session.execute(select(Question.idnumber, Question.id).where(Question.idnumber.in_(batch))).all())
    categories: dict[str, int] = {}
    paths = sorted({item.data.category for item in plan.items})
    for batch in chunks(paths):
        categories.update(db.session.execute(select(Category.path, Category.id).where(Category.path.in_(batch))).all())
    # Stored questions by stem digest, oldest first: (category id, question id, idnumber).
    by_stem: dict[str, list[tuple[int, int, str | None]]] = {}
    hashes = sorted({stem_hash(item.data.stem) for item in plan.items})
    for batch in chunks(hashes):
        rows = db.session.execute(
            select(Question.category_id, Question.stem_hash, Question.id, Question.idnumber)
            .where(Question.stem_hash.in_(batch))
            .order_by(Question.id)
        )
        for category_id, digest, question_id, idnumber in rows:
            by_stem.setdefault(digest, []).append((category_id, question_id, idnumber))
    for item in plan.items:
        data = item.data
        match = by_idnumber.get(data.idnumber) if data.idnumber else None
        same_stem = by_stem.get(stem_hash(data.stem), []) if match is None else []
        found = next((q for q in same_stem if q[0] == categories.get(data.category)), None)
        if found is None and len(same_stem) == 1 and item.given is not None and "category" not in item.given:
            # The file names no category (Aiken, a Moodle file without $CATEGORY): the stem
            # alone finds the question, wherever it is filed, if only one question has it.
            found = same_stem[0]
        # A stem match adopts the file's idnumber only if the stored question has none.
        if found is not None and (found[2] is None or not data.idnumber or found[2] == data.idnumber):
            match = found[1]
        item.question_id = match
    first_line: dict[int, int] = {}
    for item in plan.items:
        if item.question_id is None:
            continue
        if item.question_id in first_line:
            plan.problems.append(Problem(
                _("与第 %(other)d 行对应同一道已有的题目（外部编号或题干相同）", other=first_line[item.question_id]),
                item.line, "idnumber"))
        first_line.setdefault(item.question_id, item.line)
    matched = sorted(first_line)
    stored: dict[int, tuple[QuestionData, int, int | None]] = {}
    for batch in chunks(matched):
        questions = list(db.session.scalars(select(Question).where(Question.id.in_(batch)).options(selectinload(Question.tags))))
        stored.update((q.id, (data, q.revision, q.course_revision)) for q, data in zip(questions, datas_of(questions)))
    for item in plan.items:
        if item.question_id is None:
            continue
        existing, item.revision, item.course_revision = stored[item.question_id]
        if item.data.idnumber is None:
            item.data.idnumber = existing.idnumber  # a file without ids keeps the stored id
        item.data = keep_what_the_file_lacks(existing, item.data, item.given)
        item.action = "unchanged" if existing.canonical() == item.data.canonical() else "update"


# Parts copied from the stored question when a file does not carry them.
_KEPT_FIELDS = ("explanation", "difficulty", "points", "category", "tags", "lesson", "status",
                "feedback_true", "feedback_false", "reference_answer", "scoring_points", "exclusion_group")


def keep_what_the_file_lacks(stored: QuestionData, incoming: QuestionData, given: frozenset[str] | None) -> QuestionData:
    """`incoming`, with every part its file cannot express taken from `stored`.

    Re-importing an Excel sheet must not wipe the option feedback and weights it has no
    columns for, nor an Aiken file reset a question's explanation, points and tags.
    """
    if given is None:
        return incoming
    merged = replace(incoming, options=[replace(o) for o in incoming.options])
    for name in _KEPT_FIELDS:
        if name not in given:
            setattr(merged, name, getattr(stored, name))
    if merged.type != stored.type:
        return merged
    if "scoring" not in given:
        merged.scoring = stored.scoring
    before = {o.text.strip(): o for o in stored.options}
    for option in merged.options:
        old = before.get(option.text.strip())
        if old is None:
            continue
        if "option_feedback" not in given and not option.feedback:
            option.feedback = old.feedback
        # A weight only means something for the same rightness it was given with.
        if "option_weight" not in given and option.weight is None and old.correct == option.correct:
            option.weight = old.weight
    return merged


def lock_imports() -> None:
    """Run imports one at a time, from planning to commit, on every host.

    A plan read while another import is being applied would create the same questions
    again (nothing matches them yet) or collide on an idnumber. One lock for every
    import, rather than one per category: a file may fill many categories, idnumbers
    are unique across the bank and stem matches may cross categories, so only a single
    lock is both correct and free of deadlocks; imports are rare and take seconds.
    """
    lock_named("trainer.bank.imports")


def apply_plan(
    plan: ImportPlan,
    author: User | None,
    progress: Progress | None = None,
    course_bank: bool = False,
    batch_id: int | None = None,
) -> ImportSummary:
    """Carry out a problem-free plan inside the caller's transaction.

    `course_bank` marks what is created or updated as the course's own, so that a later
    load can tell an instructor's change from its own (see `import_folder`). Every
    question created or updated gets its revision in the history, pointing at the
    upload `batch_id` when there is one.
    """
    if not plan.ok:
        raise DomainError(_("导入文件有错误，未导入任何题目。"))
    reason = "course" if course_bank else "import"
    summary = ImportSummary(unchanged=plan.count("unchanged"), kept=plan.count("kept"))
    now = utcnow()
    creates = [item for item in plan.items if item.action == "create"]
    values = _row_values(creates, now)
    for batch in chunks(creates):
        rows = [
            {
                **values(item), "author_id": author.id if author else None, "revision": 1, "created_at": now,
                "course_revision": 1 if course_bank else None,
            }
            for item in batch
        ]
        try:
            ids = db.session.scalars(insert(Question).returning(Question.id, sort_by_parameter_order=True), rows).all()
        except IntegrityError:
            # Only an idnumber given meanwhile by the question form can collide: imports
            # themselves run one at a time (see `lock_imports`).
            raise DomainError(_("导入期间有人新建了外部编号相同的题目，未导入任何题目。请重新上传后再试。")) from None
        set_tags([(qid, item.data.tags) for qid, item in zip(ids, batch)], replace=False)
        record_versions([(qid, 1, item.data) for qid, item in zip(ids, batch)], reason, author, batch_id, now)
        summary.created += len(batch)
        if progress:
            progress(len(batch))

    updates = [item for item in plan.items if item.action == "update"]
    summary.updated = _update_questions(
        updates, reason, author, batch_id, now, progress,
        course_revision=lambda item: item.revision + 1 if course_bank else item.course_revision,
    )
    if progress and summary.unchanged + summary.kept:
        progress(summary.unchanged + summary.kept)
    if summary.created >= ANALYZE_AFTER and db.session.get_bind().dialect.name == "postgresql":
        # Until autovacuum catches up, PostgreSQL plans lookups on the grown tables
        # with stale statistics (scans instead of index probes); refresh them now.
        db.session.execute(text("ANALYZE questions"))
        db.session.execute(text("ANALYZE question_tags"))
        db.session.execute(text("ANALYZE question_versions"))
    return summary


def _row_values(items: list[PlannedItem], now: datetime) -> Callable[[PlannedItem], dict]:
    """The Question columns an item's data gives, its category and lesson resolved."""
    category_ids = ensure_categories(item.data.category for item in items)
    lessons = lesson_ids_by_ref() if any(item.data.lesson for item in items) else {}

    def values(item: PlannedItem) -> dict:
        return {
            **column_values(item.data),
            "category_id": category_ids[item.data.category],
            "lesson_id": lessons.get(item.data.lesson) if item.data.lesson else None,
            "updated_at": now,
        }

    return values


def _update_questions(
    items: list[PlannedItem],
    reason: str,
    by: User | None,
    batch_id: int | None,
    now: datetime,
    progress: Progress | None = None,
    *,
    course_revision: Callable[[PlannedItem], int | None],
) -> int:
    """Give each item's question the item's data as its next revision; how many.

    One executemany per chunk; the revision check keeps an edit saved since the plan
    from being overwritten unseen (the whole import then fails and rolls back).
    """
    if not items:
        return 0
    items = sorted(items, key=lambda item: item.question_id or 0)
    # Categories first: creating one may wait for a category move, which must not find
    # these questions already locked by us.
    values = _row_values(items, now)
    lock_questions([item.question_id for item in items if item.question_id is not None])
    table = Question.__table__
    columns = [*values(items[0]), "revision", "course_revision"]
    statement = (
        update(table)
        .where(table.c.id == bindparam("match_id"), table.c.revision == bindparam("match_revision"))
        .values({name: bindparam(name) for name in columns})
    )
    for batch in chunks(items):
        try:
            result = db.session.execute(
                statement,
                [
                    {
                        **values(item), "revision": item.revision + 1, "course_revision": course_revision(item),
                        "match_id": item.question_id, "match_revision": item.revision,
                    }
                    for item in batch
                ],
            )
        except IntegrityError:
            raise DomainError(_("导入期间有人把外部编号改成了文件中的编号，未导入任何题目。请重新上传后再试。")) from None
        if result.rowcount not in (-1, len(batch)):
            raise DomainError(_("导入期间有题目被他人修改，未导入任何题目。请重新上传后再试。"))
        set_tags([(item.question_id, item.data.tags) for item in batch], replace=True)
        record_versions([(item.question_id, item.revision + 1, item.data) for item in batch], reason, by, batch_id, now)
        if progress:
            progress(len(batch))
    return len(items)


def import_folder(folder: Path) -> ImportSummary:
    """Every question file in `folder` (the course bank), all or nothing."""
    lock_imports()
    plan = ImportPlan()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        # Notes beside the questions (README.txt …) are not question files.
        if path.suffix.lower() not in formats.EXTENSIONS or path.stem.upper().startswith("README"):
            continue
        name = str(path.relative_to(folder))
        try:
            parsed = parse_file(path.name, path.read_bytes())
        except FormatError as error:
            plan.source_problems.append((name, error.problem))
            continue
        part = plan_import(parsed, source=name)
        plan.items.extend(part.items)
        plan.source_problems.extend((name, p) for p in part.problems)
    ids = [item.data.idnumber for item in plan.items if item.data.idnumber]
    if len(ids) != len(set(ids)):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        plan.source_problems.append((folder.name, Problem(_("外部编号在多个文件中重复：%(ids)s", ids="、".join(duplicates[:10])))))
    if not plan.ok:
        raise DomainError("\n".join(plan.all_problems()))
    for item in plan.items:
        # Changed since the course bank last set it (edited, moved, retired, or an
        # instructor's own question with the same stem): the instructor's version stays.
        if item.action == "update" and item.course_revision != item.revision:
            item.action = "kept"
    return apply_plan(plan, author=None, course_bank=True)


# ---------------------------------------------------------------- uploads: preview, confirmation, undo


def store_upload(user: User, filename: str, raw: bytes, default_category: str = "") -> ImportBatch:
    """Keep an upload for its preview and confirmation; forget stale unconfirmed ones
    (confirmed ones are the import history)."""
    db.session.execute(
        delete(ImportBatch).where(ImportBatch.created_at < utcnow() - BATCH_LIFETIME, ImportBatch.applied_at.is_(None))
    )
    batch = ImportBatch(
        user_id=user.id,
        filename="".join(c for c in Path(filename or "upload").name if c.isprintable())[:255] or "upload",
        content=raw,
        default_category=normalize_category(default_category) or "",
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def batch_for(user: User, batch_id: int) -> ImportBatch:
    """Only the instructor who uploaded a file sees its preview; administrators also see
    every confirmed import, and may undo it."""
    batch = db.session.get(ImportBatch, batch_id, options=[defer(ImportBatch.content)])
    if batch is None or not (batch.user_id == user.id or (user.is_admin and batch.applied_at is not None)):
        raise NotFound()
    return batch


def plan_batch(batch: ImportBatch) -> ImportPlan:
    try:
        parsed = parse_file(batch.filename, batch.content)
    except FormatError as error:
        return ImportPlan(problems=[error.problem])
    return plan_import(parsed, batch.default_category)


def confirm_batch(user: User, batch_id: int) -> tuple[ImportBatch, ImportPlan, ImportSummary | None]:
    """Apply an upload once. A second confirmation (a double click, another tab) finds
    the batch already claimed by the first and imports nothing more."""
    batch = batch_for(user, batch_id)
    claimed = db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.applied_at.is_(None))
        .values(applied_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        raise DomainError(_("这个文件已经导入过了。"))
    lock_imports()
    plan = plan_batch(batch)
    if not plan.ok:
        return batch, plan, None
    summary = apply_plan(plan, user, batch_id=batch.id)
    db.session.execute(
        update(ImportBatch).where(ImportBatch.id == batch.id).values(summary=summary.as_dict()).execution_options(synchronize_session=False)
    )
    db.session.refresh(batch)
    return batch, plan, summary


@dataclass(frozen=True)
class Change:
    """A question an import created (`after` is 1) or updated (from `after - 1`)."""

    question_id: int
    after: int  # the revision the import wrote
    current: int  # the question's revision now
    used: bool  # whether a quiz attempt has used the import's revision or a later one
    stem: str
    changed: bool = False  # whether its content differs now from what the import wrote

    @property
    def created(self) -> bool:
        return self.after == 1

    @property
    def blocker(self) -> str | None:
        """Why undoing the import cannot take this question back, if it cannot."""
        if self.used:
            return _("已被测验使用")
        if self.changed:
            return _("导入后已被修改")
        return None


def changes_of(batch: ImportBatch) -> list[Change]:
    """What the import did that is still in the bank (a question deleted since is gone
    with its history): two queries, however large the import.

    A question with later revisions that came back to the import's content (a later
    import undone, an edit reverted) counts as unchanged, so imports can be undone
    newest first.
    """
    wrote, later = aliased(QuestionVersion), aliased(QuestionVersion)
    used = select(later.id).where(
        later.question_id == wrote.question_id, later.revision >= wrote.revision, later.used_at.is_not(None)
    ).exists()
    imported = and_(wrote.import_batch_id == batch.id, wrote.reason == "import")
    rows = db.session.execute(
        select(wrote.question_id, wrote.revision, Question.revision, used, Question.stem)
        .join(Question, Question.id == wrote.question_id)
        .where(imported)
        .order_by(wrote.question_id)
    ).all()
    changes = [Change(*row) for row in rows]
    if any(change.current != change.after for change in changes):
        now = aliased(QuestionVersion)
        differs = {
            question_id
            for question_id, then_data, now_data in db.session.execute(
                select(wrote.question_id, wrote.data, now.data)
                .join(Question, Question.id == wrote.question_id)
                .join(now, and_(now.question_id == Question.id, now.revision == Question.revision))
                .where(imported, Question.revision != wrote.revision)
            )
            if then_data != now_data  # both as QuestionData.to_mapping() wrote them
        }
        changes = [replace(change, changed=change.question_id in differs) for change in changes]
    return changes


@dataclass
class UndoSummary:
    deleted: int = 0
    restored: int = 0


MAX_NAMED = 10  # questions named in a refusal; the page lists them all


def undo_batch(user: User, batch_id: int) -> UndoSummary:
    """Take a whole import back, or nothing: the questions it created are deleted, those
    it updated get their previous data again as a new revision (the history keeps both).

    Refused while any of them has been changed since or has been used by a quiz attempt.
    Claimed atomically like a confirmation, so a double click undoes once.
    """
    batch = batch_for(user, batch_id)
    if batch.applied_at is None:
        raise DomainError(_("这个文件还没有导入，没有可撤销的内容。"))
    claimed = db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id, ImportBatch.applied_at.is_not(None), ImportBatch.undone_at.is_(None))
        .values(undone_at=utcnow(), undone_by_id=user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        raise DomainError(_("这次导入已经撤销过了。"))
    lock_imports()
    # Lock first, then read: no edit or quiz attempt can slip in between check and undo.
    lock_questions(list(db.session.scalars(
        select(QuestionVersion.question_id).where(QuestionVersion.import_batch_id == batch.id, QuestionVersion.reason == "import")
    )))
    changes = changes_of(batch)
    if not changes:
        raise DomainError(_("这次导入没有新建或更新任何现存的题目，没有可撤销的内容。"))
    blocked = [change for change in changes if change.blocker]
    if blocked:
        named = _("、").join(_("第 %(id)d 题（%(why)s）", id=c.question_id, why=c.blocker) for c in blocked[:MAX_NAMED])
        if len(blocked) > MAX_NAMED:
            named += _("等 %(n)d 道题", n=len(blocked))
        raise DomainError(_("无法撤销这次导入（一道题也没有撤销）：%(problems)s", problems=named))
    created = [c.question_id for c in changes if c.created]
    for part in chunks(created):
        db.session.execute(delete(Question).where(Question.id.in_(part)).execution_options(synchronize_session=False))
    items = _previous_revisions(batch, [c for c in changes if not c.created])
    summary = UndoSummary(deleted=len(created))
    summary.restored = _update_questions(
        items, "undo", user, batch.id, utcnow(), course_revision=lambda item: item.course_revision
    )
    db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id)
        .values(summary={**(batch.summary or {}), "deleted": summary.deleted, "restored": summary.restored})
        .execution_options(synchronize_session=False)
    )
    return summary


def _previous_revisions(batch: ImportBatch, updated: list[Change]) -> list[PlannedItem]:
    """The updated questions with the data they had before the import, checked again (a
    lesson may have gone, or another question taken an idnumber, since), each with the
    `course_revision` to write."""
    if not updated:
        return []
    after, before = aliased(QuestionVersion), aliased(QuestionVersion)
    rows = db.session.execute(
        select(after.question_id, before.revision, Question.revision, Question.course_revision, before.data)
        .join(Question, Question.id == after.question_id)
        .join(before, and_(before.question_id == after.question_id, before.revision == after.revision - 1))
        .where(after.import_batch_id == batch.id, after.reason == "import", after.revision > 1)
    ).all()
    lessons = lesson_ids_by_ref()
    items: list[PlannedItem] = []
    problems: list[str] = []
    for question_id, previous, current, course_revision, mapping in rows:
        data, found = from_mapping(mapping)
        if data is not None:
            found += validate(data) + check_references(data, lessons)
        if found:
            problems.append(_("第 %(id)d 题导入前的内容已不能恢复：%(problem)s", id=question_id, problem=found[0].message))
            continue
        if course_revision == previous:  # the course's own question before the import is the course's again
            course_revision = current + 1
        items.append(PlannedItem(0, "", data.canonical(), action="update", question_id=question_id,
                                 revision=current, course_revision=course_revision))
    problems += [
        _("第 %(id)d 题导入前的外部编号“%(idnumber)s”已被另一道题使用", id=qid, idnumber=idnumber)
        for qid, idnumber in _idnumbers_taken_elsewhere(items)
    ]
    if problems:
        raise DomainError(_("无法撤销这次导入（一道题也没有撤销）：%(problems)s", problems="；".join(problems[:MAX_NAMED])))
    return items


def _idnumbers_taken_elsewhere(items: list[PlannedItem]) -> list[tuple[int, str]]:
    wanted = {item.data.idnumber: item.question_id for item in items if item.data.idnumber}
    taken: list[tuple[int, str]] = []
    for part in chunks(sorted(wanted)):
        for idnumber, holder in db.session.execute(select(Question.idnumber, Question.id).where(Question.idnumber.in_(part))):
            if holder != wanted[idnumber]:
                taken.append((wanted[idnumber], idnumber))
    return taken


def imports_for(user: User, page: int, per_page: int) -> tuple[list[ImportBatch], int]:
    """The user's uploads, newest first (administrators: every confirmed import too), and how many."""
    visible = ImportBatch.user_id == user.id
    if user.is_admin:
        visible = visible | ImportBatch.applied_at.is_not(None)
    total = db.session.scalar(select(func.count(ImportBatch.id)).where(visible)) or 0
    batches = list(db.session.scalars(
        select(ImportBatch)
        .where(visible)
        .options(defer(ImportBatch.content), joinedload(ImportBatch.user))
        .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ))
    return batches, total
