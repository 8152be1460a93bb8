from __future__ import annotations

import codecs
import datetime
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from trainer.bank.formats import FormatError, export, parse, xlsx_template
from trainer.bank.formats.base import join_blanks, split_blanks
from trainer.bank.schema import Option, QuestionData, validate

from .strategies import FAST, text

HEADER = ["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "难度", "分值", "外部编号", "状态", "多选计分"]


def xlsx(*rows: list) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def only(result):
    assert result.problems == []
    (question,) = result.questions
    return question


def messages(result) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in result.problems]


def test_a_row_of_each_type():
    raw = xlsx(
        ["题型", "题干", "选项A", "选项B", "选项C", "答案", "解析", "分类", "标签", "章节", "评分要点"],
        ["单选", "第一个理念？", "奋力争先", "推陈出新", "有为才有位", "A", "原文", "基础/理念", "理念，讲话", "giw/three", None],
        ["多选题", "“四快”包括？", "发现问题快", "采编撰写快", "排版印刷快", "AB", None, None, None, None, None],
        ["判断", "一把手负总责。", None, None, None, "对", None, None, None, None, None],
        ["填空", "标准是___、___。", None, None, None, "快|精/精炼", None, None, None, None, None],
        ["简答", "简述“四快”。", None, None, None, "发现问题快……", None, None, None, None, "发现问题快\n采编撰写快"],
    )
    result = parse("bank.xlsx", raw)
    assert result.problems == []
    single, multiple, truefalse, blank, short = (q.data for q in result.questions)
    assert [q.line for q in result.questions] == [2, 3, 4, 5, 6]
    assert single == QuestionData(
        type="single", stem="第一个理念？", options=[Option("奋力争先", True), Option("推陈出新"), Option("有为才有位")],
        explanation="原文", category="基础/理念", tags=["理念", "讲话"], lesson="giw/three")
    assert [o.correct for o in multiple.options] == [True, True, False] and multiple.scoring == "partial"
    assert truefalse.answer is True
    assert blank.blanks == [["快"], ["精", "精炼"]]
    assert short.reference_answer == "发现问题快……" and short.scoring_points == ["发现问题快", "采编撰写快"]
    assert all(validate(q.data) == [] for q in result.questions)


def test_numbers_in_text_cells_are_read_as_text():
    raw = xlsx(["题型", "题干", "答案", "外部编号", "难度", "分值", "分类"],
               ["填空", 2020, 2020, 20240001, 3.0, "2", 1.5],
               ["填空", "圆周率约为___", 3.14, 1.0, None, None, None])
    first, second = (q.data for q in parse("bank.xlsx", raw).questions)
    assert (first.stem, first.blanks, first.idnumber, first.difficulty, first.points) == ("2020", [["2020"]], "20240001", 3, 2)
    assert first.category == "1.5"
    assert (second.blanks, second.idnumber, second.difficulty, second.points) == ([["3.14"]], "1", 3, 1)


@pytest.mark.parametrize("answer", ["AC", "A,C", "A、C", "a c", "ＡＣ", "Ａ，Ｃ", " c;a ", "A/C"])
def test_answer_letters(answer):
    raw = xlsx(HEADER, ["多选", "题干", "甲", "乙", "丙", "丁", answer])
    assert [o.correct for o in only(parse("bank.xlsx", raw)).data.options] == [True, False, True, False]


@pytest.mark.parametrize(("answer", "expected"), [
    ("对", True), ("错", False), ("正确", True), ("错误", False), ("√", True), ("×", False),
    ("T", True), ("f", False), ("Ｔ", True), (True, True), (False, False), ("TRUE", True), (1, True), (0, False),
])
def test_true_false_answers(answer, expected):
    raw = xlsx(HEADER, ["判断", "题干", None, None, None, None, answer])
    assert only(parse("bank.xlsx", raw)).data.answer is expected


@pytest.mark.parametrize(("answer", "blanks"), [
    ("1\\/2|3", [["1/2"], ["3"]]),
    ("a\\|b/c", [["a|b", "c"]]),
    (" 快 | 精 / 精炼 ", [["快"], ["精", "精炼"]]),
    ("C:\\\\|x", [["C:\\"], ["x"]]),
    ("C:\\新建", [["C:\\新建"]]),
    ("快||准", [["快"], [], ["准"]]),
])
def test_blank_answers(answer, blanks):
    raw = xlsx(HEADER, ["填空", "___" * len(blanks), None, None, None, None, answer])
    assert only(parse("bank.xlsx", raw)).data.blanks == blanks


@pytest.mark.parametrize(("status", "scoring", "expected"), [
    ("草稿", "全对得分", ("draft", "all_or_nothing")),
    ("停用", "按权重", ("retired", "weighted")),
    ("Ready", "All-or-nothing", ("ready", "all_or_nothing")),
    (None, None, ("ready", "partial")),
    ("作废", "随便", ("作废", "随便")),  # left for validate to report
])
def test_status_and_scoring_words(status, scoring, expected):
    raw = xlsx(HEADER, ["多选", "题干", "甲", "乙", None, None, "A", None, None, None, status, scoring])
    data = only(parse("bank.xlsx", raw)).data
    assert (data.status, data.scoring) == expected


def test_headers_ignore_case_spaces_and_width():
    raw = xlsx(["ＴＹＰＥ", " Stem ", "a", "选项 Ｂ", "正确答案", "Scoring Points"],
               ["single", "题干", "甲", "乙", "b", None])
    data = only(parse("bank.xlsx", raw)).data
    assert [o.correct for o in data.options] == [False, True]


def test_unknown_and_duplicate_headers_are_reported_once():
    raw = xlsx(["序号", "题型", "题干", "答案", "answer", "选项A", "选项B"],
               *[[n, "单选", f"题{n}", "A", "A", "甲", "乙"] for n in range(1, 6)])
    result = parse("bank.xlsx", raw)
    assert messages(result) == [
        (1, "第 A 列的标题“序号”不是可识别的列名；请改用模板中的列名（如 题型、题干、选项A、答案），或删除这一列。"),
        (1, "“answer”列出现了不止一次（第 D 列和第 E 列），请只保留一列。"),
    ]
    assert len(result.questions) == 5


def test_missing_required_columns():
    result = parse("bank.xlsx", xlsx(["题干", "答案"], ["题目", "A"]))
    assert result.questions == []
    assert messages(result) == [(1, "缺少必需的“题型”列：第一行应为列标题，至少要有“题型”和“题干”两列。")]


def test_empty_rows_are_skipped_and_rows_keep_excel_numbers():
    raw = xlsx(HEADER, [None] * 5, ["判断", "第三行", None, None, None, None, "对"], [], ["  ", None],
               ["判断", "第六行", None, None, None, None, "错"])
    assert [(q.line, q.data.stem) for q in parse("bank.xlsx", raw).questions] == [(3, "第三行"), (6, "第六行")]


def test_cell_problems_name_row_and_column():
    raw = xlsx(
        ["题型", "题干", "选项A", "选项B", "选项C", "Answer", "难度", "分值"],
        ["单选", "好题", "甲", "乙", None, "A", 2, 1],
        ["问卷", "题型不对", None, None, None, None, None, None],
        ["单选", "答案越界", "甲", "乙", None, "C", None, None],
        ["单选", "答案不是字母", "甲", "乙", None, "甲", None, None],
        ["判断", "判断答案不对", None, None, None, "可能", "难", 2.5],
        ["单选", "选项有空缺", "甲", None, "丙", "A", None, None],
        [None, "没有题型", None, None, None, None, None, None],
    )
    result = parse("bank.xlsx", raw)
    assert [q.data.stem for q in result.questions] == ["好题"]
    assert messages(result) == [
        (3, "“题型”列的“问卷”不是可识别的题型，应为 单选、多选、判断、填空 或 简答。"),
        (4, "“Answer”列中的 C 没有对应的选项（这道题只有 2 个选项）。"),
        (5, "“Answer”列应为正确选项的字母，例如 B 或 ACD，而不是“甲”。"),
        (6, "“难度”列应为整数，而不是“难”。"),
        (6, "“分值”列应为整数，而不是“2.5”。"),
        (6, "“Answer”列应为 对 或 错（也可写 正确/错误、√/×、T/F），而不是“可能”。"),
        (7, "“选项B”为空，但它后面还有选项；选项要从选项A开始连续填写。"),
        (8, "“题型”列不能为空，应为 单选、多选、判断、填空 或 简答。"),
    ]
    assert [p.field for p in result.problems] == ["type", "answer", "answer", "difficulty", "points", "answer", "options", "type"]


def test_excel_dates_are_reported():
    raw = xlsx(["题型", "题干", "答案"], ["填空", "日期是___", datetime.datetime(2024, 1, 2)])
    assert messages(parse("bank.xlsx", raw)) == [
        (2, "“答案”列的内容被 Excel 存成了日期或时间，无法还原原来输入的文字；请把这一列设为“文本”格式后重新输入。")]


def test_scoring_points_by_line_or_semicolon():
    raw = xlsx(["题型", "题干", "答案", "评分要点"],
               ["简答", "一", "参考", "要点一；要点二;要点三"],
               ["简答", "二", "参考", "要点一；含分号\n要点二\n\n"])
    first, second = (q.data.scoring_points for q in parse("bank.xlsx", raw).questions)
    assert first == ["要点一", "要点二", "要点三"]
    assert second == ["要点一；含分号", "要点二"]


def test_the_first_sheet_is_read():
    workbook = Workbook()
    workbook.active.append(["题型", "题干", "答案"])
    workbook.active.append(["判断", "第一个工作表", "对"])
    workbook.create_sheet("说明").append(["不是题目"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert only(parse("bank.xlsx", buffer.getvalue())).data.stem == "第一个工作表"


@pytest.mark.parametrize(("raw", "message"), [
    (b"not a zip at all", "不是有效的 Excel 文件"),
    (b"PK\x03\x04" + b"\x00" * 100, "不是有效的 Excel 文件"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "旧版 Excel（.xls）"),
    (b"", "不是有效的 Excel 文件"),
])
def test_broken_workbooks(raw, message):
    with pytest.raises(FormatError, match=message):
        parse("bank.xlsx", raw)


def test_too_many_rows():
    rows = [["判断", f"题{n}", None, None, None, None, "对"] for n in range(5)]
    assert len(parse("bank.xlsx", xlsx(HEADER, *rows), max_questions=5).questions) == 5
    with pytest.raises(FormatError, match="超过了每个文件 4 道的上限"):
        parse("bank.xlsx", xlsx(HEADER, *rows), max_questions=4)
    csv_text = "题型,题干,答案\n" + "判断,题,对\n" * 5
    with pytest.raises(FormatError, match="上限"):
        parse("bank.csv", csv_text.encode(), max_questions=4)


# ---------------------------------------------------------------- CSV

CSV_ROWS = [["题型", "题干", "选项A", "选项B", "答案"], ["单选", "第一个理念？", "奋力争先", "推陈出新", "A"]]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiters_are_sniffed(delimiter):
    text = "\n".join(delimiter.join(row) for row in CSV_ROWS)
    data = only(parse("bank.csv", text.encode())).data
    assert data.stem == "第一个理念？" and data.options[0].correct


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings(encoding):
    text = "\r\n".join(",".join(row) for row in CSV_ROWS) + "\r\n"
    assert only(parse("bank.csv", text.encode(encoding))).data.options[0].text == "奋力争先"


def test_excel_unicode_text_export():
    text = "\r\n".join("\t".join(row) for row in CSV_ROWS) + "\r\n"
    raw = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    assert only(parse("bank.csv", raw)).data.stem == "第一个理念？"


def test_csv_quoted_cells_and_record_numbers():
    text = '题型;题干;答案\n判断;"第一段\n第二段；含;分号";对\n\n判断;"含 ""引号""";错\n'
    result = parse("bank.csv", text.encode())
    assert [(q.line, q.data.stem) for q in result.questions] == [(2, "第一段\n第二段；含;分号"), (4, "含 \"引号\"")]


def test_csv_problems_have_rows():
    result = parse("bank.csv", "题型,题干,答案\n判断,好,对\n判断,坏,也许\n".encode())
    assert [p.line for p in result.problems] == [3]


def test_csv_with_only_a_header_has_no_questions():
    (problem,) = parse("bank.csv", "题型,题干\n".encode()).problems
    assert problem.message == "文件中没有找到题目。"


# ---------------------------------------------------------------- export and template


def test_export_layout_and_style():
    question = QuestionData(type="multiple", stem="=SUM(A1)", idnumber="007", exclusion_group="四快",
                            options=[Option("#N/A", True), Option("=1+1"), Option("甲", True)], scoring="weighted")
    sheet = load_workbook(io.BytesIO(export([question], "xlsx"))).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["题型", "题干", "选项A"] and "外部编号" in header and header[-1] == "互斥组"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width == 50
    row = {h: cell for h, cell in zip(header, sheet[2])}
    assert row["题型"].value == "多选" and row["答案"].value == "AC" and row["多选计分"].value == "按权重"
    assert row["题干"].data_type == "s" and row["选项A"].data_type == "s"
    assert row["外部编号"].value == "007" and row["外部编号"].number_format == "@"
    assert row["互斥组"].value == "四快"
    assert only(parse("bank.xlsx", export([question], "xlsx"))).data == question.canonical()


def test_template():
    workbook = load_workbook(io.BytesIO(xlsx_template()))
    assert workbook.sheetnames == ["题目", "说明"]
    notes = [[cell.value for cell in row] for row in workbook["说明"].iter_rows()]
    assert notes[0] == ["列名", "英文列名", "是否必填", "说明"]
    assert [row[0] for row in notes[1:4]] == ["题型", "题干", "选项A … 选项H"]
    assert notes[-1][:3] == ["互斥组", "exclusion_group", "选填"] and "同一组最多抽一道" in notes[-1][3]
    result = parse("template.xlsx", xlsx_template())
    assert result.problems == []
    assert [q.data.type for q in result.questions] == ["single", "multiple", "truefalse", "blank", "short"]
    assert all(validate(q.data) == [] for q in result.questions)
    assert all("政务信息" in q.data.category or "政务信息" in q.data.stem for q in result.questions)


@FAST
@given(st.lists(st.lists(text(12).map(str.strip), min_size=1, max_size=3), min_size=1, max_size=4))
def test_blank_notation_round_trips(blanks):
    assert split_blanks(join_blanks(blanks)) == blanks


def test_the_exclusion_group_column():
    raw = xlsx(["题型", "题干", "答案", "互斥组"], ["判断", "一把手负总责。", "对", " 一把手 "], ["判断", "要四快。", "对", None])
    result = parse("bank.xlsx", raw)
    assert result.problems == []
    assert [q.data.exclusion_group for q in result.questions] == ["一把手", None]
    assert all("exclusion_group" in q.given for q in result.questions)
    without = parse("bank.xlsx", xlsx(["题型", "题干", "答案"], ["判断", "一把手负总责。", "对"]))
    assert "exclusion_group" not in only(without).given  # a re-import keeps the stored group
