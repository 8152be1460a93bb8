"""Reading lessons: the dashboard, the lesson page and progress."""
from sqlalchemy import select

from trainer.extensions import db
from trainer.lessons import logic
from trainer.lessons.content import CourseFile, sync_content
from trainer.lessons.models import LessonProgress
from trainer.markdown import render_markdown

from .factories import lesson_file


def _progress(app, user_id):
    with app.app_context():
        return {
            row.lesson_id: row
            for row in db.session.scalars(select(LessonProgress).where(LessonProgress.user_id == user_id))
        }


def test_dashboard_shows_progress_and_the_next_lesson(app, make, login_as):
    course_id = make.course("basics", lessons_count=4, title="政务信息写作基础")
    client, user_id = login_as("trainee", courses=[course_id])
    first, _second, *_ = make.lesson_ids(course_id)
    make.progress(user_id, first)
    page = client.get("/learn/").get_data(as_text=True)
    assert "政务信息写作基础" in page
    assert 'aria-valuenow="1"' in page and "已学完 1 / 4 课（25%）" in page
    assert 'href="/learn/basics/lesson-2"' in page  # the next lesson to read


def test_a_finished_course_says_so(app, make, login_as):
    course_id = make.course("basics", lessons_count=2)
    client, user_id = login_as("trainee", courses=[course_id])
    for lesson_id in make.lesson_ids(course_id):
        make.progress(user_id, lesson_id)
    assert "您已学完本课程的全部课" in client.get("/learn/").get_data(as_text=True)


def test_a_trainee_without_courses_is_told_what_to_do(login_as):
    client, _ = login_as("trainee")
    assert "请联系管理员为您开通" in client.get("/learn/").get_data(as_text=True)


def test_opening_a_lesson_records_that_it_was_started(app, make, login_as):
    course_id = make.course("basics", lessons_count=3)
    client, user_id = login_as("trainee", courses=[course_id])
    lesson_ids = make.lesson_ids(course_id)
    page = client.get("/learn/basics/lesson-2")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "学习目标" in html and "本课要点" in html and "标记为已学完" in html
    assert 'rel="prev" href="/learn/basics/lesson-1"' in html and 'rel="next" href="/learn/basics/lesson-3"' in html
    progress = _progress(app, user_id)
    assert set(progress) == {lesson_ids[1]} and progress[lesson_ids[1]].completed_at is None
    client.get("/learn/basics/lesson-2")  # opening it again changes nothing
    assert progress[lesson_ids[1]].started_at == _progress(app, user_id)[lesson_ids[1]].started_at


def test_marking_a_lesson_completed(app, make, login_as):
    course_id = make.course("basics", lessons_count=2)
    client, user_id = login_as("trainee", courses=[course_id])
    first, _second = make.lesson_ids(course_id)
    response = client.post("/learn/basics/lesson-1/complete")
    assert response.status_code == 302 and response.headers["Location"] == "/learn/basics/lesson-2"
    done_at = _progress(app, user_id)[first].completed_at
    assert done_at is not None
    # A double click or a second tab keeps one row and the first completion time.
    client.post("/learn/basics/lesson-1/complete")
    assert _progress(app, user_id)[first].completed_at == done_at
    last = client.post("/learn/basics/lesson-2/complete")
    assert last.headers["Location"] == "/learn/basics/"
    assert "已于" in client.get("/learn/basics/lesson-1").get_data(as_text=True)


def test_progress_is_per_trainee(app, make, login_as):
    course_id = make.course("basics", lessons_count=2)
    alice, alice_id = login_as("trainee", courses=[course_id])
    bob, bob_id = login_as("trainee", courses=[course_id])
    alice.post("/learn/basics/lesson-1/complete")
    assert len(_progress(app, alice_id)) == 1 and _progress(app, bob_id) == {}
    assert "已学完 0 / 2 课" in bob.get("/learn/").get_data(as_text=True)


def test_archived_and_unknown_lessons_are_not_found(app, make, login_as):
    course_id = make.course("basics", lessons_count=2)
    client, _ = login_as("trainee", courses=[course_id])
    assert client.get("/learn/basics/no-such").status_code == 404
    assert client.get("/learn/no-such/lesson-1").status_code == 404
    with app.app_context():
        sync_content([CourseFile("x", "basics", "课程", "", 1, "", [lesson_file(1)])])
        db.session.commit()
    assert client.get("/learn/basics/lesson-2").status_code == 404


def test_the_lesson_page_query_count_does_not_grow_with_the_course(app, make, login_as, count_queries):
    small = make.course("small", lessons_count=3)
    large = make.course("large", lessons_count=40)
    client, _ = login_as("trainee", courses=[small, large])
    counts = []
    for slug in ("small", "large"):
        client.get(f"/learn/{slug}/lesson-2")  # warm: first visits insert progress
        with count_queries() as statements:
            assert client.get(f"/learn/{slug}/lesson-2").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert counts[0] <= 6


def test_list_pages_query_count_is_constant(app, make, login_as, count_queries):
    courses = [make.course(f"c{n}", lessons_count=n * 5) for n in (1, 2, 3)]
    client, user_id = login_as("trainee", courses=courses[:1])
    with count_queries() as one_course:
        client.get("/learn/")
        client.get("/learn/c1/")
    with app.app_context():
        from trainer.accounts.models import User

        logic.enroll(db.session.get(User, user_id), courses)
        db.session.commit()
    with count_queries() as three_courses:
        client.get("/learn/")
        client.get("/learn/c3/")
    assert len(one_course) == len(three_courses)


def test_markdown_is_sanitized():
    html = str(render_markdown("**粗体** <script>alert(1)</script> [链接](javascript:alert(1)) <img src=x onerror=alert(1)>"))
    assert "<strong>粗体</strong>" in html
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html


def test_lesson_content_is_escaped_and_sanitized(app, make, login_as):
    with app.app_context():
        evil = lesson_file(
            1,
            title="<script>alert('t')</script>",
            objectives=["<b>目标</b>"],
            excerpts=[{"id": "a", "part": "开场", "text": "<i>原文</i>", "placed": False}],
            body_blocks=[{"html": str(render_markdown("正文 <script>alert(1)</script>"))}],
        )
        sync_content([CourseFile("x", "evil", "课程", "<script>x</script>", 1, "讲话", [evil])])
        db.session.commit()
        course_id = logic.course_by_slug("evil").id
    client, _ = login_as("trainee", courses=[course_id])
    page = client.get("/learn/evil/lesson-1").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;t&#39;)" in page
    assert "&lt;b&gt;目标" in page and "&lt;i&gt;原文" in page
    assert "<script>x" not in client.get("/learn/evil/").get_data(as_text=True)


def test_a_typed_line_break_is_a_line_break():
    html = str(render_markdown("阅读下面的材料：\n材料：某县……"))
    assert html.strip() == "<p>阅读下面的材料：<br>\n材料：某县……</p>"


def test_feedback_markdown_is_rendered_and_sanitized(app, bank, login_as):
    from trainer.bank.schema import Option, QuestionData

    (question_id,) = bank(QuestionData("single", "题？", "a", options=[
        Option("甲", True, feedback="**对**，见讲话"), Option("乙", feedback="<script>alert(1)</script>")]))
    client, _ = login_as("instructor")
    page = client.get(f"/bank/questions/{question_id}").get_data(as_text=True)
    assert "<strong>对</strong>，见讲话" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
