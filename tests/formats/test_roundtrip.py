"""Every exporter's output reads back as the same questions (what its layout carries)."""
from __future__ import annotations

import csv
import io
import json

from hypothesis import given
from openpyxl import load_workbook

from trainer.bank.formats import export, parse
from trainer.bank.schema import Option, QuestionData

from .strategies import FAST, question_lists, questions


def read_back(filename: str, raw: bytes) -> list[QuestionData]:
    result = parse(filename, raw)
    assert result.problems == []
    return [parsed.data.canonical() for parsed in result.questions]


def canonical(questions: list[QuestionData]) -> list[QuestionData]:
    return [q.canonical() for q in questions]


def without_sheet_gaps(question: QuestionData) -> QuestionData:
    """What a spreadsheet row carries: no per-option feedback or weights, no true/false feedback."""
    data = question.canonical()
    data.options = [Option(o.text, o.correct) for o in data.options]
    data.feedback_true = data.feedback_false = ""
    return data


@FAST
@given(question_lists)
def test_yaml_round_trip(qs):
    assert read_back("bank.yaml", export(qs, "yaml")) == canonical(qs)


@FAST
@given(question_lists)
def test_json_reads_the_same_mappings(qs):
    document = {"format": "trainer-questions/1", "questions": [q.to_mapping() for q in qs]}
    raw = json.dumps(document, ensure_ascii=False, indent=2).encode()
    assert read_back("bank.json", raw) == canonical(qs)


@FAST
@given(question_lists)
def test_gift_round_trip(qs):
    assert read_back("bank.gift", export(qs, "gift")) == canonical(qs)


@FAST
@given(questions("single") | questions("multiple") | questions("blank"))
def test_gift_round_trip_per_type(question):
    assert read_back("bank.gift", export([question], "gift")) == canonical([question])


@FAST
@given(question_lists)
def test_xlsx_round_trip(qs):
    assert read_back("bank.xlsx", export(qs, "xlsx")) == [without_sheet_gaps(q) for q in qs]


def _as_csv(xlsx: bytes, delimiter: str) -> str:
    sheet = load_workbook(io.BytesIO(xlsx), read_only=True).worksheets[0]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    for row in sheet.iter_rows(values_only=True):
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


@FAST
@given(question_lists)
def test_csv_reads_the_sheet_layout(qs):
    text = _as_csv(export(qs, "xlsx"), ",")
    expected = [without_sheet_gaps(q) for q in qs]
    assert read_back("bank.csv", text.encode("utf-8-sig")) == expected
    assert read_back("bank.csv", _as_csv(export(qs, "xlsx"), "\t").encode("utf-16")) == expected
