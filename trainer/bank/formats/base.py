"""What the format modules share: the result types and the readers for values that
several formats spell the same way (statuses, scoring schemes, blank answers)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _

from ..schema import Problem, QuestionData


class FormatError(Exception):
    """The file as a whole cannot be read, so nothing in it can be previewed."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.problem = Problem(message, line=line)
        super().__init__(str(self.problem))


# The parts of a question a file may or may not carry (ParsedQuestion.given): the
# QuestionData field names, with each option's feedback and weight counted apart from
# its text and rightness (which every format carries).
CARRIED_PARTS = frozenset({
    "type", "stem", "options", "answer", "blanks", "reference_answer", "scoring_points", "scoring",
    "explanation", "difficulty", "points", "category", "tags", "lesson", "status", "idnumber",
    "feedback_true", "feedback_false", "option_feedback", "option_weight", "exclusion_group",
})


@dataclass
class ParsedQuestion:
    line: int  # 1-based line (text formats) or row (sheets) where the question starts
    data: QuestionData  # category "" when the file gives none (the importer applies a default)
    label: str = ""  # e.g. the GIFT ::name::, for messages
    # What the file actually says about the question; re-importing it over a stored
    # question keeps the stored value of every other part. None: the file carries all.
    given: frozenset[str] | None = None


@dataclass
class ParseResult:
    """The questions read cleanly, and every problem found.

    A question with a problem of its own (a bad cell, an unsupported GIFT construct) is
    reported and left out of `questions`, so the importer validates only questions the
    parser understood and never reports the same mistake twice.
    """

    questions: list[ParsedQuestion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)
    # What was left out on purpose (a Moodle description is not a question): shown in
    # the preview, but no reason to refuse the file.
    notices: list[Problem] = field(default_factory=list)


def check_count(count: int, max_questions: int) -> None:
    if count > max_questions:
        raise FormatError(_(
            "文件中的题目超过了每个文件 %(max)d 道的上限，请把题目拆分到几个文件中分别导入。",
            max=max_questions))


_STATUS_WORDS = {
    "draft": "draft", "草稿": "draft",
    "ready": "ready", "可用": "ready",
    "retired": "retired", "停用": "retired",
}
_SCORING_WORDS = {
    "partial": "partial", "部分得分": "partial",
    "all_or_nothing": "all_or_nothing", "全对得分": "all_or_nothing",
    "weighted": "weighted", "按权重": "weighted",
}


def _word(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().casefold())


def read_status(text: str) -> str:
    """The status a cell or comment names; an unknown word is kept for `validate` to report."""
    if not text.strip():
        return "ready"
    return _STATUS_WORDS.get(_word(text), text.strip())


def read_scoring(text: str) -> str:
    if not text.strip():
        return "partial"
    return _SCORING_WORDS.get(_word(text), text.strip())


# Blank answers in one cell or comment: blanks separated by `|`, the accepted variants of
# one blank by `/`; a backslash makes the next `|`, `/` or backslash literal.
_BLANK_TOKEN = re.compile(r"\\[\\|/]|[|/]|\\|[^\\|/]+")
_NEEDS_ESCAPE = re.compile(r"\\(?=[\\|/]|\Z)|[|/]")


def split_blanks(text: str) -> list[list[str]]:
    """`快|精/精确|准` -> `[["快"], ["精", "精确"], ["准"]]`; empty variants are dropped."""
    if not text.strip():
        return []
    blanks: list[list[str]] = []
    variants: list[str] = []
    current: list[str] = []
    for token in _BLANK_TOKEN.findall(text):
        if token in ("|", "/"):
            variants.append("".join(current))
            current = []
            if token == "|":
                blanks.append(variants)
                variants = []
        elif len(token) == 2 and token[0] == "\\":
            current.append(token[1])
        else:
            current.append(token)
    variants.append("".join(current))
    blanks.append(variants)
    return [[v.strip() for v in variants if v.strip()] for variants in blanks]


def join_blanks(blanks: list[list[str]]) -> str:
    """The inverse of `split_blanks`: escapes only what would otherwise be read as syntax."""
    def escape(variant: str) -> str:
        return _NEEDS_ESCAPE.sub(lambda m: "\\" + m.group(), variant)

    return "|".join("/".join(escape(v) for v in variants) for variants in blanks)
