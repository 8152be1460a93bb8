"""Reading and writing question files, without a database or an application.

`parse` turns an upload into `QuestionData` plus every problem found, each with its line
or row; it checks the file's syntax only, and the importer runs `schema.validate` on the
questions. `export` writes questions back; see docs/question-formats.md for the formats.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

from flask_babel import gettext as _

from ..schema import Problem, QuestionData
from .aiken import looks_like_aiken, read_aiken
from .base import FormatError, ParsedQuestion, ParseResult
from .encoding import decode_text
from .gift import read_gift, write_gift
from .tabular import read_csv, read_xlsx, template, write_xlsx
from .yamlfmt import read_json, read_yaml, write_yaml

__all__ = [
    "EXPORT_FORMATS", "EXTENSIONS", "FORMATS", "FormatError", "ParseResult", "ParsedQuestion",
    "detect_format", "export", "parse", "xlsx_template",
]

FORMATS = ("yaml", "json", "xlsx", "csv", "gift", "aiken")
EXPORT_FORMATS = ("yaml", "xlsx", "gift")

# A `.txt` file is Aiken or GIFT depending on its content.
_KINDS = {
    ".yaml": "yaml", ".yml": "yaml", ".json": "json", ".xlsx": "xlsx", ".csv": "csv",
    ".gift": "gift", ".aiken": "aiken", ".txt": "txt",
}
EXTENSIONS = tuple(_KINDS)
_TEXT_READERS: dict[str, Callable[[str, int], ParseResult]] = {
    "yaml": read_yaml, "json": read_json, "csv": read_csv, "gift": read_gift, "aiken": read_aiken,
}
_WRITERS: dict[str, Callable[[list[QuestionData]], bytes]] = {
    "yaml": write_yaml, "xlsx": write_xlsx, "gift": write_gift,
}


def detect_format(filename: str, raw: bytes) -> str:
    """One of FORMATS, from the extension (and, for `.txt`, the content)."""
    return _detect(filename, raw)[0]


def _detect(filename: str, raw: bytes) -> tuple[str, str | None]:
    """The format, and the decoded text for text formats."""
    # Some browsers send the full Windows path of the upload.
    extension = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if extension == ".xls":
        raise FormatError(_("这是旧版 Excel（.xls）文件；请在 Excel 中用“另存为”保存成 Excel 工作簿（.xlsx）后再导入。"))
    kind = _KINDS.get(extension)
    if kind is None:
        raise FormatError(_(
            "不支持“%(name)s”这种文件；可以导入的文件类型有 %(extensions)s。",
            name=extension or filename, extensions="、".join(EXTENSIONS)))
    if kind == "xlsx":
        return kind, None
    text = decode_text(raw)
    if kind == "txt":
        kind = "aiken" if looks_like_aiken(text) else "gift"
    return kind, text


def parse(filename: str, raw: bytes, *, max_questions: int = 20_000) -> ParseResult:
    """Read an uploaded question file; FormatError when nothing in it can be read."""
    kind, text = _detect(filename, raw)
    if text is None:
        result = read_xlsx(raw, max_questions)
    else:
        result = _TEXT_READERS[kind](text, max_questions)
    if not result.questions and not result.problems:
        result.problems.append(Problem(_("文件中没有找到题目。")))
    return result


def export(questions: list[QuestionData], fmt: str) -> bytes:
    """The questions as a file of one of EXPORT_FORMATS."""
    if fmt not in _WRITERS:
        raise ValueError(f"cannot export to {fmt!r}; use one of {EXPORT_FORMATS}")
    return _WRITERS[fmt](questions)


def xlsx_template() -> bytes:
    """The Excel template: a header row, one example of each type, and a sheet of notes."""
    return template()
