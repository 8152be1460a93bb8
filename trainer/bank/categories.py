"""The category tree: counting what is in it, renaming or moving a branch, pruning empty ones."""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..accounts.logic import escape_like
from ..accounts.models import User
from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from ..lessons.models import Course, Lesson
from ..sorting import sort_key
from .models import Category, Question
from .schema import category_problems, normalize_category


def checked_path(text: str | None, field: str = "category") -> str:
    """The normalized path, or a DomainError naming the first thing wrong with it."""
    if not (text or "").strip():
        raise DomainError(_("请填写分类，例如“政务信息写作基础/三个理念”"), field)
    problems = category_problems(text or "")
    if problems:
        raise DomainError(problems[0], field)
    return normalize_category(text)  # type: ignore[return-value]


@dataclass(frozen=True)
class CategoryRow:
    category: Category
    questions: int  # directly in this category
    in_branch: int  # in this category and everything below it
    children: int


def tree() -> list[CategoryRow]:
    """Every category in tree order with its counts: one query, whatever the size of the bank.

    Siblings come in the order of the lessons their questions belong to (a course's
    categories follow its lessons), then by name as people sort it (第二部分 before 第十部分).
    """
    lesson_rank = func.min(Course.position * 100_000 + Lesson.position)
    rows = db.session.execute(
        select(Category, func.count(Question.id), lesson_rank)
        .outerjoin(Question, Question.category_id == Category.id)
        .outerjoin(Lesson, Lesson.id == Question.lesson_id)
        .outerjoin(Course, Course.id == Lesson.course_id)
        .group_by(Category.id)
    ).all()
    in_branch: dict[str, int] = {}
    children: dict[str, int] = {}
    rank: dict[str, float] = {}
    for category, count, lesson in rows:
        levels = category.path.split("/")
        for depth in range(1, len(levels) + 1):
            ancestor = "/".join(levels[:depth])
            in_branch[ancestor] = in_branch.get(ancestor, 0) + count
            rank[ancestor] = min(rank.get(ancestor, math.inf), math.inf if lesson is None else lesson)
        if len(levels) > 1:
            parent = "/".join(levels[:-1])
            children[parent] = children.get(parent, 0) + 1

    def position(category: Category) -> list[tuple[float, str, str]]:
        levels = category.path.split("/")
        return [
            (rank.get("/".join(levels[: depth + 1]), math.inf), sort_key(name), name)
            for depth, name in enumerate(levels)
        ]

    rows.sort(key=lambda row: position(row[0]))
    return [
        CategoryRow(category, count, in_branch[category.path], children.get(category.path, 0))
        for category, count, _lesson in rows
    ]


def below(path: str):
    """The condition for the categories under `path` (not `path` itself)."""
    return Category.path.like(escape_like(path) + "/%", escape="\\")


def branch_ids(category_id: int, path: str):
    """SELECT the ids of a category and every category below it."""
    return select(Category.id).where((Category.id == category_id) | below(path))


def _empty_leaf(category_id):
    """Conditions for a category (an id or the id column) holding no question and no sub-category."""
    child = aliased(Category)  # not correlated with a DELETE's own table
    return (
        ~select(Question.id).where(Question.category_id == category_id).exists(),
        ~select(child.id).where(child.parent_id == category_id).exists(),
    )


def _exists_error(path: str) -> DomainError:
    return DomainError(
        _("分类“%(path)s”已经存在；要合并两个分类，请在题库中勾选题目后用“移动到分类”。", path=path), "path"
    )


def summary(category: Category) -> CategoryRow:
    """The counts of one category."""
    child = aliased(Category)
    branch = branch_ids(category.id, category.path)
    direct, in_branch, children = db.session.execute(
        select(
            select(func.count(Question.id)).where(Question.category_id == category.id).scalar_subquery(),
            select(func.count(Question.id)).where(Question.category_id.in_(branch)).scalar_subquery(),
            select(func.count(child.id)).where(child.parent_id == category.id).scalar_subquery(),
        )
    ).one()
    return CategoryRow(category, direct, in_branch, children)


def move(category: Category, new_path_text: str, by: User | None = None) -> int:
    """Rename the category or move it (with everything below it) to another place in the tree.

    Returns how many categories changed their path. The new path must not exist yet:
    to put two categories' questions together, move the questions with the bank's bulk action.
    A question's category is part of its content: each question in the branch gets a
    new revision, so its history and `trainer init` see the move.
    """
    from .logic import chunks, ensure_categories, lock_questions, record_current  # logic imports this module

    new_path = checked_path(new_path_text, "path")
    old_path = category.path
    if new_path == old_path:
        return 0
    if new_path.startswith(old_path + "/"):
        raise DomainError(_("不能把分类移到它自己的下级分类中"), "path")
    if db.session.scalar(select(Category.id).where(Category.path == new_path)) is not None:
        raise _exists_error(new_path)
    parent_path, _sep, name = new_path.rpartition("/")
    parent_id = ensure_categories([parent_path])[parent_path] if parent_path else None
    descendants = db.session.execute(
        update(Category)
        .where(below(old_path))
        # substr counts characters on both backends, so Chinese names are cut correctly.
        .values(path=literal(new_path) + func.substr(Category.path, len(old_path) + 1))
        .execution_options(synchronize_session=False)
    ).rowcount
    category.path, category.name, category.parent_id = new_path, name, parent_id
    try:
        db.session.flush()
    except IntegrityError:
        # Another request created the same path between the check and here; the
        # caller rolls the request back, as for any refusal.
        raise _exists_error(new_path) from None
    db.session.expire_all()
    branch = branch_ids(category.id, new_path)
    question_ids = list(db.session.scalars(select(Question.id).where(Question.category_id.in_(branch))))
    lock_questions(question_ids)
    now = utcnow()
    for part in chunks(question_ids):
        db.session.execute(
            update(Question)
            .where(Question.id.in_(part))
            .values(revision=Question.revision + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    record_current(question_ids, "category", by, now)
    return descendants + 1


def remove(category: Category) -> None:
    """Delete a category that holds no question and no sub-category."""
    # Checked and deleted in one statement, so a question filed meanwhile keeps its category.
    deleted = db.session.execute(
        delete(Category)
        .where(Category.id == category.id, *_empty_leaf(category.id))
        .execution_options(synchronize_session=False)
    ).rowcount
    if not deleted:
        raise DomainError(_("只能删除没有题目、也没有下级分类的分类。"))


def prune_empty() -> int:
    """Delete every category with no question anywhere in its branch; returns how many went."""
    by_depth: dict[int, list[int]] = {}
    for row in tree():
        if row.in_branch == 0:
            by_depth.setdefault(row.category.path.count("/"), []).append(row.category.id)
    removed = 0
    # One statement per level, deepest first, so a parent is childless by the time its turn
    # comes; the conditions are checked again in the statement, against concurrent filing.
    for depth in sorted(by_depth, reverse=True):
        removed += db.session.execute(
            delete(Category)
            .where(Category.id.in_(by_depth[depth]), *_empty_leaf(Category.id))
            .execution_options(synchronize_session=False)
        ).rowcount
    return removed
