"""Turning an uploaded text file into a string without asking the user for its encoding.

Instructors save files from Excel, WPS, Notepad and Moodle. What those write is UTF-8
(with or without a BOM), UTF-16 with a BOM (Excel's "Unicode text") or, on Chinese
Windows, GBK; GB18030 is the superset that reads GBK and GB2312 too.
"""
from __future__ import annotations

import codecs
import re

from flask_babel import gettext as _

from .base import FormatError

# Share of control characters above which a file is taken for binary data. Text saved
# by Word or Excel may carry a few stray ones (vertical tabs, an EOF mark), never many.
_BINARY_SHARE = 0.05
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(raw: bytes) -> str:
    """The text of `raw` with newlines normalized to `\\n`; FormatError if it is not text."""
    if raw.startswith(codecs.BOM_UTF8):
        text = _decode(raw[len(codecs.BOM_UTF8):], "utf-8", _(
            "文件开头标明是 UTF-8 编码，但这一行含有不是 UTF-8 的字节（文件可能是用 GBK 等编码保存的）；"
            "请用 UTF-8 编码重新保存后再导入。"))
        _reject_binary(text)
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode(raw, "utf-16", _(
            "文件开头标明是 UTF-16 编码（Excel 的“Unicode 文本”），但这一行的内容无法按 UTF-16 读取；"
            "请重新导出后再导入。"))
        _reject_binary(text)
    else:
        # latin-1 maps each byte to one character, so control bytes can be counted before
        # knowing the encoding: none of them occurs inside a UTF-8 or GB18030 sequence.
        _reject_binary(raw.decode("latin-1"))
        text = _decode_unmarked(raw)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(raw: bytes, encoding: str, message: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise FormatError(message, line=_line_at(raw, error.start, encoding)) from None


def _decode_unmarked(raw: bytes) -> str:
    failures = []
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as error:
            failures.append(error.start)
    # The encoding that read further is the likelier one, and so is its failure point.
    position = max(failures)
    raise FormatError(_(
        "无法识别文件的编码：这一行含有既不是 UTF-8 也不是 GBK/GB18030 的字节；"
        "请在编辑器中把文件另存为 UTF-8 编码后再导入。"), line=_line_at(raw, position, "latin-1"))


def _line_at(raw: bytes, position: int, encoding: str) -> int:
    before = raw[:position].decode(encoding, errors="replace")
    return before.count("\n") + before.count("\r") - before.count("\r\n") + 1


def _reject_binary(text: str) -> None:
    if "\x00" in text or len(_CONTROL.findall(text)) > _BINARY_SHARE * len(text):
        raise FormatError(_("文件不是文本文件（含有空字符或大量控制字符），请确认上传的是题目文件。"))
