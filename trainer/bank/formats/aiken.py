"""Moodle's Aiken format: single-choice questions in plain text.

    政务信息工作机制的标准是什么？
    A. 快、精、准
    B. 多、长、全
    ANSWER: A

The question text runs until the first option; questions are separated by blank lines.
Chinese documents write `A、` or full-width `Ａ．` and `答案：`, which are read too.
"""
from __future__ import annotations

import re
import unicodedata

from flask_babel import gettext as _

from ..schema import Option, Problem, QuestionData
from .base import ParsedQuestion, ParseResult, check_count

# An Aiken question is its stem, its options and the right one: nothing more.
AIKEN_CARRIES = frozenset({"type", "stem", "options", "answer"})

_OPTION = re.compile(r"^\s*([A-ZＡ-Ｚ])\s*[.)、．）]\s*(.*)$")
_ANSWER = re.compile(r"^\s*(?:ANSWER|答案)\s*[:：]\s*(.*)$", re.IGNORECASE)
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def looks_like_aiken(text: str) -> bool:
    """How a `.txt` file is told apart from GIFT: Aiken has answer lines and no braces."""
    return "{" not in text and any(_ANSWER.match(line) for line in text.split("\n"))


class _Draft:
    """A question being read, with the problems found in it so far."""

    def __init__(self, line: int) -> None:
        self.line = line
        self.stem: list[str] = []
        self.options: list[Option] = []
        self.stem_ended = False
        self.problems: list[Problem] = []

    def add_option(self, letter: str, text: str, line: int) -> None:
        position = len(self.options)
        if not self.problems and (position >= len(_LETTERS) or letter != _LETTERS[position]):
            self.problems.append(Problem(_(
                "选项字母 %(letter)s 不在顺序上：选项要从 A 开始，按 A、B、C… 的顺序排列。", letter=letter), line=line))
        self.options.append(Option(text))

    def finish(self, answer: str | None, line: int | None) -> ParsedQuestion | None:
        if len(self.options) < 2:
            self.problems.append(Problem(_(
                "这道题只有 %(count)d 个选项，至少要有 2 个（每行一个，如“A. …”）。", count=len(self.options)),
                line=self.line))
        elif answer is None:
            self.problems.append(Problem(_(
                "这道题缺少答案行：选项之后应有一行“ANSWER: 字母”，如 ANSWER: B。"), line=self.line))
        elif not self.problems:
            self._mark(answer, line)
        if self.problems:
            return None
        return ParsedQuestion(self.line, QuestionData(type="single", stem="\n".join(self.stem).strip(),
                                                      options=self.options), given=AIKEN_CARRIES)

    def _mark(self, answer: str, line: int | None) -> None:
        letter = unicodedata.normalize("NFKC", answer).strip().upper()
        if not letter:
            self.problems.append(Problem(_("答案行没有写出选项字母，应写作 ANSWER: B 这样。"), line=line))
        elif not re.fullmatch(r"[A-Z]", letter):
            self.problems.append(Problem(_(
                "答案行应为一个选项字母，如 ANSWER: B，而不是“%(value)s”；Aiken 格式只有单选题。",
                value=answer.strip()), line=line))
        elif _LETTERS.index(letter) >= len(self.options):
            self.problems.append(Problem(_(
                "答案 %(letter)s 没有对应的选项（这道题的选项是 A 到 %(last)s）。",
                letter=letter, last=_LETTERS[len(self.options) - 1]), line=line))
        else:
            self.options[_LETTERS.index(letter)].correct = True


def read_aiken(text: str, max_questions: int) -> ParseResult:
    result = ParseResult()
    draft: _Draft | None = None
    count = 0

    def finish(answer: str | None = None, line: int | None = None) -> None:
        nonlocal draft
        if draft is not None:
            question = draft.finish(answer, line)
            result.problems.extend(draft.problems)
            if question is not None:
                result.questions.append(question)
        draft = None

    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            if draft is not None and not draft.options:
                draft.stem_ended = True
            continue
        answer = _ANSWER.match(line)
        option = None if answer else _OPTION.match(line)
        if answer:
            if draft is None:
                result.problems.append(Problem(_("这一行是答案行，但它前面没有题目。"), line=number))
            finish(answer.group(1), number)
        elif option:
            if draft is None:
                result.problems.append(Problem(_("这一行是选项，但它前面没有题干。"), line=number))
            else:
                draft.add_option(unicodedata.normalize("NFKC", option.group(1)), option.group(2).strip(), number)
        else:
            # Text after options (or after a blank line) begins the next question, so the
            # one before it never got its answer line.
            if draft is not None and (draft.options or draft.stem_ended):
                finish()
            if draft is None:
                count += 1
                check_count(count, max_questions)
                draft = _Draft(number)
            draft.stem.append(line.rstrip())
    finish()
    return result
