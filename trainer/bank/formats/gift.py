"""Moodle's GIFT format, read the way Moodle reads it, plus the trainer's own metadata.

GIFT has no place for difficulty, points, status, lessons, exclusion groups, scoring schemes
or short-answer reference answers; they travel in `// [key:value]` comment lines, which Moodle ignores.
What the bank cannot hold (matching, numerical tolerances, descriptions) is reported per
question, and the rest of the file is still read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _

from ..schema import BLANK_MARK, Option, Problem, QuestionData
from .base import (
    CARRIED_PARTS,
    ParsedQuestion,
    ParseResult,
    check_count,
    join_blanks,
    read_scoring,
    read_status,
    split_blanks,
)
from .html_text import html_to_markdown, html_to_plain

# Characters a backslash makes literal; `\n` is a line break.
_ESCAPES = {"\\": "\\", "~": "~", "=": "=", "#": "#", "{": "{", "}": "}", ":": ":", "n": "\n"}
_ESCAPE = re.compile(r"\\[\\~=#{}:n]")
_SPECIAL = re.compile(r"[\\~=#{}:]")
_FORMAT_TAG = re.compile(r"\[(html|plain|markdown|moodle)\]")
_WEIGHT = re.compile(r"%(-?\d+(?:\.\d+)?)%")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_CATEGORY = "$CATEGORY:"
_META_ITEM = re.compile(r"\[([A-Za-z_]+):((?:\\.|[^\]\\])*)\]")
_META_ESCAPE = re.compile(r"\\([\\\]n])")
# Comment keys, and the part of a question each one carries when present.
_META_PARTS = (("difficulty", "difficulty"), ("points", "points"), ("status", "status"), ("lesson", "lesson"),
               ("tag", "tags"), ("scoring", "scoring"), ("group", "exclusion_group"))
_META_KEYS = ("id", "tag", "difficulty", "points", "status", "lesson", "group", "scoring", "reference", "point",
              "blanks")


class _Text:
    """GIFT source with its escapes resolved.

    `escaped[i]` is "1" where `text[i]` came from an escape, so searches for syntax
    characters skip it, while slices of `text` are already the final text.
    """

    __slots__ = ("escaped", "text")

    def __init__(self, text: str, escaped: str) -> None:
        self.text = text
        self.escaped = escaped

    @classmethod
    def parse(cls, source: str) -> _Text:
        texts: list[str] = []
        marks: list[str] = []
        position = 0
        for match in _ESCAPE.finditer(source):
            texts += [source[position:match.start()], _ESCAPES[match.group()[1]]]
            marks += ["0" * (match.start() - position), "1"]
            position = match.end()
        texts.append(source[position:])
        marks.append("0" * (len(source) - position))
        return cls("".join(texts), "".join(marks))

    def __getitem__(self, part: slice) -> _Text:
        return _Text(self.text[part], self.escaped[part])

    def _plain_at(self, index: int, length: int) -> bool:
        return "1" not in self.escaped[index:index + length]

    def find(self, syntax: str, start: int = 0) -> int:
        index = self.text.find(syntax, start)
        while index != -1 and not self._plain_at(index, len(syntax)):
            index = self.text.find(syntax, index + 1)
        return index

    def rfind(self, syntax: str) -> int:
        index = self.text.rfind(syntax)
        while index != -1 and not self._plain_at(index, len(syntax)):
            index = self.text.rfind(syntax, 0, index + len(syntax) - 1)
        return index

    def startswith(self, syntax: str) -> bool:
        return self.text.startswith(syntax) and self._plain_at(0, len(syntax))

    def strip(self) -> _Text:
        end = len(self.text.rstrip())
        return self[min(len(self.text) - len(self.text.lstrip()), end):end]

    def partition(self, syntax: str) -> tuple[_Text, _Text | None]:
        index = self.find(syntax)
        if index == -1:
            return self, None
        return self[:index], self[index + len(syntax):]

    def split_at(self, markers: str) -> list[tuple[str, _Text]]:
        """The pieces that start at each unescaped marker, as (marker, text after it); the
        text before the first marker comes with the marker ""."""
        cuts = [i for i, char in enumerate(self.text) if char in markers and self.escaped[i] == "0"]
        pieces = [("", self[:cuts[0] if cuts else len(self.text)])]
        for start, end in zip(cuts, [*cuts[1:], len(self.text)]):
            pieces.append((self.text[start], self[start + 1:end]))
        return pieces


def _final(piece: _Text | None, question_format: str | None = None, *, plain: bool = False) -> str:
    """A piece of answer text as stored: trimmed, without a `[markdown]`-style tag.

    As in Moodle, text without a tag of its own is in the question's format. HTML
    becomes the bank's Markdown, or plain text (`plain`) for an answer that is compared
    with what a trainee types."""
    if piece is None:
        return ""
    text = piece.text.strip()
    text_format = question_format
    match = _FORMAT_TAG.match(text)
    if match:
        text_format, text = match.group(1), text[match.end():].strip()
    if text_format == "html":
        return html_to_plain(text) if plain else html_to_markdown(text)
    return text


@dataclass
class _Metadata:
    """The `[key:value]` items of a question's comment lines, with their lines."""

    items: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @classmethod
    def read(cls, comments: list[tuple[int, str]]) -> _Metadata:
        metadata = cls()
        for number, line in comments:
            for match in _META_ITEM.finditer(line):
                key = match.group(1).lower()
                if key in _META_KEYS:
                    value = _META_ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), match.group(2))
                    metadata.items.setdefault(key, []).append((value.strip(), number))
        return metadata

    def __contains__(self, key: str) -> bool:
        return key in self.items

    def last(self, key: str) -> str | None:
        values = self.items.get(key)
        return values[-1][0] if values else None

    def all(self, key: str) -> list[str]:
        return [value for value, _line in self.items.get(key, [])]

    def line(self, key: str) -> int:
        return self.items[key][-1][1]


def read_gift(text: str, max_questions: int) -> ParseResult:
    result = ParseResult()
    category = ""
    count = 0
    for chunk in _chunks(text):
        comments = [(n, line.strip()) for n, line in chunk if line.strip().startswith("//")]
        body = [(n, line) for n, line in chunk if not line.strip().startswith("//")]
        if body and body[0][1].strip().startswith(_CATEGORY):
            category = _category(body[0][1])
            # Comments above the category line describe the category, not a question.
            comments = [(n, line) for n, line in comments if n > body[0][0]]
            body = body[1:]
        if not body:
            metadata = _Metadata.read(comments)
            if metadata.items:
                first = min(line for values in metadata.items.values() for _value, line in values)
                result.problems.append(Problem(_(
                    "这一组 [名称:值] 注释后面没有紧跟着题目，因此不会生效；注释和它所属的题目之间不能有空行。"),
                    line=first))
            continue
        count += 1
        check_count(count, max_questions)
        question = _QuestionReader(body, _Metadata.read(comments), category)
        parsed = question.read()
        if question.problems:
            result.problems.extend(question.problems)
        elif question.description:
            result.notices.append(Problem(_(
                "这段文字没有答案块 {…}，是 Moodle 的“说明”而不是题目，没有导入；如果它是题目，请补上答案块后重新导入。"),
                line=question.line))
        elif parsed is not None:
            result.questions.append(parsed)
    return result


def _chunks(text: str) -> list[list[tuple[int, str]]]:
    """Runs of non-blank lines with their 1-based numbers: blank lines separate questions."""
    chunks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            current.append((number, line))
        elif current:
            chunks.append(current)
            current = []
    if current:
        chunks.append(current)
    return chunks


def _category(line: str) -> str:
    """`$CATEGORY: $course$/top/a/b` -> `a/b`: the context and Moodle's root are not ours."""
    levels = line.strip()[len(_CATEGORY):].strip().split("/")
    if re.fullmatch(r"\$\w+\$", levels[0]):
        levels = levels[1:]
    if levels and levels[0].strip() == "top":
        levels = levels[1:]
    return "/".join(levels).strip()


class _QuestionReader:
    """One question's lines; `read` returns the question, or None with `problems` set."""

    def __init__(self, body: list[tuple[int, str]], metadata: _Metadata, category: str) -> None:
        self.line = body[0][0]
        self.source = "\n".join(line for _number, line in body)
        self.metadata = metadata
        self.category = category
        self.problems: list[Problem] = []
        self.description = False  # text without an answer block: Moodle's "description"
        self.empty_block = False
        self.format: str | None = None  # the question text's format tag: html, markdown, plain, moodle

    def problem(self, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(message, line=line or self.line))

    def read(self) -> ParsedQuestion | None:
        text = _Text.parse(self.source).strip()
        label = ""
        if text.startswith("::"):
            end = text.find("::", 2)
            if end == -1:
                self.problem(_("题目名称以 :: 开头，但缺少结尾的 ::。"))
                return None
            label = text[2:end].text.strip()
            text = text[end + 2:].strip()
        parts = self._split_block(text)
        if parts is None:
            return None
        before, answer, after = parts
        tag = _FORMAT_TAG.match(before.text)
        if tag:
            self.format, before = tag.group(1), before[tag.end():]
        general = ""
        separator = answer.rfind("####")
        if separator != -1:
            general = _final(answer[separator + 4:], self.format)
            answer = answer[:separator]
        answer = answer.strip()
        self.empty_block = not answer.text
        data = self._question(answer, general)
        if data is None:
            return None
        data.stem = _stem(before.text, after.text, blank=data.type == "blank", html=self.format == "html")
        self._apply_metadata(data)
        if self.problems:
            return None
        return ParsedQuestion(self.line, data, label=label, given=self._given())

    def _split_block(self, text: _Text) -> tuple[_Text, _Text, _Text] | None:
        """The text before the answer block, inside it and after it."""
        start, end = text.find("{"), text.find("}")
        if start == -1 and end == -1:
            self.description = True
            return None
        nested = text.find("{", start + 1)
        if start == -1 or end < start or -1 < nested < end:
            self.problem(_("答案块的花括号不配对：有 { 没有 }，或有 } 没有 {。题目文字中的花括号请写成 \\{ 和 \\}。"))
            return None
        after = text[end + 1:]
        if after.find("{") != -1 or after.find("}") != -1:
            self.problem(_("一道题只能有一个答案块 {…}：题目文字中的花括号请写成 \\{ 和 \\}，两道题之间要空一行。"))
            return None
        return text[:start], text[start + 1:end], after

    def _question(self, answer: _Text, general: str) -> QuestionData | None:
        if not answer.text:
            return self._essay(general)
        if answer.startswith("#"):
            return self._numerical(answer[1:], general)
        # A multiple choice whose options are all right has no `~`; its [scoring:…] comment
        # tells it from a short answer.
        if answer.find("~") != -1 or ("scoring" in self.metadata and answer.startswith("=")):
            return self._choice(answer, general)
        if answer.find("=") != -1 and answer.find("->") != -1:
            self.problem(_("不支持匹配题（答案中有 ->），这道题没有导入。"))
            return None
        head, feedback = answer.partition("#")
        if head.text.strip().upper() in _TRUE_FALSE:
            return self._truefalse(_TRUE_FALSE[head.text.strip().upper()], feedback, general)
        return self._short_answer(answer, general)

    def _choice(self, answer: _Text, general: str) -> QuestionData | None:
        options: list[Option] = []
        markers: list[str] = []
        for marker, piece in answer.split_at("=~"):
            piece = piece.strip()
            if not marker and not piece.text:
                continue
            weight = None
            match = _WEIGHT.match(piece.text)
            # As in Moodle, `=` means 100% and is never followed by a weight.
            if marker != "=" and match:
                weight = float(match.group(1))
                piece = piece[match.end():]
            text, feedback = piece.partition("#")
            option_text = _final(text, self.format)
            if not option_text:
                self.problem(_("答案块中有空的选项（= 或 ~ 后面没有内容）。"))
                return None
            markers.append(marker)
            correct = marker == "=" or (weight is not None and weight > 0)
            options.append(Option(option_text, correct, weight, _final(feedback, self.format)))
        data = QuestionData(type="single", stem="", options=options, explanation=general)
        scoring = self.metadata.last("scoring")
        if scoring is not None:
            data.type, data.scoring = "multiple", read_scoring(scoring)
            return data
        if markers.count("=") == 1:
            # Moodle: one `=` makes a single choice; `~%50%` answers beside it are wrong
            # answers that earn partial credit, not further right answers.
            for option, marker in zip(options, markers):
                option.correct = marker == "="
            return data
        right = [option for option in options if option.correct]
        if len(right) > 1 or any(option.weight not in (None, 100) for option in right):
            data.type, data.scoring = "multiple", "weighted"
        return data

    def _truefalse(self, answer: bool, feedback: _Text | None, general: str) -> QuestionData:
        wrong, right = feedback.partition("#") if feedback is not None else (None, None)
        # Moodle's order is "#shown when wrong#shown when right", whichever the answer is.
        shown_if_true, shown_if_false = (right, wrong) if answer else (wrong, right)
        return QuestionData(type="truefalse", stem="", answer=answer, feedback_true=_final(shown_if_true, self.format),
                            feedback_false=_final(shown_if_false, self.format), explanation=general)

    def _accepted(self, answer: _Text) -> list[_Text] | None:
        """The `=` answers of a short-answer or numerical block, weights removed;
        None (reported) when one gives only partial credit."""
        pieces = []
        for marker, piece in answer.split_at("="):
            piece = piece.strip()
            if not marker and not piece.text:
                continue
            piece = self._full_credit(piece)
            if piece is None:
                return None
            pieces.append(piece)
        return pieces

    def _short_answer(self, answer: _Text, general: str) -> QuestionData | None:
        pieces = self._accepted(answer)
        if pieces is None:
            return None
        variants = []
        for piece in pieces:
            # A blank keeps no feedback per accepted answer, so any is dropped.
            variant = _final(piece.partition("#")[0], self.format, plain=True)
            if not variant:
                self.problem(_("答案块中有空的答案（= 后面没有内容）。"))
                return None
            variants.append(variant)
        return QuestionData(type="blank", stem="", blanks=[variants], explanation=general)

    def _numerical(self, answer: _Text, general: str) -> QuestionData | None:
        # What follows `~` is the feedback for any wrong number; the bank has no place for it.
        cut = answer.find("~")
        if cut != -1:
            answer = answer[:cut]
        pieces = self._accepted(answer)
        if pieces is None:
            return None
        variants = []
        for piece in pieces:
            value = piece.partition("#")[0].text.strip()
            if self.format == "html":
                value = html_to_plain(value)
            if ".." in value:
                self.problem(_("不支持带范围的数值题（如 {#1..5}），只能导入精确的数值，如 {#2020}。"))
                return None
            if ":" in value:
                value, tolerance = (part.strip() for part in value.split(":", 1))
                if not _NUMBER.fullmatch(tolerance) or float(tolerance) != 0:
                    self.problem(_("不支持带误差的数值题（如 {#3.14:0.01}），只能导入精确的数值，如 {#2020}。"))
                    return None
            if not _NUMBER.fullmatch(value):
                self.problem(_("数值题的答案“%(value)s”不是数字。", value=value))
                return None
            variants.append(value)
        if not variants:
            self.problem(_("数值题的答案块中没有数字。"))
            return None
        return QuestionData(type="blank", stem="", blanks=[variants], explanation=general)

    def _full_credit(self, piece: _Text) -> _Text | None:
        """The answer without its weight; None (reported) when the weight gives partial credit."""
        match = _WEIGHT.match(piece.text)
        if not match:
            return piece
        if float(match.group(1)) != 100:
            self.problem(_(
                "填空题只接受完全正确的答案，不支持答案“%(answer)s”上的部分得分权重 %(weight)s；"
                "请删除这个答案或它的权重。", answer=_final(piece[match.end():].partition("#")[0], self.format, plain=True),
                weight=match.group()))
            return None
        return piece[match.end():]

    def _essay(self, general: str) -> QuestionData | None:
        blanks = self.metadata.last("blanks")
        if blanks is not None:
            return QuestionData(type="blank", stem="", blanks=split_blanks(blanks), explanation=general)
        reference = self.metadata.last("reference")
        if reference is None:
            # Moodle essays have no reference answer; their general feedback is where
            # instructors write the model answer.
            reference, general = general, ""
        if not reference:
            self.problem(_(
                "简答题需要参考答案：请在题目前加一行注释 // [reference:参考答案]，或在答案块中用 ####参考答案 写出。"))
            return None
        return QuestionData(type="short", stem="", reference_answer=reference,
                            scoring_points=self.metadata.all("point"), explanation=general)

    def _given(self) -> frozenset[str]:
        """What this question's text says: a Moodle file has no comments for the bank's own
        fields, and without `$CATEGORY:` no category; re-importing it keeps those."""
        missing = {part for key, part in _META_PARTS if key not in self.metadata}
        if not self.category:
            missing.add("category")
        return CARRIED_PARTS - missing

    def _apply_metadata(self, data: QuestionData) -> None:
        meta = self.metadata
        data.category = self.category
        data.idnumber = meta.last("id") or None
        data.tags = meta.all("tag")
        data.difficulty = self._integer("difficulty", 3)
        data.points = self._integer("points", 1)
        data.status = read_status(meta.last("status") or "")
        data.lesson = meta.last("lesson") or None
        data.exclusion_group = meta.last("group") or None
        allowed = {
            "scoring": (data.type == "multiple", _("注释 [scoring:…] 只适用于选择题的答案块 {=… ~…}。")),
            "reference": (data.type == "short", _("注释 [reference:…] 只适用于简答题（空的答案块 {}）。")),
            "point": (data.type == "short", _("注释 [point:…] 只适用于简答题（空的答案块 {}）。")),
            "blanks": (self.empty_block, _("注释 [blanks:…] 只适用于空的答案块 {}。")),
        }
        for key, (applies, message) in allowed.items():
            if key in meta and not applies:
                self.problem(message, line=meta.line(key))

    def _integer(self, key: str, default: int) -> int:
        value = self.metadata.last(key)
        if value is None:
            return default
        if not re.fullmatch(r"[+-]?\d+", value):
            self.problem(_("注释 [%(key)s:…] 的值应为整数，而不是“%(value)s”。", key=key, value=value),
                         line=self.metadata.line(key))
            return default
        return int(value)


def _stem(before: str, after: str, *, blank: bool, html: bool) -> str:
    """The question text (its format tag already taken off) with the answer block taken
    out, as Moodle does; a block inside the text leaves a blank mark where it stood."""
    stem = before + "___" + after if after.strip() else before.rstrip()
    if html:
        stem = html_to_markdown(stem)
    if blank and not after.strip() and not BLANK_MARK.search(stem):
        stem += " ___"
    return stem.strip()


def write_gift(questions: list[QuestionData]) -> bytes:
    parts = []
    category = ""
    for question in questions:
        data = question.canonical()
        if data.category != category:
            parts.append(f"$CATEGORY: $course$/top{'/' if data.category else ''}{data.category}\n")
            category = data.category
        parts.append(_write_question(data))
    return "\n".join(parts).encode("utf-8")


def _escape(text: str) -> str:
    return _SPECIAL.sub(lambda m: "\\" + m.group(), text).replace("\n", "\\n")


def _answer_text(text: str) -> str:
    """Escaped answer or feedback text that Moodle and `read_gift` take literally: a
    leading `%` would read as a weight and a leading `[html]` as a format tag, so such
    text is announced as Markdown first."""
    escaped = _escape(text)
    return "[markdown]" + escaped if text.startswith("%") or _FORMAT_TAG.match(text) else escaped


def _meta(key: str, value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace("]", "\\]").replace("\n", "\\n")
    return f"[{key}:{text}]"


def _number(value: float) -> str:
    """A weight as GIFT writes it: digits only (no exponent), and exactly the same float back."""
    return str(int(value)) if value.is_integer() else format(Decimal(repr(value)), "f")


def _marker(option: Option, qtype: str) -> str:
    """`=`, `~` or `~%weight%`. GIFT decides rightness by the weight, so a weight that
    contradicts the option's rightness cannot be written and is left out."""
    weight = option.weight
    if option.correct:
        # A single choice's right answer is always `=`: that `=` is what tells Moodle
        # (and our reader) that `~%50%` answers beside it are partial credit.
        if qtype == "multiple" and weight is not None and weight > 0:
            return f"~%{_number(weight)}%"
        return "="
    if weight is not None and (weight <= 0 or (qtype == "single" and weight < 100)):
        return f"~%{_number(weight)}%"
    return "~"


def _general(text: str) -> str:
    return "####" + _answer_text(text) if text else ""


def _short_answer_block(blanks: list[list[str]]) -> str | None:
    """`{=a =b}` for a question Moodle can read as short answer; None when it has more
    than one blank or an answer Moodle would read as a matching pair."""
    if len(blanks) != 1 or any("->" in variant for variant in blanks[0]):
        return None
    return " ".join("=" + _answer_text(variant) for variant in blanks[0])


def _write_question(data: QuestionData) -> str:
    metadata = []
    if data.idnumber:
        metadata.append(_meta("id", data.idnumber))
    metadata += [_meta("tag", tag) for tag in data.tags]
    metadata += [_meta("difficulty", data.difficulty), _meta("points", data.points), _meta("status", data.status)]
    if data.lesson:
        metadata.append(_meta("lesson", data.lesson))
    if data.exclusion_group:
        metadata.append(_meta("group", data.exclusion_group))
    lines = ["// " + " ".join(metadata)]
    general = _general(data.explanation)
    if data.type in ("single", "multiple"):
        if data.type == "multiple":
            lines[0] += " " + _meta("scoring", data.scoring)
        answers = []
        for option in data.options:
            feedback = "#" + _answer_text(option.feedback) if option.feedback else ""
            answers.append(f"\t{_marker(option, data.type)}{_answer_text(option.text)}{feedback}\n")
        block = "{\n" + "".join(answers) + (f"\t{general}\n" if general else "") + "}"
    elif data.type == "truefalse":
        right, wrong = (data.feedback_true, data.feedback_false) if data.answer else (data.feedback_false, data.feedback_true)
        feedback = ""
        if wrong or right:
            feedback = "#" + _answer_text(wrong) + ("#" + _answer_text(right) if right else "")
        block = "{" + ("TRUE" if data.answer else "FALSE") + feedback + general + "}"
    elif data.type == "blank" and (answers_text := _short_answer_block(data.blanks)) is not None:
        block = "{" + answers_text + general + "}"
    elif data.type == "blank":
        lines.append("// " + _meta("blanks", join_blanks(data.blanks)))
        block = "{" + general + "}"
    else:
        lines.append("// " + _meta("reference", data.reference_answer))
        if data.scoring_points:
            lines.append("// " + " ".join(_meta("point", point) for point in data.scoring_points))
        block = "{" + general + "}"
    name = f"::{_escape(data.idnumber)}::" if data.idnumber else ""
    lines.append(f"{name}[markdown]{_escape(data.stem)} {block}")
    return "\n".join(lines) + "\n"
