"""The package's entry points: format detection, dispatch, export."""
from __future__ import annotations

import pytest

from trainer.bank.formats import (
    EXPORT_FORMATS,
    EXTENSIONS,
    FORMATS,
    FormatError,
    detect_format,
    export,
    parse,
)
from trainer.bank.schema import QuestionData


@pytest.mark.parametrize(("filename", "expected"), [
    ("bank.yaml", "yaml"), ("bank.YML", "yaml"), ("bank.json", "json"), ("题库.xlsx", "xlsx"),
    ("bank.csv", "csv"), ("bank.gift", "gift"), ("bank.aiken", "aiken"),
    ("C:\\Users\\老师\\Desktop\\题库.CSV", "csv"), ("/home/u/a.b.gift", "gift"),
])
def test_detect_by_extension(filename, expected):
    assert detect_format(filename, b"") == expected
    assert expected in FORMATS


@pytest.mark.parametrize(("text", "expected"), [
    ("题？\nA. 甲\nB. 乙\nANSWER: A\n", "aiken"),
    ("题？\nA. 甲\nB. 乙\nanswer: a\n", "aiken"),
    ("题？\nA、甲\nB、乙\n答案：A\n", "aiken"),
    ("题？{=甲 ~乙}\n", "gift"),
    ("题？\nA. 甲\nANSWER: A\n另一题 {T}\n", "gift"),
    ("只是一段文字\n", "gift"),
])
def test_txt_is_aiken_or_gift(text, expected):
    assert detect_format("bank.txt", text.encode("gbk")) == expected


def test_old_excel_files_get_their_own_message():
    with pytest.raises(FormatError, match="另存为”保存成 Excel 工作簿"):
        detect_format("bank.xls", b"\xd0\xcf\x11\xe0")


@pytest.mark.parametrize("filename", ["bank.docx", "bank", "bank.pdf"])
def test_unknown_extensions_list_the_accepted_ones(filename):
    with pytest.raises(FormatError) as caught:
        parse(filename, b"anything")
    message = caught.value.problem.message
    assert all(extension in message for extension in EXTENSIONS)
    assert caught.value.problem.line is None


def test_binary_garbage_is_refused_before_parsing():
    with pytest.raises(FormatError, match="文件不是文本文件"):
        detect_format("bank.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


@pytest.mark.parametrize("filename", ["bank.yaml", "bank.json", "bank.csv", "bank.gift", "bank.aiken", "bank.txt"])
def test_empty_files_report_that_there_are_no_questions(filename):
    result = parse(filename, b"")
    assert result.questions == [] and [p.message for p in result.problems] == ["文件中没有找到题目。"]


def test_export_formats():
    question = QuestionData(type="truefalse", stem="对吗？", answer=True)
    for fmt in EXPORT_FORMATS:
        assert parse(f"bank.{fmt}", export([question], fmt)).questions[0].data == question
    with pytest.raises(ValueError):
        export([question], "aiken")


def test_export_of_nothing():
    for fmt in EXPORT_FORMATS:
        result = parse(f"bank.{fmt}", export([], fmt))
        assert result.questions == [] and [p.message for p in result.problems] == ["文件中没有找到题目。"]
