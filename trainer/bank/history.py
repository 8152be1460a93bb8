"""A question's history: its revisions, the difference between two, and restoring one."""
from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload

from ..accounts.models import User
from ..errors import DomainError, NotFound
from ..extensions import db
from . import logic
from .models import ImportBatch, Question, QuestionVersion
from .schema import QuestionData, scoring_label, status_label, type_label

LETTERS = "ABCDEFGH"


def reason_label(reason: str) -> str:
    return {
        "create": _("新建"),
        "edit": _("编辑"),
        "import": _("导入"),
        "bulk": _("批量操作"),
        "category": _("分类改名或移动"),
        "restore": _("恢复旧修订"),
        "undo": _("撤销导入"),
        "course": _("课程题库载入"),
        "migration": _("启用修订历史时记录"),
    }.get(reason, reason)


@dataclass(frozen=True)
class Revision:
    version: QuestionVersion  # its data is not loaded: the list needs none of it
    batch_filename: str | None
    batch_user_id: int | None


def revisions(question: Question) -> list[Revision]:
    """Every revision of the question, newest first, with who made it and the upload it
    came from: one query, however long the history."""
    rows = db.session.execute(
        select(QuestionVersion, ImportBatch.filename, ImportBatch.user_id)
        .outerjoin(ImportBatch, ImportBatch.id == QuestionVersion.import_batch_id)
        .where(QuestionVersion.question_id == question.id)
        .options(defer(QuestionVersion.data), joinedload(QuestionVersion.changed_by))
        .order_by(QuestionVersion.revision.desc())
    )
    return [Revision(*row) for row in rows]


def version_at(question: Question, revision: int) -> QuestionVersion:
    version = db.session.scalars(
        select(QuestionVersion)
        .where(QuestionVersion.question_id == question.id, QuestionVersion.revision == revision)
        .options(joinedload(QuestionVersion.changed_by))
    ).one_or_none()
    if version is None:
        raise NotFound()
    return version


def restore(question: Question, revision: int, based_on_revision: int | None, by: User) -> None:
    """Make an old revision's data the question's next revision; the history keeps all."""
    if based_on_revision != question.revision:
        raise DomainError(_("这道题在您查看之后已被他人修改。请刷新页面后再决定是否恢复。"))
    if revision == question.revision:
        raise DomainError(_("修订 %(n)d 就是当前内容，无需恢复。", n=revision))
    version = version_at(question, revision)
    try:
        changed = logic.update_question(
            question, logic.version_data(version), based_on_revision, by=by, reason="restore", restoring=revision
        )
    except logic.QuestionInvalid as error:
        raise DomainError(_("修订 %(n)d 的内容已不能直接恢复：%(problems)s", n=revision, problems=error.message)) from None
    if not changed:
        raise DomainError(_("修订 %(n)d 与当前内容相同，无需恢复。", n=revision))


# ---------------------------------------------------------------- differences


@dataclass(frozen=True)
class FieldDiff:
    label: str
    old: list[tuple[bool, str]]  # (removed?, text) pieces of the older text
    new: list[tuple[bool, str]]  # (added?, text) pieces of the newer text


def _options(data: QuestionData) -> str:
    lines = []
    for letter, option in zip(LETTERS, data.options):
        mark = _("【正确】") if option.correct else _("【错误】")
        line = f"{letter}. {mark}{option.text}"
        if option.weight is not None:
            line += _("（得分比例 %(weight)s%%）", weight=f"{option.weight:g}")
        lines.append(line)
        if option.feedback:
            lines.append("\u3000" + _("反馈：%(text)s", text=option.feedback))
    return "\n".join(lines)


def _fields() -> list[tuple[str, Callable[[QuestionData], str]]]:
    """Each part of a question as a label and the text it is compared by."""
    return [
        (_("题型"), lambda d: type_label(d.type)),
        (_("状态"), lambda d: status_label(d.status)),
        (_("分类"), lambda d: d.category),
        (_("所属课"), lambda d: d.lesson or ""),
        (_("外部编号"), lambda d: d.idnumber or ""),
        (_("题干"), lambda d: d.stem),
        (_("选项"), _options),
        (_("多选计分"), lambda d: scoring_label(d.scoring) if d.type == "multiple" else ""),
        (_("判断题答案"), lambda d: (_("对") if d.answer else _("错")) if d.type == "truefalse" else ""),
        (_("答“对”时的反馈"), lambda d: d.feedback_true),
        (_("答“错”时的反馈"), lambda d: d.feedback_false),
        (_("填空答案"), lambda d: "\n".join(
            _("第 %(n)d 空：%(answers)s", n=n, answers=" / ".join(variants)) for n, variants in enumerate(d.blanks, 1)
        )),
        (_("参考答案"), lambda d: d.reference_answer),
        (_("评分要点"), lambda d: "\n".join(d.scoring_points)),
        (_("解析"), lambda d: d.explanation),
        (_("难度"), lambda d: str(d.difficulty)),
        (_("分值"), lambda d: str(d.points)),
        (_("标签"), lambda d: _("、").join(d.tags)),
    ]


def _pieces(old: str, new: str) -> tuple[list[tuple[bool, str]], list[tuple[bool, str]]]:
    """Character-level difference: Chinese has no spaces between words to diff by.

    difflib's automatic junk heuristic ignores characters that make up more than 1% of a
    long text when it looks for matches, which keeps pathological texts (one character
    repeated thousands of times) from taking quadratic time.
    """
    before: list[tuple[bool, str]] = []
    after: list[tuple[bool, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new).get_opcodes():
        if i2 > i1:
            before.append((tag != "equal", old[i1:i2]))
        if j2 > j1:
            after.append((tag != "equal", new[j1:j2]))
    return before, after


def diff(old: QuestionData, new: QuestionData) -> tuple[list[FieldDiff], list[str]]:
    """The fields that differ between two revisions, with the changed text marked, and
    the labels of those that do not."""
    old, new = old.canonical(), new.canonical()
    changed: list[FieldDiff] = []
    same: list[str] = []
    for label, text_of in _fields():
        before, after = text_of(old), text_of(new)
        if before == after:
            if before:
                same.append(label)
            continue
        changed.append(FieldDiff(label, *_pieces(before, after)))
    return changed, same
