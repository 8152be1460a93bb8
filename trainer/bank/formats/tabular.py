"""Question sheets: Excel (.xlsx) and CSV, one header row, then one question per row.

The layout carries every field except per-option feedback and weights and true/false
feedback; `write_xlsx` and `read_xlsx` round-trip everything else.
"""
from __future__ import annotations

import csv
import datetime
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..schema import FALSE_WORDS, TRUE_WORDS, Option, Problem, QuestionData, split_tags
from .base import (
    CARRIED_PARTS,
    FormatError,
    ParsedQuestion,
    ParseResult,
    check_count,
    join_blanks,
    read_scoring,
    read_status,
    split_blanks,
)

LETTERS = "ABCDEFGH"

# (key, header) in the order of the template; the headers are file content, so they
# stay Chinese whatever the interface language.
COLUMNS: list[tuple[str, str]] = [
    ("type", "题型"),
    ("stem", "题干"),
    *[(letter, "选项" + letter) for letter in LETTERS],
    ("answer", "答案"),
    ("explanation", "解析"),
    ("difficulty", "难度"),
    ("points", "分值"),
    ("category", "分类"),
    ("tags", "标签"),
    ("lesson", "所属课"),
    ("status", "状态"),
    ("idnumber", "外部编号"),
    ("scoring", "多选计分"),
    ("scoring_points", "评分要点"),
    ("exclusion_group", "互斥组"),
]
_HEADERS = dict(COLUMNS)
_REQUIRED = ("type", "stem")
_WIDTHS = {"type": 8, "stem": 50, "answer": 14, "explanation": 40, "difficulty": 6, "points": 6,
           "category": 26, "tags": 16, "lesson": 30, "status": 8, "idnumber": 16, "scoring": 10,
           "scoring_points": 36, "exclusion_group": 12}
_OPTION_WIDTH = 18

_TYPE_LABELS = {"single": "单选", "multiple": "多选", "truefalse": "判断", "blank": "填空", "short": "简答"}
_STATUS_LABELS = {"draft": "草稿", "ready": "可用", "retired": "停用"}
_SCORING_LABELS = {"partial": "部分得分", "all_or_nothing": "全对得分", "weighted": "按权重"}


def _fold(text: str) -> str:
    """How headers and keywords are compared: full-width as half-width, ignoring case,
    spaces, underscores, hyphens and slashes."""
    return re.sub(r"[\s_\-/]+", "", unicodedata.normalize("NFKC", text).casefold())


_ALIASES = {
    **{_fold(header): key for key, header in COLUMNS},
    **{_fold(key): key for key, _header in COLUMNS},
    _fold("题目"): "stem",
    _fold("正确答案"): "answer",
    _fold("答案解析"): "explanation",
    _fold("章节"): "lesson",  # the column's name before it was called 所属课
}
_TYPE_NAMES = {
    _fold(name): qtype
    for qtype, names in {
        "single": ("单选", "单选题", "单项选择", "单项选择题", "single", "single choice"),
        "multiple": ("多选", "多选题", "多项选择", "多项选择题", "multiple", "multiple choice"),
        "truefalse": ("判断", "判断题", "是非题", "truefalse", "true/false", "tf"),
        "blank": ("填空", "填空题", "blank", "fill in the blank"),
        "short": ("简答", "简答题", "问答", "问答题", "short", "essay"),
    }.items()
    for name in names
}
_ANSWER_SEPARATORS = re.compile(r"[\s,，、;；/|]+")
_DECIMAL = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def read_xlsx(raw: bytes, max_questions: int) -> ParseResult:
    return _read_rows(_xlsx_rows(raw, max_questions))


def read_csv(text: str, max_questions: int) -> ParseResult:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        rows = _collect(enumerate(reader, start=1), max_questions)
    except csv.Error as error:
        raise FormatError(_("CSV 文件格式有误：%(detail)s。", detail=str(error)), line=reader.line_num) from None
    return _read_rows(rows)


def _sniff_delimiter(text: str) -> str:
    """The separator the header row uses most: a header has at least 题型 and 题干."""
    header = text.lstrip().split("\n", 1)[0]
    counts = {delimiter: header.count(delimiter) for delimiter in (",", "\t", ";")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


# Excel files are zip archives; OLE2 is what old .xls and password-protected files use.
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An honest 10 MB workbook unpacks to well under this; a zip bomb does not.
_MAX_UNPACKED = 512 * 1024 * 1024


def _xlsx_rows(raw: bytes, max_questions: int) -> list[tuple[int, list[Any]]]:
    invalid = _("文件不是有效的 Excel 文件（.xlsx），可能已损坏；请在 Excel 中重新“另存为”Excel 工作簿后再导入。")
    if raw.startswith(_OLE2_MAGIC):
        raise FormatError(_(
            "这是旧版 Excel（.xls）文件或设置了打开密码的文件；请取消密码，并在 Excel 中“另存为”"
            "Excel 工作簿（.xlsx）后再导入。"))
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except Exception:
        # A damaged directory fails in many ways (BadZipFile, EOFError, even
        # an "unsupported zip version" error for a garbled version field); all mean "not a workbook".
        raise FormatError(invalid) from None
    if unpacked > _MAX_UNPACKED:
        raise FormatError(invalid)
    try:
        # openpyxl warns about features it drops (data validation, conditional
        # formatting, missing styles); none of them matter for reading values.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                # The stored dimension is often wrong in files other tools write.
                sheet.reset_dimensions()
                return _collect(enumerate(sheet.iter_rows(values_only=True), start=1), max_questions)
            finally:
                workbook.close()
    except FormatError:
        raise
    except Exception:
        # A damaged archive fails inside openpyxl or its XML parser in too many ways to
        # list (KeyError, ValueError, XML errors, ...); to the user they are all one thing.
        raise FormatError(invalid) from None


def _collect(rows: Iterable[tuple[int, Iterable[Any]]], max_questions: int) -> list[tuple[int, list[Any]]]:
    """The non-empty rows with their numbers; the first is the header."""
    kept: list[tuple[int, list[Any]]] = []
    for number, cells in rows:
        values = list(cells)
        if any(v is not None and (not isinstance(v, str) or v.strip()) for v in values):
            kept.append((number, values))
            check_count(len(kept) - 1, max_questions)
    return kept


def _read_rows(rows: list[tuple[int, list[Any]]]) -> ParseResult:
    result = ParseResult()
    if not rows:
        return result
    header_number, header = rows[0]
    columns = _read_header(header_number, header, result.problems)
    if columns is None:
        return result
    # The sheet has no place for option feedback, option weights or true/false feedback,
    # and a column left out of the sheet says nothing either.
    given = frozenset({"type", "stem", "options", "answer", "blanks", "reference_answer"} | columns.keys()) & CARRIED_PARTS
    for number, cells in rows[1:]:
        row = _Row(number, cells, columns)
        data = row.question()
        if row.problems:
            result.problems.extend(row.problems)
        elif data is not None:
            result.questions.append(ParsedQuestion(number, data, label=data.idnumber or "", given=given))
    return result


def _read_header(number: int, cells: list[Any], problems: list[Problem]) -> dict[str, tuple[int, str]] | None:
    """Column index and header as written, per field key; None without the required columns."""
    columns: dict[str, tuple[int, str]] = {}
    for index, cell in enumerate(cells):
        title = _plain(cell).strip()
        if not title:
            continue
        key = _ALIASES.get(_fold(title))
        if key is None:
            problems.append(Problem(_(
                "第 %(column)s 列的标题“%(title)s”不是可识别的列名；请改用模板中的列名（如 题型、题干、选项A、答案），"
                "或删除这一列。", column=get_column_letter(index + 1), title=title), line=number))
        elif key in columns:
            problems.append(Problem(_(
                "“%(title)s”列出现了不止一次（第 %(first)s 列和第 %(second)s 列），请只保留一列。",
                title=title, first=get_column_letter(columns[key][0] + 1), second=get_column_letter(index + 1)),
                line=number))
        else:
            columns[key] = (index, title)
    missing = [_HEADERS[key] for key in _REQUIRED if key not in columns]
    for header in missing:
        problems.append(Problem(_(
            "缺少必需的“%(title)s”列：第一行应为列标题，至少要有“题型”和“题干”两列。", title=header), line=number))
    return None if missing else columns


def _plain(value: Any) -> str:
    """A cell's text as the user typed it (Excel hands numbers over as floats like 3.0)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


class _Row:
    """One question row; collects the problems of its cells."""

    def __init__(self, number: int, cells: list[Any], columns: dict[str, tuple[int, str]]) -> None:
        self.number = number
        self.cells = cells
        self.columns = columns
        self.problems: list[Problem] = []

    def title(self, key: str) -> str:
        return self.columns[key][1] if key in self.columns else _HEADERS[key]

    def problem(self, key: str, message: str, field: str | None = None) -> None:
        self.problems.append(Problem(message, line=self.number, field=field or key))

    def value(self, key: str) -> Any:
        if key not in self.columns:
            return None
        index = self.columns[key][0]
        return self.cells[index] if index < len(self.cells) else None

    def text(self, key: str) -> str:
        value = self.value(key)
        if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
            self.problem(key, _(
                "“%(column)s”列的内容被 Excel 存成了日期或时间，无法还原原来输入的文字；"
                "请把这一列设为“文本”格式后重新输入。", column=self.title(key)))
            return ""
        return _plain(value)

    def integer(self, key: str, default: int) -> int:
        value = self.value(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return default
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            text = unicodedata.normalize("NFKC", _plain(value)).strip()
            number = float(text) if _DECIMAL.match(text) else math.nan
        if not number.is_integer():
            self.problem(key, _("“%(column)s”列应为整数，而不是“%(value)s”。",
                                column=self.title(key), value=_plain(value)))
            return default
        return int(number)

    def question(self) -> QuestionData | None:
        qtype = self._type()
        if qtype is None:
            return None
        data = QuestionData(
            type=qtype,
            stem=self.text("stem"),
            category=self.text("category").strip(),
            idnumber=self.text("idnumber").strip() or None,
            explanation=self.text("explanation"),
            difficulty=self.integer("difficulty", 3),
            points=self.integer("points", 1),
            tags=split_tags(self.text("tags")),
            lesson=self.text("lesson").strip() or None,
            status=read_status(self.text("status")),
            exclusion_group=self.text("exclusion_group").strip() or None,
        )
        answer = self.text("answer")
        if qtype in ("single", "multiple"):
            data.options = self._options(answer)
            if qtype == "multiple":
                data.scoring = read_scoring(self.text("scoring"))
        elif qtype == "truefalse":
            data.answer = self._truefalse(answer)
        elif qtype == "blank":
            data.blanks = split_blanks(answer)
        else:
            data.reference_answer = answer
            data.scoring_points = _split_points(self.text("scoring_points"))
        return data

    def _type(self) -> str | None:
        text = self.text("type").strip()
        if not text:
            self.problem("type", _("“%(column)s”列不能为空，应为 单选、多选、判断、填空 或 简答。",
                                   column=self.title("type")))
            return None
        qtype = _TYPE_NAMES.get(_fold(text))
        if qtype is None:
            self.problem("type", _("“%(column)s”列的“%(value)s”不是可识别的题型，应为 单选、多选、判断、填空 或 简答。",
                                   column=self.title("type"), value=text))
        return qtype

    def _options(self, answer: str) -> list[Option]:
        texts = [self.text(letter) for letter in LETTERS]
        count = max((i + 1 for i, text in enumerate(texts) if text.strip()), default=0)
        for letter, text in zip(LETTERS[:count], texts):
            if not text.strip():
                self.problem(letter, _("“%(column)s”为空，但它后面还有选项；选项要从选项A开始连续填写。",
                                       column=self.title(letter)), field="options")
                break
        options = [Option(text) for text in texts[:count]]
        letters = _ANSWER_SEPARATORS.sub("", unicodedata.normalize("NFKC", answer)).upper()
        for letter in dict.fromkeys(letters):
            if letter not in LETTERS:
                self.problem("answer", _("“%(column)s”列应为正确选项的字母，例如 B 或 ACD，而不是“%(value)s”。",
                                         column=self.title("answer"), value=answer.strip()))
                break
            if LETTERS.index(letter) >= count:
                self.problem("answer", _("“%(column)s”列中的 %(letter)s 没有对应的选项（这道题只有 %(count)d 个选项）。",
                                         column=self.title("answer"), letter=letter, count=count))
                break
            options[LETTERS.index(letter)].correct = True
        return options

    def _truefalse(self, answer: str) -> bool | None:
        word = unicodedata.normalize("NFKC", answer).strip().casefold()
        if not word:
            return None
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        self.problem("answer", _("“%(column)s”列应为 对 或 错（也可写 正确/错误、√/×、T/F），而不是“%(value)s”。",
                                 column=self.title("answer"), value=answer.strip()))
        return None


def _split_points(text: str) -> list[str]:
    """One scoring point a line; a cell without line breaks may separate them with `;`."""
    parts = text.split("\n") if "\n" in text else re.split(r"[;；]", text)
    return [part.strip() for part in parts if part.strip()]


def _join_points(points: list[str]) -> str:
    text = "\n".join(points)
    # A lone point containing `;` would be split on the way back in; a line break keeps
    # the reader in one-point-a-line mode.
    if len(points) == 1 and re.search(r"[;；]", text):
        text += "\n"
    return text


def _row_values(question: QuestionData) -> dict[str, Any]:
    data = question.canonical()
    values: dict[str, Any] = {
        "type": _TYPE_LABELS.get(data.type, data.type),
        "stem": data.stem,
        "explanation": data.explanation,
        "difficulty": data.difficulty,
        "points": data.points,
        "category": data.category,
        "tags": "、".join(data.tags),
        "lesson": data.lesson or "",
        "status": _STATUS_LABELS.get(data.status, data.status),
        "idnumber": data.idnumber or "",
        "exclusion_group": data.exclusion_group or "",
    }
    if data.type in ("single", "multiple"):
        for letter, option in zip(LETTERS, data.options):
            values[letter] = option.text
        values["answer"] = "".join(letter for letter, o in zip(LETTERS, data.options) if o.correct)
        if data.type == "multiple":
            values["scoring"] = _SCORING_LABELS.get(data.scoring, data.scoring)
    elif data.type == "truefalse":
        values["answer"] = "对" if data.answer else "错"
    elif data.type == "blank":
        values["answer"] = join_blanks(data.blanks)
    elif data.type == "short":
        values["answer"] = data.reference_answer
        values["scoring_points"] = _join_points(data.scoring_points)
    return values


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _header_cells(sheet, titles: list[str]) -> list[WriteOnlyCell]:
    cells = []
    for title in titles:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        cells.append(cell)
    return cells


def _value_cell(sheet, value: Any, as_text: bool = False) -> Any:
    if not isinstance(value, str):
        return value
    if not value:
        return None
    # Excel cannot hold these control characters at all; dropping them is the only way
    # to write the cell.
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not (as_text or value.startswith("=") or value in ERROR_CODES):
        return value
    # Text that openpyxl would store as a formula or an error value, and ids that Excel
    # would turn into numbers once edited, are forced to be text cells.
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    if as_text:
        cell.number_format = "@"
    return cell


def _question_sheet(workbook: Workbook, questions: Iterable[QuestionData]) -> None:
    sheet = workbook.create_sheet(_("题目"))
    for index, (key, _header) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(key, _OPTION_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.append(_header_cells(sheet, [header for _key, header in COLUMNS]))
    for question in questions:
        values = _row_values(question)
        sheet.append([_value_cell(sheet, values.get(key, ""), as_text=key == "idnumber") for key, _h in COLUMNS])


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_xlsx(questions: list[QuestionData]) -> bytes:
    workbook = Workbook(write_only=True)
    _question_sheet(workbook, questions)
    return _save(workbook)


def _examples() -> list[QuestionData]:
    category = "政务信息写作基础/三个理念"
    lesson = "gov-info-writing/three-ideas"
    return [
        QuestionData(
            type="single", idnumber="GIW-03-001", category=category, lesson=lesson,
            stem="讲话提出的第一个理念是什么？",
            options=[Option("奋力争先", True), Option("推陈出新"), Option("有为才有位")],
            explanation="讲话原文：“一是树立奋力争先的理念。”", difficulty=1, tags=["三个理念"]),
        QuestionData(
            type="multiple", idnumber="GIW-03-002", category=category, lesson=lesson,
            stem="政务信息工作中的“四快”包括哪些？",
            options=[Option("发现问题快", True), Option("采编撰写快", True), Option("送阅审批快", True),
                     Option("信息上报快", True), Option("排版印刷快")],
            explanation="“四快”即发现问题快、采编撰写快、送阅审批快、信息上报快。", difficulty=2, points=2,
            tags=["四快", "工作机制"]),
        QuestionData(
            type="truefalse", idnumber="GIW-03-003", category=category,
            stem="讲话要求“一把手”对政务信息工作负总责。", answer=True),
        QuestionData(
            type="blank", idnumber="GIW-03-004", category=category,
            stem="政务信息工作机制的标准是做到___、___、___。", blanks=[["快"], ["精", "精炼"], ["准"]],
            explanation="同一个空可以接受多个答案，用 / 分隔。"),
        QuestionData(
            type="short", idnumber="GIW-03-005", category=category, difficulty=4, points=5,
            stem="简述“四快”的内容。", reference_answer="发现问题快，采编撰写快，送阅审批快，信息上报快。",
            scoring_points=["发现问题快", "采编撰写快", "送阅审批快", "信息上报快"]),
    ]


def _column_notes() -> list[tuple[str, str, str, str]]:
    """(header, English alias, required, explanation) for the instructions sheet."""
    optional, required = _("选填"), _("必填")
    options = (
        "选项A … 选项H", "A … H", optional,
        _("单选题、多选题的选项，从选项A开始连续填写，至少 2 个，最多 8 个；其他题型留空。"))
    notes = {
        "type": (required, _("单选、多选、判断、填空 或 简答（也可写 single、multiple、truefalse、blank、short）。")),
        "stem": (required, _("题目正文，可以使用 Markdown。填空题用三个或更多下划线 ___ 标出每个空。")),
        "answer": (optional, _(
            "单选、多选：正确选项的字母，如 B 或 ACD（A,C 与 A、C 也可以）；判断：对 或 错（正确/错误、√/×、T/F 也可以）；"
            "填空：各空的答案用 | 分隔，同一个空的多个可接受答案用 / 分隔，答案本身含有 | 或 / 时写作 \\| 或 \\/；"
            "简答：参考答案。")),
        "explanation": (optional, _("答题后显示的解析。")),
        "difficulty": (optional, _("1（最容易）到 5（最难）的整数，不填为 3。")),
        "points": (optional, _("1 到 100 的整数，不填为 1。")),
        "category": (optional, _("题目所属分类，多级之间用 / 分隔，如 政务信息写作基础/三个理念；不填时使用导入页面上选择的分类。")),
        "tags": (optional, _("多个标签之间用 , ， 、 或 ; 分隔。")),
        "lesson": (optional, _(
            "题目所属的课：写课的标题（如 三个理念；几门课有同名的课时写作 政务信息写作基础 · 三个理念），"
            "或写作“课程代号/课代号”（如 gov-info-writing/three-ideas，导出的文件用这种写法）。")),
        "status": (optional, _("草稿、可用 或 停用，不填为 可用。")),
        "idnumber": (optional, _("可选的稳定编号（字母、数字和 - _ . :）；再次导入编号相同的题目时会更新原来的题目。")),
        "scoring": (optional, _("仅多选题：部分得分（默认；全部选对得满分，只选对一部分且没有选错得一半）、全对得分 或 按权重。")),
        "scoring_points": (optional, _("仅简答题：评分要点，每行一个（也可以在一行内用 ; 分隔）。")),
        "exclusion_group": (optional, _(
            "会互相泄露答案的几道题填同一个组名（不超过 50 个字符），随机组卷时同一组最多抽一道；不填表示不属于任何组。")),
    }
    rows: list[tuple[str, str, str, str]] = []
    for key, header in COLUMNS:
        if key == "A":
            rows.append(options)
        elif key in notes:
            rows.append((header, key, *notes[key]))
    return rows


def template() -> bytes:
    workbook = Workbook(write_only=True)
    _question_sheet(workbook, _examples())
    notes = workbook.create_sheet(_("说明"))
    for letter, width in zip("ABCD", (14, 16, 8, 90)):
        notes.column_dimensions[letter].width = width
    notes.freeze_panes = "A2"
    notes.append(_header_cells(notes, [_("列名"), _("英文列名"), _("是否必填"), _("说明")]))
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in _column_notes():
        cells = []
        for value in row:
            cell = WriteOnlyCell(notes, value=value)
            cell.alignment = wrap
            cells.append(cell)
        notes.append(cells)
    return _save(workbook)
