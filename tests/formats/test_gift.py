from __future__ import annotations

import codecs

import pytest

from trainer.bank.formats import export, parse
from trainer.bank.schema import Option, QuestionData
from trainer.bank.scoring import score


def read(text: str):
    return parse("bank.gift", text.encode())


def only(text: str) -> QuestionData:
    result = read(text)
    assert result.problems == []
    (question,) = result.questions
    return question.data


def problem_lines(text: str) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in read(text).problems]


# ---------------------------------------------------------------- multiple choice


def test_single_choice():
    data = only("讲话提出的第一个理念是什么？{=奋力争先 ~推陈出新 ~有为才有位}")
    assert data == QuestionData(type="single", stem="讲话提出的第一个理念是什么？",
                                options=[Option("奋力争先", True), Option("推陈出新"), Option("有为才有位")])


def test_answers_on_their_own_lines_with_feedback():
    data = only("""\
::Q1:: 第一个理念？ {
    =奋力争先#对，这是第一个。
    ~推陈出新#这是第二个理念。
    ~有为才有位
}""")
    assert data.options == [Option("奋力争先", True, None, "对，这是第一个。"),
                            Option("推陈出新", False, None, "这是第二个理念。"), Option("有为才有位")]


def test_weights_on_wrong_options_of_a_single_choice():
    data = only("题？{=对 ~%-50%错 ~%-33.33333%也错 ~%0%不扣分}")
    assert data.type == "single"
    assert [(o.correct, o.weight) for o in data.options] == [(True, None), (False, -50.0), (False, -33.33333), (False, 0.0)]


def test_a_single_right_answer_by_weight():
    data = only("题？{~%100%对 ~错}")
    assert data.type == "single" and data.options[0] == Option("对", True, 100.0)


@pytest.mark.parametrize("block", [
    "{=甲 =乙 ~丙}",
    "{~%50%甲 ~%50%乙 ~%-100%丙}",
    "{~%50%甲 ~丙}",
])
def test_several_right_answers_make_a_weighted_multiple_choice(block):
    data = only("选出正确的：" + block)
    assert data.type == "multiple" and data.scoring == "weighted"
    assert data.options[0].correct and not data.options[-1].correct


def test_one_equals_sign_makes_a_single_choice_with_partial_credit_as_in_moodle():
    data = only("题？{=甲 ~%50%乙 ~%-25%丙 ~丁}")
    assert data.type == "single"
    assert [(o.correct, o.weight) for o in data.options] == [(True, None), (False, 50.0), (False, -25.0), (False, None)]
    assert score(data, 0) == data.points and score(data, 1) == data.points / 2 and score(data, 3) == 0
    again = only(export([data], "gift").decode("utf-8"))
    assert again.options == data.options and again.type == "single"


def test_weights_are_kept():
    data = only("题？{~%50%甲 ~%50%乙 ~%-100%丙}")
    assert [o.weight for o in data.options] == [50.0, 50.0, -100.0]


def test_scoring_comment_makes_a_multiple_choice():
    data = only("// [scoring:partial]\n题？{=甲 ~乙}")
    assert (data.type, data.scoring) == ("multiple", "partial")
    assert only("// [scoring:全对得分]\n题？{=甲 =乙}").scoring == "all_or_nothing"


def test_equals_is_never_followed_by_a_weight():
    assert only("题？{=%50%甲 ~乙}").options[0] == Option("%50%甲", True)


def test_answer_block_inside_the_text_leaves_a_blank():
    data = only("Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert data.stem == "Grant is ___ in Grant's tomb." and data.type == "single"


def test_a_weight_that_is_not_a_number_is_text():
    assert only("题？{=甲 ~%abc%乙}").options[1] == Option("%abc%乙")


# ---------------------------------------------------------------- true / false


@pytest.mark.parametrize(("block", "answer"), [
    ("{T}", True), ("{TRUE}", True), ("{F}", False), ("{FALSE}", False), ("{true}", True), ("{ f }", False),
])
def test_true_false(block, answer):
    data = only("一把手负总责。" + block)
    assert data.type == "truefalse" and data.answer is answer and data.stem == "一把手负总责。"


def test_true_false_feedback_order():
    # Moodle: the first feedback is shown for a wrong answer, the second for a right one.
    true_question = only("对吗？{T#答错了#答对了}")
    assert (true_question.feedback_true, true_question.feedback_false) == ("答对了", "答错了")
    false_question = only("对吗？{F#答错了#答对了}")
    assert (false_question.feedback_true, false_question.feedback_false) == ("答错了", "答对了")
    only_right = only("对吗？{TRUE##答对了}")
    assert (only_right.feedback_true, only_right.feedback_false) == ("答对了", "")


# ---------------------------------------------------------------- blanks


def test_short_answer_becomes_a_blank_at_the_end():
    data = only("中华人民共和国的首都是？{=北京 =北京市}")
    assert data.type == "blank" and data.stem == "中华人民共和国的首都是？ ___"
    assert data.blanks == [["北京", "北京市"]]


def test_missing_word():
    data = only("政务信息要做到快、{=精}、准。")
    assert data.stem == "政务信息要做到快、___、准。" and data.blanks == [["精"]]


def test_an_existing_blank_mark_is_used():
    assert only("首都是_____。{=北京}").stem == "首都是_____。"


def test_short_answer_without_equals_and_with_full_weights_and_feedback():
    assert only("首都？{北京}").blanks == [["北京"]]
    assert only("首都？{=%100%北京#对 =%100%北京市#也对}").blanks == [["北京", "北京市"]]


def test_partial_credit_on_a_short_answer_is_reported():
    assert problem_lines("\n首都？{=北京 =%50%北平}") == [
        (2, "填空题只接受完全正确的答案，不支持答案“北平”上的部分得分权重 %50%；请删除这个答案或它的权重。")]


@pytest.mark.parametrize(("block", "variants"), [
    ("{#2020}", ["2020"]), ("{#2020:0}", ["2020"]), ("{#=2020 =2021}", ["2020", "2021"]),
    ("{#\n=%100%3.14:0#\n~#不对\n}", ["3.14"]), ("{#-1.5e3}", ["-1.5e3"]),
])
def test_exact_numerical_becomes_a_blank(block, variants):
    data = only("哪一年？" + block)
    assert data.type == "blank" and data.blanks == [variants] and data.stem == "哪一年？ ___"


# ---------------------------------------------------------------- essays


def test_essay_with_reference_comment():
    data = only("// [reference:发现问题快……] [point:发现问题快] [point:采编撰写快]\n简述“四快”。{####解析}")
    assert data == QuestionData(type="short", stem="简述“四快”。", reference_answer="发现问题快……",
                                scoring_points=["发现问题快", "采编撰写快"], explanation="解析")


def test_essay_general_feedback_is_the_reference_answer():
    data = only("简述“四快”。{####发现问题快，采编撰写快。}")
    assert (data.reference_answer, data.explanation) == ("发现问题快，采编撰写快。", "")


def test_essay_without_any_answer_is_reported():
    assert problem_lines("简述“四快”。{}") == [
        (1, "简答题需要参考答案：请在题目前加一行注释 // [reference:参考答案]，或在答案块中用 ####参考答案 写出。")]


def test_blanks_comment_on_an_essay():
    data = only("// [blanks:快|精/精炼|准]\n标准是___、___、___。{}")
    assert data.type == "blank" and data.blanks == [["快"], ["精", "精炼"], ["准"]]


# ---------------------------------------------------------------- file structure


def test_categories():
    result = read("""\
// question: 0  name: Switch category to $course$/top/Default for 政务/三个理念
$CATEGORY: $course$/top/政务信息写作基础/三个理念

第一题{T}

$CATEGORY: 另一个分类/子类
第二题{T}

$CATEGORY: top
第三题{T}
""")
    assert result.problems == []
    assert [q.data.category for q in result.questions] == ["政务信息写作基础/三个理念", "另一个分类/子类", ""]
    assert [q.line for q in result.questions] == [4, 7, 10]


def test_names_comments_and_metadata():
    result = read("""\
// 这是文件开头的注释

// question: 12  name: 第一个理念
// [id:GIW-03-001] [tag:三个理念] [tag:讲话\\]精神]
// [difficulty:1] [points:2] [status:草稿] [lesson:gov-info-writing/three-ideas] [group:理念\\]顺序]
::第一个理念::第一个理念是什么？{
  // 答案之间的注释
  =奋力争先
  ~推陈出新
}
""")
    assert result.problems == []
    (question,) = result.questions
    assert (question.line, question.label) == (6, "第一个理念")
    data = question.data
    assert (data.idnumber, data.tags, data.difficulty, data.points, data.status, data.lesson, data.exclusion_group) == (
        "GIW-03-001", ["三个理念", "讲话]精神"], 1, 2, "draft", "gov-info-writing/three-ideas", "理念]顺序")
    assert data.stem == "第一个理念是什么？"


def test_every_escape():
    data = only(r"1\~2\=3\#4\{5\}6\:7\\8\n9 a\qb {=\~\=\#\{\}\:\\ ~x\#y#反馈\#\=}")
    assert data.stem == "1~2=3#4{5}6:7\\8\n9 a\\qb"
    assert data.options == [Option("~=#{}:\\", True), Option("x#y", False, None, "反馈#=")]


def test_name_with_escaped_colons():
    assert read(r"::a\:\:b:: 题？{T}").questions[0].label == "a::b"


# `[html]` text is converted to Markdown as well: see test_gift_html.py.
@pytest.mark.parametrize("tag", ["[markdown]", "[plain]", "[moodle]"])
def test_text_format_tags_are_dropped(tag):
    data = only(f"::名字::{tag}**题干**{{={tag}甲#{tag}反馈 ~乙 ####{tag}解析}}")
    assert data.stem == "**题干**" and data.options[0] == Option("甲", True, None, "反馈")
    assert data.explanation == "解析"


def test_other_brackets_are_text():
    assert only("[HTML]题？{T}").stem == "[HTML]题？"


def test_multi_line_question_with_windows_line_endings_and_bom():
    raw = codecs.BOM_UTF8 + "// [difficulty:2]\r\n第一行\r\n第二行 {\r\n=甲\r\n~乙\r\n}\r\n\r\n第二题{F}\r\n".encode()
    result = parse("bank.gift", raw)
    assert result.problems == []
    assert [q.data.stem for q in result.questions] == ["第一行\n第二行", "第二题"]
    assert result.questions[0].data.difficulty == 2 and [q.line for q in result.questions] == [2, 8]


def test_a_txt_file_with_braces_is_gift():
    assert parse("moodle.txt", "题？{T}\n".encode()).questions[0].data.answer is True


# ---------------------------------------------------------------- what is reported


MIXED = """\
第一题：单选。{=甲 ~乙}

第二题：匹配。{
=中国 -> 北京
=日本 -> 东京
}

第三题：判断。{T}

这一段只是说明文字，没有答案。

第五题：数值范围。{#1..5}

第六题：误差。{#3.14:0.01}

第七题：括号没有闭合。{=甲 ~乙

第八题：两个答案块。{=甲 ~乙} 又一个 {T}

第九题：} 多余的右括号 {T}

::第十题 名称没有结束 {T}

第十一题：空选项。{=甲 ~}

第十二题：空答案。{=}

第十三题：空数值。{#}

第十四题：非数字。{#abc}

// [difficulty:难]
第十五题：元数据不是整数。{T}

// [scoring:partial]
第十六题：判断题不能有计分方式。{T}

// [blanks:a|b]
第十七题：blanks 只能用于空答案块。{=a}

// [reference:参考]

第十八题：简答题。{####参考答案}
"""


def test_supported_questions_are_read_and_each_unsupported_one_reported():
    result = read(MIXED)
    assert [(q.line, q.data.type) for q in result.questions] == [(1, "single"), (8, "truefalse"), (43, "short")]
    assert [(p.line, p.message) for p in result.problems] == [
        (3, "不支持匹配题（答案中有 ->），这道题没有导入。"),
        (12, "不支持带范围的数值题（如 {#1..5}），只能导入精确的数值，如 {#2020}。"),
        (14, "不支持带误差的数值题（如 {#3.14:0.01}），只能导入精确的数值，如 {#2020}。"),
        (16, "答案块的花括号不配对：有 { 没有 }，或有 } 没有 {。题目文字中的花括号请写成 \\{ 和 \\}。"),
        (18, "一道题只能有一个答案块 {…}：题目文字中的花括号请写成 \\{ 和 \\}，两道题之间要空一行。"),
        (20, "答案块的花括号不配对：有 { 没有 }，或有 } 没有 {。题目文字中的花括号请写成 \\{ 和 \\}。"),
        (22, "题目名称以 :: 开头，但缺少结尾的 ::。"),
        (24, "答案块中有空的选项（= 或 ~ 后面没有内容）。"),
        (26, "答案块中有空的答案（= 后面没有内容）。"),
        (28, "数值题的答案块中没有数字。"),
        (30, "数值题的答案“abc”不是数字。"),
        (32, "注释 [difficulty:…] 的值应为整数，而不是“难”。"),
        (35, "注释 [scoring:…] 只适用于选择题的答案块 {=… ~…}。"),
        (38, "注释 [blanks:…] 只适用于空的答案块 {}。"),
        (41, "这一组 [名称:值] 注释后面没有紧跟着题目，因此不会生效；注释和它所属的题目之间不能有空行。"),
    ]
    # A Moodle "description" is not a question: left out, and said so, without refusing the file.
    assert [(n.line, n.message) for n in result.notices] == [
        (10, "这段文字没有答案块 {…}，是 Moodle 的“说明”而不是题目，没有导入；如果它是题目，请补上答案块后重新导入。"),
    ]


def test_comments_only():
    (problem,) = read("// 只有注释\n\n// 还是注释\n").problems
    assert problem.message == "文件中没有找到题目。"


# ---------------------------------------------------------------- export


def test_export_is_moodle_style():
    questions = [
        QuestionData(type="single", stem="第一个理念？", idnumber="GIW-1", category="政务/理念",
                     options=[Option("奋力争先", True, None, "对"), Option("推陈出新", weight=-50.0)],
                     explanation="原文", tags=["理念"]),
        QuestionData(type="truefalse", stem="负总责。", answer=False, feedback_true="错了", category="政务/理念",
                     exclusion_group="一把手"),
        QuestionData(type="blank", stem="首都是___。", blanks=[["北京", "北京市"]]),
    ]
    assert export(questions, "gift").decode() == """\
$CATEGORY: $course$/top/政务/理念

// [id:GIW-1] [tag:理念] [difficulty:3] [points:1] [status:ready]
::GIW-1::[markdown]第一个理念？ {
\t=奋力争先#对
\t~%-50%推陈出新
\t####原文
}

// [difficulty:3] [points:1] [status:ready] [group:一把手]
[markdown]负总责。 {FALSE#错了}

$CATEGORY: $course$/top

// [difficulty:3] [points:1] [status:ready]
[markdown]首都是___。 {=北京 =北京市}
"""


@pytest.mark.parametrize("question", [
    QuestionData(type="single", stem="s", options=[Option("%50% 的人", True), Option("[html]<b>乙</b>")]),
    QuestionData(type="blank", stem="___", blanks=[["a->b"]]),
    QuestionData(type="blank", stem="___", blanks=[["%5%", "[plain]x"]]),
    QuestionData(type="blank", stem="___ ___", blanks=[["a"], ["b/c", "d|e"]]),
    QuestionData(type="multiple", stem="s", options=[Option("甲", True), Option("乙", True)]),
    QuestionData(type="multiple", stem="s", options=[Option("甲", True, 100.0), Option("乙")], scoring="weighted"),
    QuestionData(type="truefalse", stem="// 不是注释\n$CATEGORY: 也不是分类", answer=True, feedback_true="#", feedback_false="####"),
    QuestionData(type="short", stem="s", reference_answer="a]b\\n[c]\n第二行", scoring_points=["]", "\\"]),
    QuestionData(type="single", stem="{T}", category="top/$x$", idnumber="a::b",
                 options=[Option("T", True), Option("=", feedback="~")]),
], ids=["percent-option", "arrow", "percent-variant", "two-blanks", "all-right", "one-right-multiple",
        "comment-like", "brackets", "tricky"])
def test_export_round_trips_awkward_questions(question):
    (parsed,) = parse("bank.gift", export([question], "gift")).questions
    assert parsed.data.canonical() == question.canonical()


def test_weights_that_contradict_rightness_are_dropped():
    question = QuestionData(type="multiple", stem="s", scoring="weighted",
                            options=[Option("甲", True, -30.0), Option("乙", False, 20.0)])
    (parsed,) = parse("bank.gift", export([question], "gift")).questions
    assert parsed.data.options == [Option("甲", True), Option("乙")]
    single = QuestionData(type="single", stem="s", options=[Option("甲", True, 30.0), Option("乙", False, 20.0)])
    (parsed,) = parse("bank.gift", export([single], "gift")).questions
    assert parsed.data.options == [Option("甲", True), Option("乙", False, 20.0)]  # partial credit stays
