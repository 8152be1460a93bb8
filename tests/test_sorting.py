"""Lists sort as people expect: 第二期 before 第十期, people and units by pinyin, categories
in the order of their lessons, and a lesson is named by its title."""
from __future__ import annotations

import re

import pytest

from trainer.bank.schema import Option, QuestionData
from trainer.sorting import chinese_number, sort_key, sorted_naturally


@pytest.mark.parametrize(
    ("text", "number"),
    [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("一百零五", 105), ("两千", 2000), ("二〇二六", 2026), ("三万二千", 32000)],
)
def test_chinese_numerals_read_as_numbers(text, number):
    assert chinese_number(text) == number


def test_cohorts_sort_by_their_numbers_whether_written_in_chinese_or_arabic():
    names = ["第十期", "第二期", "第一期", "第三期", "第11期", "第9期"]
    assert sorted_naturally(names) == ["第一期", "第二期", "第三期", "第9期", "第十期", "第11期"]
    years = ["2026年第十二期", "2025年第一期", "2026年第二期"]
    assert sorted_naturally(years) == ["2025年第一期", "2026年第二期", "2026年第十二期"]


def test_numerals_that_are_words_stay_words():
    # 一把手 is not "1把手": it sorts by its pinyin (yi), after 三 (san).
    assert sort_key("一把手") > sort_key("三个理念")


def test_people_sort_by_pinyin_with_surnames_read_as_surnames():
    people = ["王五", "李四", "张三", "曾明", "赵六", "欧阳修", "安然"]
    assert sorted_naturally(people, person=True) == ["安然", "李四", "欧阳修", "王五", "曾明", "张三", "赵六"]
    # Shorter readings first: zha before zhang.
    assert sort_key("查理", person=True) < sort_key("张三", person=True)


def test_keys_are_ascii_so_every_database_orders_them_alike():
    for text in ("市政府办公室", "第十二期", "Alice 李", "①②", "Ünïcode"):
        assert sort_key(text).isascii()


def test_the_users_list_sorts_units_and_names_by_pinyin(app, make, login_as):
    admin, _ = login_as("admin", display_name="管理员", unit="培训中心")
    for name, unit in (("王五", "区政务服务中心"), ("张三", "市政府办公室"), ("李四", "市政府办公室"), ("安然", "区政务服务中心")):
        make.user(display_name=name, unit=unit)
    page = admin.get("/admin/users?role=trainee").get_data(as_text=True)
    order = [name for name in re.findall(r"<td>([^<]+)</td>", page) if name in {"王五", "张三", "李四", "安然"}]
    # 区 (qu) before 市 (shi); within a unit, 安 before 王 and 李 before 张.
    assert order == ["安然", "王五", "李四", "张三"]


def test_cohort_lists_and_filters_sort_naturally(app, make, login_as):
    admin, _ = login_as("admin")
    for cohort in ("第十期", "第二期", "第一期"):
        make.user(cohort=cohort)
    page = admin.get("/admin/cohorts").get_data(as_text=True)
    assert page.index("第一期") < page.index("第二期") < page.index("第十期")
    page = admin.get("/admin/users").get_data(as_text=True)  # the cohort filter
    assert page.index(">第一期<") < page.index(">第二期<") < page.index(">第十期<")


def test_renaming_keeps_the_sort_key_current(app, make):
    from trainer.accounts.models import Cohort, User
    from trainer.extensions import db

    user_id = make.user(display_name="张三", unit="市政府办公室", cohort="第二期")
    with app.app_context():
        user = db.session.get(User, user_id)
        user.display_name = "安然"
        user.unit = "区政务服务中心"
        user.cohort.name = "第十期"
        db.session.commit()
        user = db.session.get(User, user_id)
        assert (user.name_sort, user.unit_sort) == (sort_key("安然", person=True), sort_key("区政务服务中心"))
        assert db.session.scalar(db.select(Cohort.name_sort)) == sort_key("第十期")


def test_categories_follow_their_lessons_then_numbers(app, make, bank, login_as):
    from trainer.bank import categories
    from trainer.extensions import db

    course_id = make.course(slug="course-a", lessons_count=3)
    # Named so that code-point order would be the reverse of the lessons' order.
    bank(
        QuestionData("truefalse", "三", "课程/一三个理念", answer=True, lesson="course-a/lesson-3"),
        QuestionData("truefalse", "一", "课程/五政务信息的含义", answer=True, lesson="course-a/lesson-1"),
        QuestionData("truefalse", "二", "课程/二正视差距", answer=True, lesson="course-a/lesson-2"),
        QuestionData("truefalse", "甲", "其他/第十部分", answer=True),
        QuestionData("truefalse", "乙", "其他/第二部分", answer=True),
    )
    assert course_id
    with app.app_context():
        paths = [row.category.path for row in categories.tree()]
        db.session.rollback()
    assert paths == [
        "课程", "课程/五政务信息的含义", "课程/二正视差距", "课程/一三个理念",
        "其他", "其他/第二部分", "其他/第十部分",
    ]
    client, _ = login_as("instructor")
    page = client.get("/bank/").get_data(as_text=True)
    assert page.index("五政务信息的含义") < page.index("二正视差距") < page.index("一三个理念")


def test_a_lesson_is_named_by_its_title(app, make, bank, login_as):
    make.course(slug="course-a", lessons_count=2)
    [question_id] = bank(QuestionData("truefalse", "判断", "课程", answer=True, lesson="course-a/lesson-2"))
    client, _ = login_as("instructor")
    page = client.get(f"/bank/questions/{question_id}").get_data(as_text=True)
    assert "课程 course-a · 第2课" in page
    assert "course-a/lesson-2" not in page


def test_a_sheet_may_name_the_lesson_by_its_title(app, make, ctx):
    from trainer.bank import formats, importer

    make.course(slug="course-a", lessons_count=2, title="写作基础")
    make.course(slug="course-b", lessons_count=1, title="写作提高")
    rows = [
        QuestionData("single", "甲", "分类", options=[Option("对", True), Option("错")], lesson="第2课"),
        QuestionData("single", "乙", "分类", options=[Option("对", True), Option("错")], lesson="写作提高 · 第1课"),
        QuestionData("single", "丙", "分类", options=[Option("对", True), Option("错")], lesson="第1课"),
    ]
    plan = importer.plan_import(importer.parse_file("q.xlsx", formats.export(rows, "xlsx")))
    assert [item.data.lesson for item in plan.items[:2]] == ["course-a/lesson-2", "course-b/lesson-1"]
    # Two courses have a 第1课: the short title does not say which.
    [problem] = plan.problems
    assert problem.line == 4 and "所属课" in problem.message


def test_the_sheet_column_is_called_as_the_form_calls_it():
    from trainer.bank.formats.tabular import COLUMNS, read_csv

    assert dict(COLUMNS)["lesson"] == "所属课"
    # Sheets written before the rename still read.
    result = read_csv("题型,题干,答案,章节\n判断,题,对,gov-info-writing/three-ideas\n", 100)
    assert result.questions[0].data.lesson == "gov-info-writing/three-ideas"
