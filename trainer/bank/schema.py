"""The question as every format, form and the database agree on it.

Parsers turn files into `QuestionData`; the bank stores it; exporters write it back.
Keeping one plain structure (no ORM objects) lets the parsers and validators be tested
without an application, and makes round-trips a matter of comparing dataclasses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

from flask_babel import gettext as _

QUESTION_TYPES = ("single", "multiple", "truefalse", "blank", "short")
STATUSES = ("draft", "ready", "retired")
SCORING_SCHEMES = ("partial", "all_or_nothing", "weighted")

MAX_OPTIONS = 8
MAX_STEM = 10_000
MAX_TEXT = 10_000
MAX_OPTION_TEXT = 2_000
MAX_CATEGORY_DEPTH = 8
MAX_NAME = 100
MAX_GROUP = 50

BLANK_MARK = re.compile(r"_{3,}")
IDNUMBER = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
LESSON_REF = re.compile(r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$")

# Translated lazily at call time: these name the field in every error message.
def field_label(name: str) -> str:
    labels = {
        "idnumber": _("外部编号"),
        "type": _("题型"),
        "category": _("分类"),
        "stem": _("题干"),
        "options": _("选项"),
        "scoring": _("多选计分"),
        "answer": _("答案"),
        "feedback_true": _("答“对”时的反馈"),
        "feedback_false": _("答“错”时的反馈"),
        "blanks": _("填空答案"),
        "reference_answer": _("参考答案"),
        "scoring_points": _("评分要点"),
        "explanation": _("解析"),
        "difficulty": _("难度"),
        "points": _("分值"),
        "tags": _("标签"),
        "lesson": _("所属课"),
        "status": _("状态"),
        "exclusion_group": _("互斥组"),
    }
    return labels.get(name, name)


def type_label(qtype: str) -> str:
    return {
        "single": _("单选题"),
        "multiple": _("多选题"),
        "truefalse": _("判断题"),
        "blank": _("填空题"),
        "short": _("简答题"),
    }.get(qtype, qtype)


def status_label(status: str) -> str:
    return {"draft": _("草稿"), "ready": _("可用"), "retired": _("停用")}.get(status, status)


def scoring_label(scheme: str) -> str:
    return {
        "partial": _("部分得分"),
        "all_or_nothing": _("全对得分"),
        "weighted": _("按权重"),
    }.get(scheme, scheme)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, as a complete Chinese sentence."""

    message: str
    line: int | None = None  # 1-based line of a text file or row of a sheet
    field: str | None = None  # the QuestionData field at fault, for forms

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return _("第 %(line)d 行：%(message)s", line=self.line, message=self.message)


@dataclass
class Option:
    text: str
    correct: bool = False
    weight: float | None = None  # percent, -100..100; only GIFT-style weighted scoring uses it
    feedback: str = ""


@dataclass
class QuestionData:
    type: str
    stem: str
    category: str = ""
    idnumber: str | None = None
    options: list[Option] = field(default_factory=list)
    scoring: str = "partial"
    answer: bool | None = None
    feedback_true: str = ""
    feedback_false: str = ""
    blanks: list[list[str]] = field(default_factory=list)
    reference_answer: str = ""
    scoring_points: list[str] = field(default_factory=list)
    explanation: str = ""
    difficulty: int = 3
    points: int = 1
    tags: list[str] = field(default_factory=list)
    lesson: str | None = None
    status: str = "ready"
    # Questions that would give each other away share a group; a random draw takes at
    # most one question of a group.
    exclusion_group: str | None = None

    def canonical(self) -> QuestionData:
        """The same question with the fields its type does not use cleared.

        Two questions that differ only in ignored fields are the same question, which
        is what re-imports and round-trips compare.
        """
        data = QuestionData(
            type=self.type,
            stem=self.stem.strip(),
            category=normalize_category(self.category) or "",
            idnumber=(self.idnumber or "").strip() or None,
            explanation=self.explanation.strip(),
            difficulty=self.difficulty,
            points=self.points,
            # Tags are a set: their order carries no meaning, so it must not make two
            # otherwise equal questions differ.
            tags=sorted(normalize_tags(self.tags)),
            lesson=(self.lesson or "").strip() or None,
            status=self.status,
            exclusion_group=(self.exclusion_group or "").strip() or None,
        )
        if self.type in ("single", "multiple"):
            data.options = [
                # A single choice's right option is worth 100% whether or not it says so.
                Option(o.text.strip(), bool(o.correct),
                       None if self.type == "single" and o.correct and o.weight == 100 else o.weight,
                       o.feedback.strip())
                for o in self.options
            ]
            if self.type == "multiple":
                data.scoring = self.scoring
        elif self.type == "truefalse":
            data.answer = self.answer
            data.feedback_true = self.feedback_true.strip()
            data.feedback_false = self.feedback_false.strip()
        elif self.type == "blank":
            data.blanks = [[v.strip() for v in variants if v.strip()] for variants in self.blanks]
        elif self.type == "short":
            data.reference_answer = self.reference_answer.strip()
            data.scoring_points = [p.strip() for p in self.scoring_points if p.strip()]
        return data

    def to_mapping(self) -> dict[str, Any]:
        """Plain data for YAML/JSON and for the database's content column.

        Only the fields the type uses, and only non-default optional values, so the
        YAML stays readable; `from_mapping` restores the defaults.
        """
        data = self.canonical()
        out: dict[str, Any] = {}
        if data.idnumber:
            out["idnumber"] = data.idnumber
        out["type"] = data.type
        if data.category:
            out["category"] = data.category
        out["stem"] = data.stem
        if data.type in ("single", "multiple"):
            opts = []
            for o in data.options:
                item: dict[str, Any] = {"text": o.text, "correct": o.correct}
                if o.weight is not None:
                    item["weight"] = o.weight
                if o.feedback:
                    item["feedback"] = o.feedback
                opts.append(item)
            out["options"] = opts
            if data.type == "multiple":
                out["scoring"] = data.scoring
        elif data.type == "truefalse":
            out["answer"] = data.answer
            if data.feedback_true:
                out["feedback_true"] = data.feedback_true
            if data.feedback_false:
                out["feedback_false"] = data.feedback_false
        elif data.type == "blank":
            out["blanks"] = [list(v) for v in data.blanks]
        elif data.type == "short":
            out["reference_answer"] = data.reference_answer
            if data.scoring_points:
                out["scoring_points"] = list(data.scoring_points)
        if data.explanation:
            out["explanation"] = data.explanation
        out["difficulty"] = data.difficulty
        out["points"] = data.points
        if data.tags:
            out["tags"] = list(data.tags)
        if data.lesson:
            out["lesson"] = data.lesson
        out["status"] = data.status
        if data.exclusion_group:
            out["exclusion_group"] = data.exclusion_group
        return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _bool(value: Any, name: str, problems: list[Problem]) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _text(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    problems.append(Problem(_("“%(field)s”应为 true 或 false，而不是“%(value)s”", field=field_label(name), value=_text(value)), field=name))
    return None


def _int(value: Any, name: str, default: int, problems: list[Problem]) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        problems.append(Problem(_("“%(field)s”应为整数", field=field_label(name)), field=name))
        return default
    try:
        number = float(_text(value).strip())
    except ValueError:
        number = float("nan")
    if number != number or not number.is_integer():
        problems.append(Problem(_("“%(field)s”应为整数，而不是“%(value)s”", field=field_label(name), value=_text(value)), field=name))
        return default
    return int(number)


def _str_list(value: Any, name: str, problems: list[Problem]) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value if v is not None]
    problems.append(Problem(_("“%(field)s”应为列表", field=field_label(name)), field=name))
    return []


TEXT_FIELDS = ("type", "stem", "category", "idnumber", "scoring", "feedback_true", "feedback_false", "reference_answer", "explanation", "lesson", "status", "exclusion_group")
TRUE_WORDS = {"true", "t", "yes", "y", "1", "对", "正确", "是", "√", "✓", "✔"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "错", "错误", "否", "×", "✗", "✘", "x"}


def from_mapping(raw: Any, line: int | None = None) -> tuple[QuestionData | None, list[Problem]]:
    """Read one question of the YAML/JSON format (or the database's content column).

    Returns the data and the structural problems (wrong types, unknown keys); the
    question's own rules are checked by `validate`.
    """
    problems: list[Problem] = []
    if not isinstance(raw, dict):
        return None, [Problem(_("每道题应是一组“字段: 值”"), line=line)]
    known = {f.name for f in fields(QuestionData)}
    for key in raw:
        if key not in known:
            problems.append(Problem(_("未知字段“%(field)s”", field=key), line=line))
    for key in TEXT_FIELDS:
        if isinstance(raw.get(key), (dict, list)):
            problems.append(Problem(_("“%(field)s”应为文字", field=field_label(key)), line=line, field=key))
    qtype = _text(raw.get("type")).strip()
    stem = raw.get("stem")
    if qtype not in QUESTION_TYPES:
        problems.append(Problem(
            _("“题型”应为 %(types)s 之一，而不是“%(value)s”", types=", ".join(QUESTION_TYPES), value=qtype),
            line=line, field="type"))
    options: list[Option] = []
    raw_options = raw.get("options") or []
    if not isinstance(raw_options, list):
        problems.append(Problem(_("“选项”应为列表"), line=line, field="options"))
        raw_options = []
    for index, item in enumerate(raw_options, start=1):
        if isinstance(item, str):
            options.append(Option(item))
            continue
        if not isinstance(item, dict) or "text" not in item:
            problems.append(Problem(_("第 %(n)d 个选项应有 text 字段", n=index), line=line, field="options"))
            continue
        unknown = set(item) - {"text", "correct", "weight", "feedback"}
        if unknown:
            problems.append(Problem(_("第 %(n)d 个选项有未知字段“%(field)s”", n=index, field="、".join(sorted(unknown))), line=line, field="options"))
        weight = item.get("weight")
        if weight is not None:
            try:
                weight = float(weight)
            except (TypeError, ValueError):
                problems.append(Problem(_("第 %(n)d 个选项的权重应为数字", n=index), line=line, field="options"))
                weight = None
        correct = _bool(item.get("correct", False), "options", problems)
        options.append(Option(_text(item["text"]), bool(correct), weight, _text(item.get("feedback"))))
    answer = raw.get("answer")
    if qtype == "truefalse":
        answer = _bool(answer, "answer", problems) if answer is not None else None
    blanks: list[list[str]] = []
    raw_blanks = raw.get("blanks") or []
    if not isinstance(raw_blanks, list):
        problems.append(Problem(_("“填空答案”应为列表"), line=line, field="blanks"))
        raw_blanks = []
    for variants in raw_blanks:
        blanks.append(_str_list(variants, "blanks", problems))
    data = QuestionData(
        type=qtype,
        stem=_text(stem),
        category=_text(raw.get("category")),
        idnumber=_text(raw.get("idnumber")).strip() or None,
        options=options,
        scoring=_text(raw.get("scoring") or "partial").strip(),
        answer=answer if isinstance(answer, bool) else None,
        feedback_true=_text(raw.get("feedback_true")),
        feedback_false=_text(raw.get("feedback_false")),
        blanks=blanks,
        reference_answer=_text(raw.get("reference_answer")),
        scoring_points=_str_list(raw.get("scoring_points"), "scoring_points", problems),
        explanation=_text(raw.get("explanation")),
        difficulty=_int(raw.get("difficulty"), "difficulty", 3, problems),
        points=_int(raw.get("points"), "points", 1, problems),
        tags=_str_list(raw.get("tags"), "tags", problems),
        lesson=_text(raw.get("lesson")).strip() or None,
        status=_text(raw.get("status") or "ready").strip(),
        exclusion_group=_text(raw.get("exclusion_group")).strip() or None,
    )
    return data, [Problem(p.message, line, p.field) if p.line is None else p for p in problems]


def normalize_category(path: str | None) -> str | None:
    """`a / b/ c` -> `a/b/c`; None when a level is empty."""
    if path is None:
        return None
    parts = [p.strip() for p in path.strip().strip("/").split("/")]
    if not parts or any(not p for p in parts):
        return None
    return "/".join(parts)


def normalize_tags(tags: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        tag = tag.strip()
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


TAG_SEPARATORS = re.compile(r"[,，、;；]")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def split_tags(text: str) -> list[str]:
    return normalize_tags(TAG_SEPARATORS.split(text or ""))


def _texts_by_field(data: QuestionData) -> list[tuple[str, list[str]]]:
    return [
        ("stem", [data.stem]),
        ("category", [data.category]),
        ("idnumber", [data.idnumber or ""]),
        ("options", [t for o in data.options for t in (o.text, o.feedback)]),
        ("answer", [data.feedback_true, data.feedback_false]),
        ("blanks", [v for variants in data.blanks for v in variants]),
        ("reference_answer", [data.reference_answer]),
        ("scoring_points", data.scoring_points),
        ("explanation", [data.explanation]),
        ("tags", data.tags),
        ("lesson", [data.lesson or ""]),
        ("exclusion_group", [data.exclusion_group or ""]),
    ]


def category_problems(path: str) -> list[str]:
    """What is wrong with a category path a user typed (empty when nothing is)."""
    normalized = normalize_category(path)
    if normalized is None:
        return [_("“分类”路径中有空的层级：“%(path)s”", path=path)]
    problems = []
    levels = normalized.split("/")
    if len(levels) > MAX_CATEGORY_DEPTH:
        problems.append(_("“分类”最多 %(n)d 层", n=MAX_CATEGORY_DEPTH))
    if any(len(level) > MAX_NAME for level in levels):
        problems.append(_("“分类”每一层不能超过 %(n)d 个字符", n=MAX_NAME))
    if CONTROL_CHARS.search(path):
        problems.append(_("“分类”中不能含有换行或其他控制字符"))
    return problems


def validate(data: QuestionData, line: int | None = None) -> list[Problem]:
    """The rules every question obeys, whichever way it came in."""
    problems: list[Problem] = []

    def add(name: str, message: str) -> None:
        problems.append(Problem(message, line=line, field=name))

    if data.type not in QUESTION_TYPES:
        add("type", _("“题型”应为 %(types)s 之一", types="、".join(type_label(t) for t in QUESTION_TYPES)))
        return problems
    for name, texts in _texts_by_field(data):
        if any("\x00" in text for text in texts):
            add(name, _("“%(field)s”中含有空字符（NUL），请删除后再试", field=field_label(name)))
    stem = data.stem.strip()
    if not stem:
        add("stem", _("“题干”不能为空"))
    elif len(stem) > MAX_STEM:
        add("stem", _("“题干”不能超过 %(n)d 个字符", n=MAX_STEM))
    if data.idnumber is not None and not IDNUMBER.match(data.idnumber):
        add("idnumber", _("“外部编号”只能包含字母、数字和 - _ . :，且不超过 100 个字符"))
    if data.category.strip():
        for message in category_problems(data.category):
            add("category", message)
    if not 1 <= data.difficulty <= 5:
        add("difficulty", _("“难度”应在 1 到 5 之间"))
    if not 1 <= data.points <= 100:
        add("points", _("“分值”应为 1 到 100 的整数"))
    if data.status not in STATUSES:
        add("status", _("“状态”应为 草稿、可用 或 停用"))
    if data.lesson and not LESSON_REF.match(data.lesson):
        add("lesson", _("“所属课”应写作课的标题（如“三个理念”）或“课程代号/课代号”（如 gov-info-writing/three-ideas）"))
    for tag in data.tags:
        if len(tag.strip()) > 50:
            add("tags", _("标签“%(tag)s”超过 50 个字符", tag=tag[:20]))
        if TAG_SEPARATORS.search(tag):
            add("tags", _("标签“%(tag)s”中不能含有 , ， 、 ; ；", tag=tag[:20]))
    if data.exclusion_group:
        if len(data.exclusion_group.strip()) > MAX_GROUP:
            add("exclusion_group", _("“互斥组”不能超过 %(n)d 个字符", n=MAX_GROUP))
        if CONTROL_CHARS.search(data.exclusion_group):
            add("exclusion_group", _("“互斥组”中不能含有换行或其他控制字符"))
    if len(data.explanation) > MAX_TEXT:
        add("explanation", _("“解析”不能超过 %(n)d 个字符", n=MAX_TEXT))

    if data.type in ("single", "multiple"):
        options = [o for o in data.options]
        if any(not o.text.strip() for o in options):
            add("options", _("选项内容不能为空"))
        if len(options) < 2:
            add("options", _("“选项”至少要有 2 个"))
        if len(options) > MAX_OPTIONS:
            add("options", _("“选项”最多 %(n)d 个", n=MAX_OPTIONS))
        if any(len(o.text) > MAX_OPTION_TEXT for o in options):
            add("options", _("每个选项不能超过 %(n)d 个字符", n=MAX_OPTION_TEXT))
        texts = [o.text.strip() for o in options if o.text.strip()]
        if len(set(texts)) != len(texts):
            add("options", _("“选项”中有重复的内容"))
        right = sum(1 for o in options if o.correct)
        if data.type == "single" and right != 1:
            add("answer", _("单选题必须恰好有 1 个正确选项（现在有 %(n)d 个）", n=right))
        if data.type == "multiple":
            if right < 1:
                add("answer", _("多选题至少要有 1 个正确选项"))
            if data.scoring not in SCORING_SCHEMES:
                add("scoring", _("“多选计分”应为 部分得分、全对得分 或 按权重"))
        for o in options:
            if o.weight is None:
                continue
            if not -100 <= o.weight <= 100:
                add("options", _("选项权重应在 -100 到 100 之间"))
                break
            # GIFT spells rightness through weights, so the two must never disagree; a
            # single choice may give a wrong option partial credit, as Moodle does.
            if o.correct and (o.weight <= 0 or (data.type == "single" and o.weight != 100)):
                add("options", _("正确选项的权重应为正数（单选题的正确选项只能是 100）"))
                break
            if not o.correct and data.type == "multiple" and o.weight > 0:
                add("options", _("多选题错误选项的权重不能为正数"))
                break
            if not o.correct and o.weight >= 100:
                add("options", _("错误选项的权重应小于 100（100 表示完全正确）"))
                break
    elif data.type == "truefalse":
        if data.answer is None:
            add("answer", _("判断题要给出答案：对 或 错"))
    elif data.type == "blank":
        marks = len(BLANK_MARK.findall(data.stem))
        if not data.blanks:
            add("blanks", _("填空题至少要有 1 个空"))
        elif marks != len(data.blanks):
            add("blanks", _("题干中用 ___ 标出的空有 %(marks)d 个，答案却有 %(blanks)d 组", marks=marks, blanks=len(data.blanks)))
        for index, variants in enumerate(data.blanks, start=1):
            if not [v for v in variants if v.strip()]:
                add("blanks", _("第 %(n)d 个空至少要有 1 个可接受的答案", n=index))
    elif data.type == "short":
        if any("\n" in p or "\r" in p for p in data.scoring_points):
            add("scoring_points", _("每个评分要点只能占一行"))
        if not data.reference_answer.strip():
            add("reference_answer", _("简答题要有“参考答案”"))
        elif len(data.reference_answer) > MAX_TEXT:
            add("reference_answer", _("“参考答案”不能超过 %(n)d 个字符", n=MAX_TEXT))
    return problems


_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20


def normalize_answer(text: str) -> str:
    """How a filled-in blank is compared: full-width forms as half-width, surrounding
    and repeated white space ignored, Latin letters without case."""
    text = (text or "").translate(_FULLWIDTH)
    return " ".join(text.split()).casefold()


def blank_is_correct(given: str, variants: list[str]) -> bool:
    wanted = normalize_answer(given)
    return bool(wanted) and any(wanted == normalize_answer(v) for v in variants)
