from __future__ import annotations

import json

import pytest
import yaml

from trainer.bank.formats import FormatError, export, parse
from trainer.bank.schema import Option, QuestionData, validate

SPEC_EXAMPLE = """\
format: trainer-questions/1
category: 政务信息写作基础/三个理念     # default for questions without one
lesson: gov-info-writing/three-ideas   # default for questions without one
questions:
  - idnumber: GIW-03-001
    type: single
    stem: 讲话提出的第一个理念是什么？
    options:
      - {text: 奋力争先, correct: true}
      - {text: 推陈出新, correct: false, feedback: 这是第二个理念。}
      - {text: 有为才有位, correct: false}
    explanation: 讲话原文：“一是树立奋力争先的理念。”
    difficulty: 1
    points: 1
    tags: [三个理念]
  - type: blank
    stem: 政务信息工作机制的标准是做到___、___、___。
    blanks: [[快], [精], [准]]
  - type: truefalse
    stem: 讲话要求“一把手”对政务信息工作负总责。
    answer: true
  - type: short
    stem: 简述“四快”的内容。
    reference_answer: 发现问题快，采编撰写快，送阅审批快，信息上报快。
    scoring_points: [发现问题快, 采编撰写快, 送阅审批快, 信息上报快]
"""


def test_the_specification_example():
    result = parse("bank.yaml", SPEC_EXAMPLE.encode())
    assert result.problems == []
    assert result.defaults == {"category": "政务信息写作基础/三个理念", "lesson": "gov-info-writing/three-ideas"}
    assert [q.line for q in result.questions] == [5, 16, 19, 22]
    first = result.questions[0]
    assert first.label == "GIW-03-001"
    assert first.data == QuestionData(
        type="single", stem="讲话提出的第一个理念是什么？", idnumber="GIW-03-001",
        options=[Option("奋力争先", True), Option("推陈出新", False, None, "这是第二个理念。"), Option("有为才有位")],
        explanation="讲话原文：“一是树立奋力争先的理念。”", difficulty=1, points=1, tags=["三个理念"])
    # The file-level defaults are applied by the importer, not here.
    assert all(q.data.category == "" and q.data.lesson is None for q in result.questions)
    assert result.questions[1].data.blanks == [["快"], ["精"], ["准"]]
    assert result.questions[2].data.answer is True
    assert result.questions[3].data.scoring_points == ["发现问题快", "采编撰写快", "送阅审批快", "信息上报快"]


def test_a_bare_list_of_questions():
    result = parse("bank.yml", "- type: truefalse\n  stem: 对吗？\n  answer: 错\n".encode())
    assert result.problems == [] and result.defaults == {}
    assert result.questions[0].data.answer is False


def test_json_has_the_same_structure_and_lines():
    raw = json.dumps(yaml.safe_load(SPEC_EXAMPLE), ensure_ascii=False, indent=2).encode()
    yaml_result, json_result = parse("bank.yaml", SPEC_EXAMPLE.encode()), parse("bank.json", raw)
    assert json_result.problems == []
    assert [q.data for q in json_result.questions] == [q.data for q in yaml_result.questions]
    assert json_result.defaults == yaml_result.defaults
    lines = raw.decode().split("\n")
    assert all(lines[q.line - 1].strip() == "{" for q in json_result.questions)


def test_json_with_tabs_and_escaped_slashes():
    raw = b'{\n\t"questions": [\n\t\t{"type": "truefalse", "stem": "a\\/b", "answer": true}\n\t]\n}'
    result = parse("bank.json", raw)
    assert result.problems == []
    assert result.questions[0].line == 3 and result.questions[0].data.stem == "a/b"


def test_yaml_syntax_error_names_its_line():
    raw = b"questions:\n  - type: single\n    stem: [unclosed\n  - type: x\n"
    result = parse("bank.yaml", raw)
    assert result.questions == []
    (problem,) = result.problems
    assert problem.line is not None and problem.line >= 3
    assert problem.message.startswith("YAML 格式有误")


def test_json_syntax_error_names_its_line():
    result = parse("bank.json", b'{\n  "questions": [\n    {"type": "single",}\n  ]\n}')
    (problem,) = result.problems
    assert problem.line == 3 and problem.message.startswith("JSON 格式有误")


def test_question_with_structural_problems_is_reported_and_left_out():
    raw = """\
questions:
  - type: truefalse
    stem: 第一题
    answer: true
  - type: truefalse
    stem: 第二题
    answer: true
    colour: red
    difficulty: hard
""".encode()
    result = parse("bank.yaml", raw)
    assert [q.data.stem for q in result.questions] == ["第一题"]
    assert {p.line for p in result.problems} == {5}
    assert {p.message for p in result.problems} == {"未知字段“colour”", "“难度”应为整数，而不是“hard”"}


def test_items_that_are_not_mappings():
    result = parse("bank.yaml", b"questions:\n  - just a string\n  - [a, list]\n")
    assert result.questions == []
    assert [p.line for p in result.problems] == [2, 3]


@pytest.mark.parametrize(("document", "message"), [
    ("format: trainer-questions/2\nquestions: []\n", "不支持的文件格式“trainer-questions/2”"),
    ("format: trainer-questions/1\nquestion:\n  - type: single\n", "未知字段“question”"),
    ("format: trainer-questions/1\n", "缺少“questions:”"),
    ("questions: 12\n", "“questions”应为题目列表"),
    ("category: [a, b]\nquestions: []\n", "顶层的“category”应为一段文字"),
    ("just a sentence\n", "文件内容应以“format: trainer-questions/1”开头"),
])
def test_file_level_problems(document, message):
    result = parse("bank.yaml", document.encode())
    assert any(message in p.message for p in result.problems), result.problems


def test_anchors_and_aliases_are_refused():
    raw = b"""\
questions:
  - &base
    type: truefalse
    stem: a
    answer: true
  - *base
"""
    (problem,) = parse("bank.yaml", raw).problems
    assert "锚点和别名" in problem.message and problem.line == 2


def test_billion_laughs_does_not_expand():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    lines.append("questions: [{type: short, stem: s, reference_answer: *a11}]")
    (problem,) = parse("bank.yaml", "\n".join(lines).encode()).problems
    assert "锚点和别名" in problem.message


@pytest.mark.parametrize(("filename", "raw"), [
    ("bank.yaml", b"[" * 5000),
    ("bank.yaml", b"- " * 3000 + b"x"),
    ("bank.json", b"[" * 5000 + b"]" * 5000),
])
def test_deep_nesting_is_a_problem_not_a_crash(filename, raw):
    assert parse(filename, raw).problems


@pytest.mark.parametrize(("filename", "raw"), [
    ("bank.yaml", b"questions:\n  - type: short\n    stem: 2024-13-45\n"),
    ("bank.yaml", b"questions:\n  - type: short\n    points: " + b"9" * 5000 + b"\n"),
    ("bank.json", b'{"questions": [{"points": ' + b"9" * 5000 + b"}]}"),
    ("bank.yaml", b"questions: !!python/object:os.system {}\n"),
    ("bank.yaml", b"a: 1\n---\nb: 2\n"),
])
def test_values_that_cannot_be_built_are_problems(filename, raw):
    result = parse(filename, raw)
    assert result.problems and result.questions == []


def test_too_many_questions():
    raw = ("questions:\n" + "  - {type: truefalse, stem: s, answer: true}\n" * 4).encode()
    assert len(parse("bank.yaml", raw, max_questions=4).questions) == 4
    with pytest.raises(FormatError, match="超过了每个文件 3 道的上限"):
        parse("bank.yaml", raw, max_questions=3)


def test_export_is_readable_block_style():
    question = QuestionData(
        type="single", stem="第一段\n\n第二段：含冒号 # 和引号\"", idnumber="GIW-1",
        options=[Option("奋力争先", True), Option("推陈出新", weight=-50.0, feedback="这是第二个理念。")],
        tags=["三个理念"])
    text = export([question], "yaml").decode()
    assert text.startswith("format: trainer-questions/1\nquestions:\n  - idnumber: GIW-1\n")
    assert "    stem: |-\n      第一段\n\n      第二段：含冒号 # 和引号\"\n" in text
    assert "      - {text: 奋力争先, correct: true}\n" in text
    assert "tags: [三个理念]" in text
    assert "\\u" not in text
    assert parse("bank.yaml", text.encode()).questions[0].data == question.canonical()


def test_export_keeps_unicode_line_separators():
    question = QuestionData(type="short", stem="a\u2028b", reference_answer="c\u2029d\x85e")
    (parsed,) = parse("bank.yaml", export([question], "yaml")).questions
    assert parsed.data == question.canonical()


def test_exclusion_group_is_read_checked_and_written():
    result = parse("q.yaml", "questions:\n  - {type: truefalse, stem: 一把手负总责。, answer: true, exclusion_group: ' 一把手 '}\n".encode())
    (question,) = result.questions
    assert question.data.canonical().exclusion_group == "一把手"
    assert "exclusion_group: 一把手" in export([question.data], "yaml").decode()
    long = QuestionData(type="truefalse", stem="对吗？", answer=True, exclusion_group="组" * 51)
    assert [p.field for p in validate(long)] == ["exclusion_group"]
    two_lines = QuestionData(type="truefalse", stem="对吗？", answer=True, exclusion_group="甲\n乙")
    assert [p.message for p in validate(two_lines)] == ["“互斥组”中不能含有换行或其他控制字符"]
