"""The staff progress table."""
import re


def _rows(page: str) -> list[str]:
    return re.findall(r'<a href="/records/trainees/\d+">([^<]+)</a>', page)


def test_the_table_shows_each_trainees_progress(app, make, login_as):
    course_id = make.course("basics", lessons_count=4, title="政务信息写作基础")
    zhang = make.user(display_name="张三", unit="市政府办公室", cohort="2026年第一期", courses=[course_id])
    make.user(display_name="李四", unit="区政务服务中心", cohort="2026年第二期", courses=[course_id])
    lessons = make.lesson_ids(course_id)
    make.progress(zhang, lessons[0])
    make.progress(zhang, lessons[1])
    make.progress(zhang, lessons[2], completed=False)
    client, _ = login_as("instructor", courses=[course_id])
    page = client.get("/records/progress").get_data(as_text=True)
    assert _rows(page) == ["李四", "张三"]  # ordered by unit, then name
    zhang_row = page[page.index("张三") :].split("</tr>")[0]
    assert "2 / 4" in zhang_row and "市政府办公室" in zhang_row and "2026年第一期" in zhang_row
    assert "<td>3</td>" in zhang_row  # lessons started
    li_row = page[page.index("李四") :].split("</tr>")[0]
    assert "0 / 4" in li_row and "尚未开始" in li_row


def test_filter_by_unit_and_cohort(app, make, login_as):
    course_id = make.course("basics")
    make.user(display_name="张三", unit="甲单位", cohort="一期", courses=[course_id])
    make.user(display_name="李四", unit="甲单位", cohort="二期", courses=[course_id])
    make.user(display_name="王五", unit="乙单位", cohort="一期", courses=[course_id])
    client, _ = login_as("admin")
    by_unit = _rows(client.get("/records/progress?unit=甲单位").get_data(as_text=True))
    assert sorted(by_unit) == ["张三", "李四"]
    page = client.get("/records/progress").get_data(as_text=True)
    cohort_id = re.search(r'<option value="(\d+)">一期</option>', page).group(1)
    both = _rows(client.get(f"/records/progress?unit=甲单位&cohort={cohort_id}").get_data(as_text=True))
    assert both == ["张三"]
    assert _rows(client.get("/records/progress?q=王").get_data(as_text=True)) == ["王五"]
    # The filter choices offer only the units and cohorts that occur.
    assert '<option value="甲单位">' in page and '<option value="乙单位">' in page


def test_an_instructor_without_courses_is_told_so(login_as):
    client, _ = login_as("instructor")
    assert "您还没有负责的课程" in client.get("/records/progress").get_data(as_text=True)


def test_the_table_is_paginated(app, make, login_as, monkeypatch):
    from trainer.records import views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    course_id = make.course("basics")
    for n in range(5):
        make.user(display_name=f"学员{n}", courses=[course_id])
    client, _ = login_as("admin")
    first = client.get("/records/progress").get_data(as_text=True)
    assert len(_rows(first)) == 2 and "第 1 / 3 页，共 5 条" in first
    last = client.get("/records/progress?page=3").get_data(as_text=True)
    assert len(_rows(last)) == 1


def test_the_query_count_does_not_grow_with_trainees_or_lessons(app, make, login_as, count_queries):
    small = make.course("small", lessons_count=2)
    client, _ = login_as("admin")
    make.user(courses=[small])
    with count_queries() as few:
        client.get("/records/progress")
    large = make.course("large", lessons_count=30)
    for n in range(20):
        make.user(unit=f"单位{n % 4}", cohort=f"第{n % 3}期", courses=[small, large])
    with count_queries() as many:
        client.get("/records/progress")
    assert len(few) == len(many)


def test_trainee_detail_lists_each_lesson(app, make, login_as):
    course_id = make.course("basics", lessons_count=3)
    trainee = make.user(display_name="张三", courses=[course_id])
    make.progress(trainee, make.lesson_ids(course_id)[0])
    client, _ = login_as("instructor", courses=[course_id])
    page = client.get(f"/records/trainees/{trainee}").get_data(as_text=True)
    assert "张三" in page and "已学完 1 / 3 课" in page and page.count("<tr><td>第") == 3


def test_the_users_list_query_count_is_constant(app, make, login_as, count_queries):
    client, _ = login_as("admin")
    with count_queries() as few:
        client.get("/admin/users")
    for n in range(15):
        make.user(cohort=f"第{n % 4}期", unit=f"单位{n % 3}")
    with count_queries() as many:
        client.get("/admin/users")
    assert len(few) == len(many)
