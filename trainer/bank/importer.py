"""Importing question files: plan (preview) first, then apply, all in one transaction.

The plan says, for every question in the file, whether it will be created, update an
existing question (matched by idnumber, or by an identical stem in the same category)
or leave it unchanged, and lists every problem with its line. A plan with problems is
never applied, so an import brings in all of a file or none of it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..database import utcnow
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
    set_tags,
    stem_hash,
)
from .models import Category, ImportBatch, Question
from .schema import Problem, QuestionData, normalize_category, validate

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


def apply_plan(
    plan: ImportPlan, author: User | None, progress: Progress | None = None, course_bank: bool = False
) -> ImportSummary:
    """Carry out a problem-free plan inside the caller's transaction.

    `course_bank` marks what is created or updated as the course's own, so that a later
    load can tell an instructor's change from its own (see `import_folder`).
    """
    if not plan.ok:
        raise DomainError(_("导入文件有错误，未导入任何题目。"))
    category_ids = ensure_categories(item.data.category for item in plan.items)
    lessons = lesson_ids_by_ref()
    summary = ImportSummary(unchanged=plan.count("unchanged"), kept=plan.count("kept"))
    now = utcnow()

    def row(item: PlannedItem) -> dict:
        return {
            **column_values(item.data),
            "category_id": category_ids[item.data.category],
            "lesson_id": lessons.get(item.data.lesson) if item.data.lesson else None,
            "updated_at": now,
        }

    creates = [item for item in plan.items if item.action == "create"]
    for batch in chunks(creates):
        rows = [
            {
                **row(item), "author_id": author.id if author else None, "revision": 1, "created_at": now,
                "course_revision": 1 if course_bank else None,
            }
            for item in batch
        ]
        ids = db.session.scalars(insert(Question).returning(Question.id, sort_by_parameter_order=True), rows).all()
        set_tags([(qid, item.data.tags) for qid, item in zip(ids, batch)], replace=False)
        summary.created += len(batch)
        if progress:
            progress(len(batch))

    updates = [item for item in plan.items if item.action == "update"]
    table = Question.__table__
    # One executemany per batch; the revision check keeps an edit saved meanwhile
    # from being overwritten unseen (the whole import then fails and rolls back).
    columns = [*row(updates[0]), "revision", *(["course_revision"] if course_bank else [])] if updates else []
    statement = (
        update(table)
        .where(table.c.id == bindparam("match_id"), table.c.revision == bindparam("match_revision"))
        .values({name: bindparam(name) for name in columns})
    )
    for batch in chunks(updates):
        result = db.session.execute(
            statement,
            [
                {
                    **row(item), "revision": item.revision + 1,
                    **({"course_revision": item.revision + 1} if course_bank else {}),
                    "match_id": item.question_id, "match_revision": item.revision,
                }
                for item in batch
            ],
        )
        if result.rowcount not in (-1, len(batch)):
            raise DomainError(_("导入期间有题目被他人修改，未导入任何题目。请重新上传后再试。"))
        set_tags([(item.question_id, item.data.tags) for item in batch], replace=True)
        summary.updated += len(batch)
        if progress:
            progress(len(batch))
    if progress and summary.unchanged + summary.kept:
        progress(summary.unchanged + summary.kept)
    if summary.created >= ANALYZE_AFTER and db.session.get_bind().dialect.name == "postgresql":
        # Until autovacuum catches up, PostgreSQL plans lookups on the grown tables
        # with stale statistics (scans instead of index probes); refresh them now.
        db.session.execute(text("ANALYZE questions"))
        db.session.execute(text("ANALYZE question_tags"))
    return summary


def import_folder(folder: Path) -> ImportSummary:
    """Every question file in `folder` (the course bank), all or nothing."""
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


# ---------------------------------------------------------------- uploads awaiting confirmation


def store_upload(user: User, filename: str, raw: bytes, default_category: str = "") -> ImportBatch:
    """Keep an upload for its preview and confirmation; forget stale ones."""
    db.session.execute(delete(ImportBatch).where(ImportBatch.created_at < utcnow() - BATCH_LIFETIME))
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
    """Only the instructor who uploaded a file sees its preview."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.user_id != user.id:
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
    plan = plan_batch(batch)
    if not plan.ok:
        return batch, plan, None
    summary = apply_plan(plan, user)
    db.session.execute(
        update(ImportBatch).where(ImportBatch.id == batch.id).values(summary=summary.as_dict()).execution_options(synchronize_session=False)
    )
    db.session.refresh(batch)
    return batch, plan, summary
