"""No input makes `parse` fail with anything but FormatError."""
from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer.bank.formats import FormatError, ParseResult, export, parse
from trainer.bank.formats.tabular import template

from .strategies import FAST

EXTENSIONS = ("yaml", "json", "xlsx", "csv", "gift", "aiken", "txt")


def parses_or_refuses(filename: str, raw: bytes) -> None:
    try:
        result = parse(filename, raw, max_questions=50)
    except FormatError as error:
        assert error.problem.message
        return
    assert isinstance(result, ParseResult)
    assert result.questions or result.problems
    for problem in result.problems:
        assert problem.message and (problem.line is None or problem.line >= 1)


@pytest.mark.parametrize("extension", EXTENSIONS)
@FAST
@given(raw=st.binary(max_size=400))
def test_random_bytes(extension, raw):
    parses_or_refuses(f"upload.{extension}", raw)


@pytest.mark.parametrize("extension", EXTENSIONS)
@FAST
@given(text=st.text(max_size=400))
def test_random_text(extension, text):
    parses_or_refuses(f"upload.{extension}", text.encode("utf-8", "surrogatepass"))


# Text made mostly of each format's syntax, which reaches much deeper than random text.
SYNTAX = {
    "gift": "{}=~#:%->\\n TF[]$CATEGORY//ab\n\n::.0123html",
    # Moodle's HTML mode, in tokens rather than characters so that tags actually form.
    "gift-html": ["[html]", "<p>", "</p>", "<b>", "</b>", "<em>", "<br>", "<ul>", "<li>", "</li>", "<a href=\"",
                  "\">", "</a>", "<img alt=\"", "&nbsp;", "&amp;", "&#39;", "&lt;", "{", "}", "=", "~", "#", "####",
                  "%50%", "\\", "\\:", "*", "_", "___", "`", "-", ">", " ", "\n", "\n\n", "::", "政务", "a"],
    "aiken": "ABCZ.)、．）Ａ ANSWER:答案：x\n\n",
    "csv": ',;\t"\n题型干单选多判断填空简答答案选项ABH对|/\\1.5',
    "yaml": "-:[]{}&*!|>'\"\n #?,questionsformat type stem 1",
    "json": '{}[]:,"\\ntypestemquestions0.5e-tru ',
}


@pytest.mark.parametrize("extension", sorted(SYNTAX))
@FAST
@given(data=st.data())
def test_syntax_soup(extension, data):
    alphabet = SYNTAX[extension]
    if isinstance(alphabet, list):
        text = "".join(data.draw(st.lists(st.sampled_from(alphabet), max_size=120)))
    else:
        text = data.draw(st.text(st.sampled_from(alphabet), max_size=300))
    parses_or_refuses(f"upload.{extension.split('-')[0]}", text.encode("utf-8"))


# Built once: workbooks carry their creation time, and the draws below depend on the length.
WORKBOOKS = (export([], "xlsx"), template())


@FAST
@given(data=st.data())
def test_damaged_workbooks(data):
    raw = bytearray(data.draw(st.sampled_from(WORKBOOKS)))
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    parses_or_refuses("upload.xlsx", bytes(raw))


def test_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    with pytest.raises(FormatError, match="不是有效的 Excel 文件"):
        parse("bank.xlsx", buffer.getvalue())


@pytest.mark.parametrize("damage", [
    lambda xml: xml[: len(xml) // 2],
    lambda xml: xml.replace(b"<row", b"<row r=\"x\"", 1),
    lambda xml: b"<not-a-sheet/>",
    lambda xml: xml.replace(b"<c ", b"<c t=\"weird\" ", 1),
], ids=["truncated", "bad-row-number", "wrong-root", "bad-cell-type"])
def test_workbook_with_a_damaged_sheet(damage):
    source = zipfile.ZipFile(io.BytesIO(template()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            content = source.read(info)
            archive.writestr(info, damage(content) if info.filename == "xl/worksheets/sheet1.xml" else content)
    parses_or_refuses("upload.xlsx", buffer.getvalue())
