from __future__ import annotations

import pytest

from trainer.bank.formats import FormatError, parse
from trainer.bank.schema import Option, QuestionData


def read(text: str, filename: str = "bank.aiken"):
    return parse(filename, text.encode())


def problems(text: str) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in read(text).problems]


def test_moodle_aiken():
    result = read("""\
政务信息工作机制的标准是什么？
A. 快、精、准
B. 多、长、全
C) 快、全、新
ANSWER: A

讲话提出的第一个理念是什么？
A. 奋力争先
B. 推陈出新
ANSWER: B
""")
    assert result.problems == []
    first, second = result.questions
    assert (first.line, second.line) == (1, 7)
    assert first.data == QuestionData(type="single", stem="政务信息工作机制的标准是什么？",
                                      options=[Option("快、精、准", True), Option("多、长、全"), Option("快、全、新")])
    assert [o.correct for o in second.data.options] == [False, True]


def test_chinese_punctuation_and_full_width_letters():
    result = read("题干第一行\n题干第二行\nＡ．甲\nB、乙\nＣ）丙\nD.丁\n答案：Ｃ\n")
    (question,) = result.questions
    assert question.data.stem == "题干第一行\n题干第二行"
    assert [o.text for o in question.data.options] == ["甲", "乙", "丙", "丁"]
    assert question.data.options[2].correct


@pytest.mark.parametrize("answer_line", ["ANSWER: B", "ANSWER：B", "answer:b", "答案：B", "答案: b", "  ANSWER :  B  "])
def test_answer_lines(answer_line):
    (question,) = read(f"题？\nA. 甲\nB. 乙\n{answer_line}\n").questions
    assert question.data.options[1].correct


def test_questions_without_blank_lines_between_them():
    result = read("一？\nA. 甲\nB. 乙\nANSWER: A\n二？\nA. 甲\nB. 乙\nANSWER: B\n")
    assert [q.line for q in result.questions] == [1, 5]


def test_blank_lines_inside_a_question_before_the_options_and_between_options():
    (question,) = read("题？\n\nA. 甲\n\nB. 乙\nANSWER: A\n").questions
    assert len(question.data.options) == 2


def test_windows_line_endings():
    raw = "题？\r\nA. 甲\r\nB. 乙\r\nANSWER: A\r\n".encode("gbk")
    assert parse("bank.aiken", raw).questions[0].data.options[0].text == "甲"


def test_errors_by_line():
    text = """\
只有一个选项？
A. 甲
ANSWER: A

缺少答案行？
A. 甲
B. 乙

答案没有对应的选项？
A. 甲
B. 乙
ANSWER: E

选项顺序不对？
A. 甲
C. 乙
ANSWER: A
ANSWER: B

答案不是一个字母？
A. 甲
B. 乙
ANSWER: AB

没有选项
下一题？
A. 甲
B. 乙
ANSWER:

最后一题缺少答案？
A. 甲
B. 乙
"""
    assert problems(text) == [
        (1, "这道题只有 1 个选项，至少要有 2 个（每行一个，如“A. …”）。"),
        (5, "这道题缺少答案行：选项之后应有一行“ANSWER: 字母”，如 ANSWER: B。"),
        (12, "答案 E 没有对应的选项（这道题的选项是 A 到 B）。"),
        (16, "选项字母 C 不在顺序上：选项要从 A 开始，按 A、B、C… 的顺序排列。"),
        (18, "这一行是答案行，但它前面没有题目。"),
        (23, "答案行应为一个选项字母，如 ANSWER: B，而不是“AB”；Aiken 格式只有单选题。"),
        (29, "答案行没有写出选项字母，应写作 ANSWER: B 这样。"),
        (31, "这道题缺少答案行：选项之后应有一行“ANSWER: 字母”，如 ANSWER: B。"),
    ]
    assert read(text).questions == []


def test_text_before_a_blank_line_without_options_is_reported():
    assert problems("文件标题\n\n题？\nA. 甲\nB. 乙\nANSWER: A\n") == [
        (1, "这道题只有 0 个选项，至少要有 2 个（每行一个，如“A. …”）。")]


def test_option_without_a_question():
    assert problems("A. 甲\n") == [(1, "这一行是选项，但它前面没有题干。")]


def test_txt_detection():
    aiken = "题？\nA. 甲\nB. 乙\nANSWER: A\n"
    assert read(aiken, "bank.txt").questions[0].data.type == "single"
    assert read("题？\nA. 甲\nB. 乙\n答案：A\n", "bank.txt").questions[0].data.options[0].correct


def test_too_many_questions():
    text = "题？\nA. 甲\nB. 乙\nANSWER: A\n\n" * 3
    assert len(read(text).questions) == 3
    with pytest.raises(FormatError, match="上限"):
        parse("bank.aiken", text.encode(), max_questions=2)
