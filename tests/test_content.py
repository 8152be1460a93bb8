"""The course content itself, and loading it."""
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from trainer.cli import load_lessons
from trainer.extensions import PROJECT_ROOT, db
from trainer.lessons.content import ContentError, load_content, read_content, source_pattern
from trainer.lessons.models import Course, Lesson, LessonProgress
from trainer.markdown import QUOTATION, plain_with_quotations, render_with_quotations

from .speech import holds_the_speech, speech_text

LESSONS = PROJECT_ROOT / "lessons"
COURSE = "gov-info-writing"
SEED = PROJECT_ROOT.parent / "shared" / "seed" / "training-speech.txt"
# The seed ends with a web page's list of related articles, which is not the speech.
RELATED = "看过信息培训会议讲话的人还看了"


@pytest.fixture(scope="module")
def course_file():
    (course,) = read_content(LESSONS)
    return course


def test_the_course_has_at_least_eight_lessons(course_file):
    assert course_file.title == "政务信息写作基础"
    assert course_file.source_title == "信息培训会议讲话"
    assert len(course_file.lessons) >= 8
    for lesson in course_file.lessons:
        assert lesson.objectives and lesson.key_points and lesson.estimated_minutes
        assert len(lesson.body_markdown) > 800, lesson.path


@pytest.mark.skipif(not SEED.exists(), reason="no shared seed folder beside this checkout")
def test_the_course_copy_of_the_speech_is_the_seed_without_the_web_page_around_it():
    assert speech_text() == SEED.read_text(encoding="utf-8").split(RELATED)[0]


def test_every_excerpt_is_the_speech_verbatim(course_file):
    speech = speech_text()
    assert RELATED not in speech
    for lesson in course_file.lessons:
        assert lesson.excerpts, lesson.path
        for excerpt in lesson.excerpts:
            assert source_pattern(excerpt["text"]).search(speech), f"{lesson.path} {excerpt['id']}"


def test_the_lessons_quote_every_part_of_the_speech(course_file):
    """Every sentence of the speech (but the salutation) is quoted by some lesson."""
    speech = speech_text()
    covered = [False] * len(speech)
    for lesson in course_file.lessons:
        for excerpt in lesson.excerpts:
            for piece in re.split(r"……", excerpt["text"]):
                match = source_pattern(piece).search(speech)
                if match:
                    covered[match.start() : match.end()] = [True] * (match.end() - match.start())
    body = speech.split("同志们：", 1)[1]  # after the title and the salutation
    sentences = [s for s in re.split(r"(?<=[。！!？；;])|\n", body) if len(s.strip()) > 6]
    uncovered = []
    position = len(speech) - len(body)
    for sentence in sentences:
        start = speech.index(sentence, position)
        position = start + len(sentence)
        if sum(covered[start:position]) < 0.8 * len(sentence):
            uncovered.append(sentence)
    assert uncovered == []
    parts = {e["part"] for lesson in course_file.lessons for e in lesson.excerpts}
    assert {"开场", "一、提高认识", "二、强化措施", "三、几点要求", "结束语"} <= parts


def test_the_required_topics_are_taught(course_file):
    everything = "\n".join(
        lesson.title + lesson.body_markdown + "".join(lesson.key_points) + "".join(e["text"] for e in lesson.excerpts)
        for lesson in course_file.lessons
    )
    for topic in (
        "领导决策的基础和依据", "上情下达", "下情上报", "还需增强", "奋力争先", "推陈出新", "有为才有位",
        "制度建设", "队伍建设", "工作机制", "快、精、准", "采用率", "500余条", "近300条", "180余条",
        "加强学习", "站位要高", "一把手", "四快", "围绕中心", "去粗取精", "去伪存真", "由表及里",
        "新情况", "新经验", "标题", "导语", "时间", "地点", "主体", "原因", "结果",
    ):
        assert topic in everything, topic


def test_lessons_never_print_the_anonymization_marks(course_file):
    for lesson in course_file.lessons:
        assert "xx" not in lesson.body_markdown.lower()
        assert all("xx" not in e["text"].lower() for e in lesson.excerpts)


def _fields(lesson) -> list[tuple[str, str]]:
    """Where a lesson may quote inline: its summary, objectives, key points and body."""
    return [("summary", lesson.summary), *(("objectives", o) for o in lesson.objectives),
            *(("key_points", k) for k in lesson.key_points), ("body", lesson.body_markdown)]


def test_every_inline_quotation_is_the_speech_verbatim(course_file):
    speech = speech_text()
    quotations = [(lesson.path, q) for lesson in course_file.lessons for _f, text in _fields(lesson)
                  for q in QUOTATION.findall(text)]
    assert len(quotations) >= 30
    assert [(path, q) for path, q in quotations if not source_pattern(q).search(speech)] == []


def test_quotation_marks_that_hold_the_speech_are_marked(course_file):
    """Plain “…” are the course's own words; the speech's words in them must be a marked quotation.

    A typed “…” holding six or more characters mostly taken from the speech is either a
    quotation that lost its mark (and was never checked) or a misquotation: both fail.
    """
    speech = speech_text()
    offenders = []
    for lesson in course_file.lessons:
        for field, text in _fields(lesson):
            for quoted in re.findall(r"“([^“”]*)”", QUOTATION.sub("", text)):
                if holds_the_speech(quoted, speech):
                    offenders.append(f"{lesson.path} {field}: “{quoted}”")
    assert offenders == []


def test_quotes_render_as_quotes_with_their_source(app, make, login_as):
    with app.app_context():
        load_content(LESSONS)
        db.session.commit()
        course_id = db.session.scalar(select(Course.id).where(Course.slug == COURSE))
    client, _ = login_as("trainee", courses=[course_id])
    page = client.get(f"/learn/{COURSE}/three-ideas").get_data(as_text=True)
    assert page.count('class="speech-quote"') >= 2
    assert "出处：《信息培训会议讲话》·一、提高认识" in page
    assert "树立奋力争先的理念" in page
    # Inline quotations, in the body and in the key points, are set apart and named too.
    assert '<q class="speech-inline" title="《信息培训会议讲话》">更是一种领导艺术</q>' in page
    assert re.search(r'<li>[^<]*<q class="speech-inline"[^>]*>变压力为动力，变‘要我抓’为‘我要抓’</q>', page)
    assert "楷体加引号的文字是讲话原文，引自《信息培训会议讲话》" in page
    assert "[[引:" not in page


def _copy_content(tmp_path: Path) -> Path:
    root = tmp_path / "lessons"
    shutil.copytree(LESSONS, root)
    return root


def _counts():
    return (
        db.session.scalar(select(func.count()).select_from(Course)),
        db.session.scalar(select(func.count()).select_from(Lesson)),
    )


def test_loading_is_idempotent(app, ctx):
    first = load_content(LESSONS)
    db.session.commit()
    assert first.courses_created == 1 and first.lessons_created >= 8
    before = _counts()
    second = load_content(LESSONS)
    db.session.commit()
    assert second.lessons_created == second.lessons_updated == second.lessons_archived == 0
    assert second.lessons_unchanged == first.lessons_created
    assert _counts() == before


def test_reloading_updates_by_slug_and_keeps_progress(app, ctx, tmp_path, make):
    root = _copy_content(tmp_path)
    load_content(root)
    db.session.commit()
    lesson = db.session.scalars(select(Lesson).where(Lesson.slug == "three-ideas")).one()
    lesson_id = lesson.id
    trainee = make.user()
    make.progress(trainee, lesson_id)

    folder = root / COURSE
    source = folder / "03-three-ideas.md"
    text = source.read_text(encoding="utf-8").replace("title: 树立三个理念", "title: 树立三个理念（修订）", 1)
    source.unlink()
    (folder / "12-three-ideas.md").write_text(text, encoding="utf-8")  # moved to the end, and edited
    (folder / "04-three-measures.md").unlink()  # removed
    report = load_content(root)
    db.session.commit()
    db.session.expire_all()
    assert report.lessons_updated == 1 and report.lessons_archived == 1 and report.lessons_created == 0
    moved = db.session.get(Lesson, lesson_id)
    assert moved.title.endswith("（修订）") and moved.position == 12 and not moved.archived
    assert db.session.scalars(select(Lesson).where(Lesson.slug == "three-measures")).one().archived
    assert db.session.scalar(select(func.count()).select_from(LessonProgress)) == 1
    # Bringing the file back restores the lesson, not a duplicate.
    (folder / "04-three-measures.md").write_text((LESSONS / COURSE / "04-three-measures.md").read_text(encoding="utf-8"), encoding="utf-8")
    load_content(root)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Lesson).where(Lesson.slug == "three-measures")) == 1


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("05-broken.md", "---\ntitle: [unclosed\n---\n正文", "YAML 前言格式错误"),
        ("05-broken.md", "---\nestimated_minutes: 10\nobjectives: [a]\nkey_points: [b]\n---\n正文", "缺少标题"),
        ("05-broken.md", "没有前言的正文", "YAML 前言开头"),
        ("5-bad-name.md", "---\ntitle: x\n---\n正文", "NN-代号.md"),
        (
            "05-broken.md",
            "---\ntitle: t\nestimated_minutes: 10\nobjectives: [a]\nkey_points: [b]\n---\n[[原文:nope]]\n",
            "未声明的摘录",
        ),
        (
            "05-misquote.md",
            "---\ntitle: t\nestimated_minutes: 10\nobjectives: [a]\nkey_points: [b]\n---\n讲话说[[引:难以充满生机活力]]。\n",
            "正文：引文“难以充满生机活力”不是讲话原文（从“充满生机活力”起与原文不符）",
        ),
        (
            "05-misquote.md",
            "---\ntitle: t\nestimated_minutes: 10\nobjectives: [a]\nkey_points: [b, '[[引:三是健全组织，管理要宽]]']\n---\n正文\n",
            "key_points 第 2 条：引文“三是健全组织，管理要宽”不是讲话原文（从“宽”起与原文不符）",
        ),
        (
            "05-misquote.md",
            "---\ntitle: t\nestimated_minutes: 10\nobjectives: ['[[引:加强学习']\nkey_points: [b]\n---\n正文\n",
            "objectives 第 1 条：引文标记“[[引:”没有配对的“]]”",
        ),
        (
            "05-misquote.md",
            "---\ntitle: '[[引:加强学习]]'\nestimated_minutes: 10\nobjectives: [a]\nkey_points: [b]\n---\n正文\n",
            "标题中不能标记引文",
        ),
        (
            "05-misquote.md",
            "---\ntitle: t\nestimated_minutes: 10\nobjectives: [a]\nkey_points: [b]\nexcerpts:\n"
            "  - {id: yaoqiu, part: 三、几点要求, text: 一是加强学习，提高素质。}\n---\n正文\n",
            "摘录“yaoqiu”不是讲话原文（从“素质。”起与原文不符）",
        ),
    ],
)
def test_a_malformed_file_loads_nothing(app, ctx, tmp_path, filename, content, expected):
    root = _copy_content(tmp_path)
    (root / COURSE / filename).write_text(content, encoding="utf-8")
    with pytest.raises(ContentError) as info:
        load_content(root)
    problems = [str(p) for p in info.value.problems]
    assert any(filename in p and expected in p for p in problems), problems
    db.session.rollback()
    assert _counts() == (0, 0)


def test_load_content_command_names_the_bad_file_and_exits_non_zero(app, runner, tmp_path):
    root = _copy_content(tmp_path)
    (root / COURSE / "05-learning-and-standpoint.md").write_text("---\ntitle: x\n", encoding="utf-8")
    app.config["CONTENT_DIR"] = str(root)
    result = runner.invoke(args=["load-content"])
    assert result.exit_code == 1
    assert "05-learning-and-standpoint.md" in result.output and "没有结束行" in result.output
    with app.app_context():
        assert _counts() == (0, 0)
    app.config["CONTENT_DIR"] = str(LESSONS)
    ok = runner.invoke(args=["load-content"])
    assert ok.exit_code == 0 and "课：新建" in ok.output


def test_load_lessons_reports_counts(app, ctx):
    lines = []
    load_lessons(report_to=lines.append)
    assert lines and "新建" in lines[0]


def test_a_course_without_its_source_text_cannot_quote(app, ctx, tmp_path):
    root = _copy_content(tmp_path)
    course_file = root / COURSE / "course.yaml"
    course_file.write_text(course_file.read_text(encoding="utf-8").replace("source_file: training-speech.txt\n", ""), encoding="utf-8")
    with pytest.raises(ContentError) as info:
        read_content(root)
    problems = [str(p) for p in info.value.problems]
    assert any("03-three-ideas.md" in p and "没有用 source_file 指明原文文件" in p for p in problems), problems
    (root / COURSE / "training-speech.txt").unlink()
    course_file.write_text(course_file.read_text(encoding="utf-8") + "source_file: training-speech.txt\n", encoding="utf-8")
    with pytest.raises(ContentError) as info:
        read_content(root)
    assert [str(p) for p in info.value.problems] == [
        "lessons/gov-info-writing/course.yaml: 找不到“source_file”指明的讲话原文文件 training-speech.txt"]


def test_quotations_are_escaped_and_kept_out_of_markdown():
    html = str(render_with_quotations("讲话说[[引:a*b*<c>]]，**对**。", "讲话"))
    assert html == '<p>讲话说<q class="speech-inline" title="《讲话》">a*b*&lt;c&gt;</q>，<strong>对</strong>。</p>\n'
    assert str(plain_with_quotations("<i>[[引:x&y]]")) == '&lt;i&gt;<q class="speech-inline">x&amp;y</q>'
