"""Lesson files on disk -> courses and lessons in the database.

Reading and checking every file comes first and touches nothing; only a fully valid
tree is synced, inside the caller's transaction, so a bad file loads nothing.
See docs/lesson-format.md for the format.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask_babel import gettext as _
from sqlalchemy import select

from ..database import utcnow
from ..extensions import db
from ..markdown import QUOTATION, render_with_quotations
from .models import Course, Lesson

# Bump when rendering changes, so that the next load re-renders every lesson.
RENDER_VERSION = 2

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LESSON_FILE = re.compile(r"^(\d{2})-([a-z0-9][a-z0-9-]*)\.md$")
EXCERPT_ID = re.compile(r"^[A-Za-z0-9_-]+$")
EXCERPT_PLACE = re.compile(r"^\[\[原文:([^\]\s]+)\]\]\s*$", re.MULTILINE)
LESSON_KEYS = {"title", "summary", "estimated_minutes", "objectives", "key_points", "excerpts"}
COURSE_KEYS = {"title", "description", "position", "source", "source_file"}
SOURCE_FILE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*\.txt$")
# The editorial marks a quotation may use (docs/lesson-format.md, "Quoting the speech").
_EDITORIAL = re.compile(r"(……|〔[^〕]*〕|‘|’)")
_ANONYMIZED = "(?:20)?(?:xx)+"  # how the source writes the names an 〔…〕 stands in for


@dataclass(frozen=True)
class ContentProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ContentError(Exception):
    def __init__(self, problems: list[ContentProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class LessonFile:
    path: str
    position: int
    slug: str
    title: str
    summary: str
    estimated_minutes: int
    objectives: list[str]
    key_points: list[str]
    excerpts: list[dict[str, Any]]
    body_markdown: str
    body_blocks: list[dict[str, str]] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        payload = asdict(self)
        payload.pop("path")
        payload["render_version"] = RENDER_VERSION
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


@dataclass
class CourseFile:
    path: str
    slug: str
    title: str
    description: str
    position: int
    source_title: str
    lessons: list[LessonFile]


@dataclass
class SyncReport:
    courses_created: int = 0
    courses_updated: int = 0
    lessons_created: int = 0
    lessons_updated: int = 0
    lessons_unchanged: int = 0
    lessons_archived: int = 0


def source_pattern(quotation: str) -> re.Pattern[str]:
    """What a quotation stands for in the source text.

    `……` leaves out words within one paragraph, `〔…〕` stands in for an anonymized name
    (`xx`, `20xx`), and `‘’` for the source's own `“”` inside a quotation; every other
    character is the source's own.
    """
    pattern = []
    for piece in _EDITORIAL.split(quotation):
        if piece == "……":
            pattern.append("[^\n]*?")
        elif piece.startswith("〔"):
            pattern.append(_ANONYMIZED)
        elif piece in ("‘", "’"):
            pattern.append("[‘“]" if piece == "‘" else "[’”]")
        else:
            pattern.append(re.escape(piece))
    return re.compile("".join(pattern))


def _mismatch(quotation: str, source: str) -> str | None:
    """None when the quotation is the source's words, else the text from where it departs."""
    if source_pattern(quotation).search(source):
        return None
    units = [unit for piece in _EDITORIAL.split(quotation) for unit in ([piece] if _EDITORIAL.fullmatch(piece) else piece)]
    low, high = 0, len(units)  # the longest prefix of units that matches, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if source_pattern("".join(units[:middle])).search(source):
            low = middle
        else:
            high = middle - 1
    rest = "".join(units[low:])
    return rest if len(rest) <= 12 else rest[:12] + "…"


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


def _check_quotations(text: str, field: str, source: str | None, where: str, problems: list[ContentProblem]) -> None:
    """Every `[[引:…]]` in `text` must be well formed and the source's own words."""
    quotations = QUOTATION.findall(text)
    if text.count("[[引:") != len(quotations):
        problems.append(ContentProblem(where, _(
            "%(field)s：引文标记“%(mark)s”没有配对的“]]”（一处引文不能跨行，也不能嵌套）", field=field, mark="[[引:")))
    for quotation in quotations:
        if not quotation.strip():
            problems.append(ContentProblem(where, _("%(field)s：引文标记中没有文字", field=field)))
        elif source is None:
            problems.append(ContentProblem(where, _("%(field)s：引用了讲话原文，但 course.yaml 没有用 source_file 指明原文文件", field=field)))
        elif (departs := _mismatch(quotation, source)) is not None:
            problems.append(ContentProblem(where, _(
                "%(field)s：引文“%(quote)s”不是讲话原文（从“%(departs)s”起与原文不符）",
                field=field, quote=_short(quotation), departs=departs)))


def _string_list(value: Any, key: str, where: str, problems: list[ContentProblem], required: bool) -> list[str]:
    if value is None:
        if required:
            problems.append(ContentProblem(where, _("缺少“%(key)s”", key=key)))
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(ContentProblem(where, _("“%(key)s”应为非空文字组成的列表", key=key)))
        if isinstance(value, list) and any(isinstance(v, list) for v in value):
            # `- [[引:…]]` is a YAML list inside the list, not text that starts with a quotation.
            problems.append(ContentProblem(where, _("“%(key)s”中以 [ 开头的一条被 YAML 读成了列表，请给这一条加上引号", key=key)))
        return []
    if required and not value:
        problems.append(ContentProblem(where, _("“%(key)s”至少要有一项", key=key)))
    return [v.strip() for v in value]


def _split_front_matter(text: str, where: str, problems: list[ContentProblem]) -> tuple[dict[str, Any], str] | None:
    if not text.startswith("---\n"):
        problems.append(ContentProblem(where, _("文件应以 YAML 前言开头（第一行为 ---）")))
        return None
    end = text.find("\n---\n", 4)
    if end == -1:
        problems.append(ContentProblem(where, _("YAML 前言没有结束行 ---")))
        return None
    try:
        meta = yaml.safe_load(text[4:end])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problems.append(ContentProblem(where, _("第 %(line)d 行：YAML 前言格式错误（%(reason)s）", line=line, reason=getattr(exc, "problem", None) or exc)))
        return None
    if not isinstance(meta, dict):
        problems.append(ContentProblem(where, _("YAML 前言应是一组“字段: 值”")))
        return None
    return meta, text[end + 5 :]


def _render_blocks(
    body: str, excerpt_ids: set[str], source_title: str, where: str, problems: list[ContentProblem]
) -> tuple[list[dict[str, str]], set[str]]:
    """Split the body at `[[原文:id]]` lines into sanitized HTML and excerpt slots."""
    blocks: list[dict[str, str]] = []
    placed: set[str] = set()
    cursor = 0
    for match in EXCERPT_PLACE.finditer(body):
        excerpt_id = match.group(1)
        if excerpt_id not in excerpt_ids:
            problems.append(ContentProblem(where, _("正文引用了未声明的摘录“%(id)s”", id=excerpt_id)))
            continue
        chunk = body[cursor : match.start()]
        if chunk.strip():
            blocks.append({"html": str(render_with_quotations(chunk, source_title))})
        blocks.append({"excerpt": excerpt_id})
        placed.add(excerpt_id)
        cursor = match.end()
    if body[cursor:].strip():
        blocks.append({"html": str(render_with_quotations(body[cursor:], source_title))})
    return blocks, placed


def read_lesson(
    path: Path, root: Path, problems: list[ContentProblem], source: str | None = None, source_title: str = ""
) -> LessonFile | None:
    """One lesson file; `source` is the text its excerpts and quotations must come from."""
    where = str(path.relative_to(root.parent) if root.parent in path.parents else path)
    match = LESSON_FILE.match(path.name)
    if not match:
        problems.append(ContentProblem(where, _("课文件名应为 NN-代号.md（两位序号、小写字母数字和 -）")))
        return None
    try:
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError:
        problems.append(ContentProblem(where, _("文件不是 UTF-8 编码")))
        return None
    if "\x00" in text:
        problems.append(ContentProblem(where, _("文件中含有空字符（NUL），不是文本文件")))
        return None
    before = len(problems)
    split = _split_front_matter(text, where, problems)
    if split is None:
        return None
    meta, body = split
    for key in sorted(set(meta) - LESSON_KEYS):
        problems.append(ContentProblem(where, _("未知字段“%(key)s”", key=key)))
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(ContentProblem(where, _("缺少标题（title）")))
        title = ""
    elif len(title) > 200:
        problems.append(ContentProblem(where, _("标题不能超过 200 个字符")))
    summary = meta.get("summary") or ""
    if not isinstance(summary, str) or len(summary) > 500:
        problems.append(ContentProblem(where, _("“summary”应为不超过 500 字的文字")))
        summary = ""
    minutes = meta.get("estimated_minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 240:
        problems.append(ContentProblem(where, _("“estimated_minutes”应为 1 到 240 之间的整数")))
        minutes = 1
    objectives = _string_list(meta.get("objectives"), "objectives", where, problems, required=True)
    key_points = _string_list(meta.get("key_points"), "key_points", where, problems, required=True)
    excerpts: list[dict[str, Any]] = []
    raw_excerpts = meta.get("excerpts") or []
    if not isinstance(raw_excerpts, list):
        problems.append(ContentProblem(where, _("“excerpts”应为列表")))
        raw_excerpts = []
    for index, item in enumerate(raw_excerpts, start=1):
        if not isinstance(item, dict):
            problems.append(ContentProblem(where, _("第 %(n)d 条摘录应有 id、part、text 三个字段", n=index)))
            continue
        excerpt_id, part, quote = item.get("id"), item.get("part"), item.get("text")
        if not isinstance(excerpt_id, str) or not EXCERPT_ID.match(excerpt_id):
            problems.append(ContentProblem(where, _("第 %(n)d 条摘录的 id 应由字母、数字、- 和 _ 组成", n=index)))
            continue
        if any(e["id"] == excerpt_id for e in excerpts):
            problems.append(ContentProblem(where, _("摘录 id“%(id)s”重复", id=excerpt_id)))
        if not isinstance(part, str) or not part.strip() or not isinstance(quote, str) or not quote.strip():
            problems.append(ContentProblem(where, _("摘录“%(id)s”缺少出处（part）或原文（text）", id=excerpt_id)))
            continue
        if source is None:
            problems.append(ContentProblem(where, _("摘录“%(id)s”引用了讲话原文，但 course.yaml 没有用 source_file 指明原文文件", id=excerpt_id)))
        elif (departs := _mismatch(quote.strip(), source)) is not None:
            problems.append(ContentProblem(where, _(
                "摘录“%(id)s”不是讲话原文（从“%(departs)s”起与原文不符）", id=excerpt_id, departs=departs)))
        excerpts.append({"id": excerpt_id, "part": part.strip(), "text": quote.strip()})
    if not body.strip():
        problems.append(ContentProblem(where, _("正文为空")))
    if "[[引:" in title:
        problems.append(ContentProblem(where, _("标题中不能标记引文")))
    _check_quotations(summary, "summary", source, where, problems)
    for name, items in (("objectives", objectives), ("key_points", key_points)):
        for number, item in enumerate(items, start=1):
            _check_quotations(item, _("%(field)s 第 %(n)d 条", field=name, n=number), source, where, problems)
    _check_quotations(body, _("正文"), source, where, problems)
    blocks, placed = _render_blocks(body, {e["id"] for e in excerpts}, source_title, where, problems)
    for excerpt in excerpts:
        excerpt["placed"] = excerpt["id"] in placed
    if len(problems) > before:
        return None
    return LessonFile(
        path=where,
        position=int(match.group(1)),
        slug=match.group(2),
        title=title.strip(),
        summary=summary.strip(),
        estimated_minutes=minutes,
        objectives=objectives,
        key_points=key_points,
        excerpts=excerpts,
        body_markdown=body.strip(),
        body_blocks=blocks,
    )


def read_course(folder: Path, root: Path, problems: list[ContentProblem]) -> CourseFile | None:
    where = f"{root.name}/{folder.name}"
    if not SLUG.match(folder.name):
        problems.append(ContentProblem(where, _("课程文件夹名应由小写字母、数字和 - 组成")))
        return None
    course_path = folder / "course.yaml"
    meta: Any = None
    try:
        meta = yaml.safe_load(course_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(ContentProblem(f"{where}/course.yaml", _("缺少课程文件 course.yaml")))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.append(ContentProblem(f"{where}/course.yaml", _("课程文件格式错误：%(reason)s", reason=exc)))
    title = description = source = ""
    source_file: str | None = None
    position = 1
    if isinstance(meta, dict):
        for key in sorted(set(meta) - COURSE_KEYS):
            problems.append(ContentProblem(f"{where}/course.yaml", _("未知字段“%(key)s”", key=key)))
        title = meta.get("title") if isinstance(meta.get("title"), str) else ""
        if not title.strip():
            problems.append(ContentProblem(f"{where}/course.yaml", _("缺少课程标题（title）")))
        description = meta.get("description") if isinstance(meta.get("description"), str) else ""
        source = meta.get("source") if isinstance(meta.get("source"), str) else ""
        source_file = meta.get("source_file")
        if source_file is not None and (not isinstance(source_file, str) or not SOURCE_FILE.match(source_file)):
            problems.append(ContentProblem(f"{where}/course.yaml", _("“source_file”应为课程文件夹中一个 .txt 文件的文件名")))
            source_file = None
        position = meta.get("position", 1)
        if not isinstance(position, int) or isinstance(position, bool):
            problems.append(ContentProblem(f"{where}/course.yaml", _("“position”应为整数")))
            position = 1
    elif meta is not None:
        problems.append(ContentProblem(f"{where}/course.yaml", _("课程文件应是一组“字段: 值”")))
    source_text = _read_source(folder, source_file, where, problems) if source_file else None
    lessons = []
    # Without its source text a course's quotations cannot be checked; that one problem
    # is reported rather than every quotation.
    paths = [] if source_file and source_text is None else sorted(folder.iterdir())
    for path in paths:
        if path.name in ("course.yaml", source_file) or path.name.startswith("."):
            continue
        lesson = read_lesson(path, root, problems, source_text, source.strip())
        if lesson is not None:
            lessons.append(lesson)
    seen_slugs: dict[str, str] = {}
    seen_positions: dict[int, str] = {}
    for lesson in lessons:
        if lesson.slug in seen_slugs:
            problems.append(ContentProblem(lesson.path, _("课代号“%(slug)s”与 %(other)s 重复", slug=lesson.slug, other=seen_slugs[lesson.slug])))
        if lesson.position in seen_positions:
            problems.append(ContentProblem(lesson.path, _("序号 %(n)02d 与 %(other)s 重复", n=lesson.position, other=seen_positions[lesson.position])))
        seen_slugs[lesson.slug] = lesson.path
        seen_positions[lesson.position] = lesson.path
    return CourseFile(where, folder.name, title.strip(), description.strip(), position, source.strip(), lessons)


def _read_source(folder: Path, name: str, where: str, problems: list[ContentProblem]) -> str | None:
    try:
        return (folder / name).read_text(encoding="utf-8").replace("\r\n", "\n")
    except FileNotFoundError:
        problems.append(ContentProblem(f"{where}/course.yaml", _("找不到“source_file”指明的讲话原文文件 %(name)s", name=name)))
    except UnicodeDecodeError:
        problems.append(ContentProblem(f"{where}/{name}", _("文件不是 UTF-8 编码")))
    return None


def read_content(root: Path) -> list[CourseFile]:
    """Every course under `root`, or ContentError listing every problem found."""
    problems: list[ContentProblem] = []
    if not root.is_dir():
        raise ContentError([ContentProblem(str(root), _("课程内容文件夹不存在"))])
    courses = [
        course
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if (course := read_course(folder, root, problems)) is not None
    ]
    if problems:
        raise ContentError(problems)
    return courses


def sync_content(courses: list[CourseFile]) -> SyncReport:
    """Create new lessons, update changed ones by slug, archive vanished ones.

    Progress rows point at lessons by id and lessons are never deleted here, so no
    trainee's progress is ever lost by a reload.
    """
    report = SyncReport()
    now = utcnow()
    existing_courses = {c.slug: c for c in db.session.scalars(select(Course))}
    existing_lessons: dict[tuple[int, str], Lesson] = {
        (lesson.course_id, lesson.slug): lesson for lesson in db.session.scalars(select(Lesson))
    }
    for course_file in courses:
        course = existing_courses.get(course_file.slug)
        values = {
            "title": course_file.title,
            "description": course_file.description,
            "position": course_file.position,
            "source_title": course_file.source_title,
        }
        if course is None:
            course = Course(slug=course_file.slug, **values)
            db.session.add(course)
            db.session.flush()
            report.courses_created += 1
        elif any(getattr(course, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(course, key, value)
            course.updated_at = now
            report.courses_updated += 1
        seen: set[str] = set()
        for lesson_file in course_file.lessons:
            seen.add(lesson_file.slug)
            lesson = existing_lessons.get((course.id, lesson_file.slug))
            fields = {
                "position": lesson_file.position,
                "title": lesson_file.title,
                "summary": lesson_file.summary,
                "estimated_minutes": lesson_file.estimated_minutes,
                "objectives": lesson_file.objectives,
                "key_points": lesson_file.key_points,
                "excerpts": lesson_file.excerpts,
                "body_markdown": lesson_file.body_markdown,
                "body_blocks": lesson_file.body_blocks,
                "content_hash": lesson_file.content_hash,
                "archived": False,
            }
            if lesson is None:
                db.session.add(Lesson(course_id=course.id, slug=lesson_file.slug, updated_at=now, **fields))
                report.lessons_created += 1
            elif lesson.content_hash != lesson_file.content_hash or lesson.archived:
                for key, value in fields.items():
                    setattr(lesson, key, value)
                lesson.updated_at = now
                report.lessons_updated += 1
            else:
                report.lessons_unchanged += 1
        for (course_id, slug), lesson in existing_lessons.items():
            if course_id == course.id and slug not in seen and not lesson.archived:
                lesson.archived = True
                lesson.updated_at = now
                report.lessons_archived += 1
    db.session.flush()
    return report


def load_content(root: Path) -> SyncReport:
    return sync_content(read_content(root))
