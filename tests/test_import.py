"""Importing question files: preview, confirm, all-or-nothing, every format, limits."""
from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from trainer.bank import formats, importer, logic
from trainer.bank.models import ImportBatch, Question
from trainer.bank.schema import Option, QuestionData
from trainer.extensions import PROJECT_ROOT, db

from .test_bank import single

GIFT = """\
// 政务信息写作基础题库
$CATEGORY: $course$/政务信息写作基础/三个理念

// [id:GIW-T-1] [tag:三个理念]
::第一个理念::讲话提出的第一个理念是什么？{
  =奋力争先#正确。
  ~推陈出新#这是第二个理念。
  ~有为才有位
####讲话原文：“一是树立奋力争先的理念。”
}

::判断::讲话要求“一把手”负总责。{T}

::连线::把理念与含义连起来。{
  =奋力争先 -> 变“要我抓”为“我要抓”
  =推陈出新 -> 以变求新
}

::填空::工作机制的标准是做到快、精、{=准}。
"""

AIKEN = """\
政务信息工作机制的标准是什么？
A. 快、精、准
B. 多、长、全
C. 快、全、新
ANSWER: A

只有一个选项的题目
A. 唯一选项
ANSWER: A

缺少答案行的题目
A. 甲
B. 乙
"""

CSV_GBK = (
    "题型,题干,选项A,选项B,选项C,答案,解析,分类,标签\n"
    "单选,“四快”中第一个“快”是什么？,发现问题快,信息上报快,审批快,A,讲话原文列举了四快。,政务信息写作基础/健全组织,四快\n"
    "判断,政务信息工作要纳入年度绩效目标管理。,,,,对,,政务信息写作基础/健全组织,绩效\n"
).encode("gbk")


def upload(client, filename: str, content: bytes, category: str = ""):
    return client.post(
        "/bank/import",
        data={"file": (io.BytesIO(content), filename), "category": category},
        content_type="multipart/form-data",
    )


def preview_of(client, response) -> tuple[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    return location, client.get(location).get_data(as_text=True)


def question_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Question))


class TestUploadFlow:
    def test_excel_preview_confirm_and_reimport(self, app, login_as):
        client, _ = login_as("instructor")
        datas = [single(idnumber="X-1"), QuestionData("truefalse", "对吗？", "a/b", answer=True, idnumber="X-2")]
        sheet = formats.export(datas, "xlsx")
        location, page = preview_of(client, upload(client, "题目.xlsx", sheet))
        assert "将新建：2" in page and "将更新：0" in page and "问题：0" in page
        assert question_count(app) == 0  # the preview imports nothing
        confirmed = client.post(location + "/confirm", follow_redirects=True)
        assert "导入完成：新建 2 道，更新 0 道，未变 0 道" in confirmed.get_data(as_text=True)
        assert question_count(app) == 2
        # The same file again: matched by idnumber, nothing duplicated.
        location, page = preview_of(client, upload(client, "题目.xlsx", sheet))
        assert "将新建：0" in page and "不变：2" in page
        client.post(location + "/confirm")
        assert question_count(app) == 2
        # An edited file updates in place.
        datas[0].stem = "修改后的题干？"
        location, page = preview_of(client, upload(client, "题目.xlsx", formats.export(datas, "xlsx")))
        assert "将更新：1" in page
        client.post(location + "/confirm")
        with app.app_context():
            assert db.session.scalar(select(Question.stem).where(Question.idnumber == "X-1")) == "修改后的题干？"

    def test_gbk_csv_is_read_without_asking(self, app, login_as):
        client, _ = login_as("instructor")
        location, page = preview_of(client, upload(client, "questions.csv", CSV_GBK))
        assert "将新建：2" in page and "“四快”中第一个“快”是什么？" in page
        client.post(location + "/confirm")
        with app.app_context():
            stems = db.session.scalars(select(Question.stem).order_by(Question.id)).all()
        assert stems == ["“四快”中第一个“快”是什么？", "政务信息工作要纳入年度绩效目标管理。"]

    def test_a_file_with_one_bad_question_imports_nothing(self, app, login_as):
        client, _ = login_as("instructor")
        location, page = preview_of(client, upload(client, "moodle.gift", GIFT.encode("utf-8")))
        assert "问题：1" in page and "确认导入" not in page
        assert re.search(r"第 1[0-9] 行：.*连线|匹配", page)
        # Confirming anyway (a crafted request) imports nothing either.
        response = client.post(location + "/confirm")
        assert response.status_code == 400
        assert question_count(app) == 0
        with app.app_context():
            assert db.session.scalars(select(ImportBatch.applied_at)).one() is None

    def test_aiken_errors_are_reported_by_line(self, app, login_as):
        client, _ = login_as("instructor")
        _location, page = preview_of(client, upload(client, "aiken.txt", AIKEN.encode("utf-8")))
        problems = re.findall(r"<li>(第 \d+ 行：[^<]+)</li>", page)
        assert any(p.startswith(("第 7 行", "第 8 行")) for p in problems), problems
        assert any("ANSWER" in p for p in problems), problems
        assert question_count(app) == 0

    def test_default_category_applies_to_questions_without_one(self, app, login_as):
        client, _ = login_as("instructor")
        aiken = AIKEN.split("\n\n")[0].encode("utf-8")
        location, _page = preview_of(client, upload(client, "one.txt", aiken, category="导入/第一批"))
        client.post(location + "/confirm")
        with app.app_context():
            assert db.session.scalars(select(Question)).one().category.path == "导入/第一批"

    def test_double_confirmation_imports_once(self, app, login_as):
        client, _ = login_as("instructor")
        location, _page = preview_of(client, upload(client, "a.xlsx", formats.export([single()], "xlsx")))
        assert client.post(location + "/confirm").status_code == 302
        again = client.post(location + "/confirm", follow_redirects=True)
        assert "已于" in again.get_data(as_text=True) or "已经导入过了" in again.get_data(as_text=True)
        assert question_count(app) == 1

    def test_parallel_confirmations_import_once(self, app, make):
        """Two tabs confirming the same upload at the same moment."""
        user_id = make.user(role="instructor")
        with app.app_context():
            from trainer.accounts.models import User

            batch = importer.store_upload(db.session.get(User, user_id), "a.yaml", formats.export([single(), single(stem="二")], "yaml"))
            db.session.commit()
            batch_id = batch.id
        outcomes: list[str] = []
        barrier = threading.Barrier(2)

        def confirm() -> None:
            with app.app_context():
                user = db.session.get(User, user_id)
                barrier.wait()
                try:
                    importer.confirm_batch(user, batch_id)
                    db.session.commit()
                    outcomes.append("imported")
                except importer.DomainError:
                    db.session.rollback()
                    outcomes.append("refused")

        threads = [threading.Thread(target=confirm) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["imported", "refused"]
        assert question_count(app) == 2

    def test_uploads_are_private_to_their_uploader(self, app, login_as):
        mine, _ = login_as("instructor")
        theirs, _ = login_as("instructor")
        location, _page = preview_of(mine, upload(mine, "a.xlsx", formats.export([single()], "xlsx")))
        assert theirs.get(location).status_code == 404
        assert theirs.post(location + "/confirm").status_code in (302, 404)
        assert question_count(app) == 0

    def test_the_template_is_a_valid_import(self, app, login_as):
        client, _ = login_as("instructor")
        template = client.get("/bank/import/template.xlsx").data
        parsed = formats.parse("template.xlsx", template)
        assert parsed.problems == []
        assert {q.data.type for q in parsed.questions} == {"single", "multiple", "truefalse", "blank", "short"}


class TestLimits:
    def test_unknown_extension(self, login_as):
        client, _ = login_as("instructor")
        response = upload(client, "questions.docx", b"PK\x03\x04")
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and 'id="file-error"' in page and ".xlsx" in page

    def test_old_excel_files_get_a_specific_message(self, login_as):
        client, _ = login_as("instructor")
        assert "另存为" in upload(client, "questions.xls", b"\xd0\xcf\x11\xe0").get_data(as_text=True)

    def test_binary_garbage(self, login_as):
        client, _ = login_as("instructor")
        page = upload(client, "questions.csv", bytes(range(256)) * 10).get_data(as_text=True)
        assert "不是文本文件" in page

    def test_a_corrupt_workbook(self, login_as):
        client, _ = login_as("instructor")
        _location, page = preview_of(client, upload(client, "questions.xlsx", b"not a zip file at all"))
        assert "不是有效的 Excel 文件" in page

    def test_wrong_encoding_declared(self, login_as):
        client, _ = login_as("instructor")
        page = upload(client, "questions.csv", b"\xef\xbb\xbf" + CSV_GBK).get_data(as_text=True)
        assert "UTF-8" in page and 'id="file-error"' in page

    def test_file_size_limit(self, app, login_as):
        app.config["MAX_CONTENT_LENGTH"] = 1024
        client, _ = login_as("instructor")
        response = upload(client, "big.yaml", b"#" * 4096)
        assert response.status_code == 413
        assert "超过了" in response.get_data(as_text=True)

    def test_question_count_limit(self, app, login_as):
        app.config["IMPORT_MAX_QUESTIONS"] = 2
        client, _ = login_as("instructor")
        content = formats.export([single(stem=f"第{n}题") for n in range(3)], "yaml")
        _location, page = preview_of(client, upload(client, "many.yaml", content))
        assert "上限" in page and question_count(app) == 0

    def test_an_empty_file(self, login_as):
        client, _ = login_as("instructor")
        _location, page = preview_of(client, upload(client, "empty.gift", b""))
        assert "没有找到题目" in page


class TestCommand:
    def write(self, tmp_path: Path, name: str, content: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(content)
        return str(path)

    def test_dry_run_shows_the_plan_and_imports_nothing(self, app, runner, tmp_path):
        path = self.write(tmp_path, "q.csv", CSV_GBK)
        result = runner.invoke(args=["import-questions", path, "--dry-run"])
        assert result.exit_code == 0, result.output
        assert "第 2 行：新建" in result.output and "试运行" in result.output
        assert question_count(app) == 0

    def test_import_then_reimport(self, app, runner, tmp_path):
        path = self.write(tmp_path, "q.csv", CSV_GBK)
        first = runner.invoke(args=["import-questions", path])
        assert first.exit_code == 0 and "新建 2" in first.output
        second = runner.invoke(args=["import-questions", path])
        assert second.exit_code == 0 and "未变 2" in second.output
        assert question_count(app) == 2

    def test_errors_exit_non_zero_with_their_lines(self, app, runner, tmp_path):
        path = self.write(tmp_path, "q.gift", GIFT.encode("utf-8"))
        result = runner.invoke(args=["import-questions", path])
        assert result.exit_code == 1
        assert re.search(r"第 \d+ 行", result.output) and "未导入任何题目" in result.output
        assert question_count(app) == 0

    def test_category_option(self, app, runner, tmp_path):
        path = self.write(tmp_path, "q.txt", AIKEN.split("\n\n")[0].encode("utf-8"))
        assert runner.invoke(args=["import-questions", path, "--category", "命令行/导入"]).exit_code == 0
        with app.app_context():
            assert db.session.scalars(select(Question)).one().category.path == "命令行/导入"

    def test_a_bad_category_an_unknown_author_or_a_large_file_are_refused(self, app, runner, make, tmp_path):
        path = self.write(tmp_path, "q.txt", AIKEN.split("\n\n")[0].encode("utf-8"))
        bad = runner.invoke(args=["import-questions", path, "--category", "a//b"])
        assert bad.exit_code == 1 and "--category" in bad.output and "空的层级" in bad.output
        nobody = runner.invoke(args=["import-questions", path, "--author", "nobody"])
        assert nobody.exit_code == 1 and "nobody" in nobody.output
        big = self.write(tmp_path, "big.txt", b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1))
        large = runner.invoke(args=["import-questions", big])
        assert large.exit_code == 1 and "MB 的限制" in large.output
        assert question_count(app) == 0
        teacher = make.user(username="teacher", role="instructor")
        assert runner.invoke(args=["import-questions", path, "--author", "Teacher"]).exit_code == 0
        with app.app_context():
            assert db.session.scalars(select(Question)).one().author_id == teacher

    def test_unreadable_file(self, app, runner, tmp_path):
        path = self.write(tmp_path, "q.docx", b"x")
        result = runner.invoke(args=["import-questions", path])
        assert result.exit_code == 1 and "不支持" in result.output


class TestCourseBank:
    def test_init_loads_the_course_bank_once(self, app, runner):
        assert runner.invoke(args=["init"]).exit_code == 0
        with app.app_context():
            rows = db.session.execute(select(Question.qtype, Question.lesson_id, Question.explanation)).all()
        assert len(rows) >= 150
        assert {qtype for qtype, _l, _e in rows} == {"single", "multiple", "truefalse", "blank", "short"}
        assert all(explanation for _t, _l, explanation in rows)
        with app.app_context():
            from trainer.lessons.models import Lesson

            lesson_ids = set(db.session.scalars(select(Lesson.id)))
        assert lesson_ids == {lesson for _t, lesson, _e in rows}  # every lesson has questions
        again = runner.invoke(args=["init"])
        assert "题库：新建 0，更新 0" in again.output
        assert question_count(app) == len(rows)

    def test_every_lesson_has_every_type(self):
        parsed = [formats.parse(p.name, p.read_bytes()) for p in sorted((PROJECT_ROOT / "question_bank").glob("*.yaml"))]
        for result in parsed:
            assert result.problems == []
            assert {q.data.type for q in result.questions} == {"single", "multiple", "truefalse", "blank", "short"}

    def test_a_bad_file_in_the_folder_loads_nothing(self, app, tmp_path):
        import shutil

        folder = tmp_path / "bank"
        shutil.copytree(PROJECT_ROOT / "question_bank", folder)
        (folder / "zz-bad.yaml").write_text("questions:\n  - type: single\n    stem: 只有一个选项\n    options: [{text: a, correct: true}]\n", encoding="utf-8")
        with app.app_context():
            with pytest.raises(importer.DomainError) as info:
                importer.import_folder(folder)
            assert "zz-bad.yaml" in info.value.message and "至少要有 2 个" in info.value.message
            db.session.rollback()
            assert db.session.scalar(select(func.count()).select_from(Question)) == 0


def test_options_keep_their_order_and_feedback(app, login_as):
    client, _ = login_as("instructor")
    data = single()
    data.options = [Option("丙", feedback="不对"), Option("甲", True), Option("乙")]
    location, _page = preview_of(client, upload(client, "q.yaml", formats.export([data], "yaml")))
    client.post(location + "/confirm")
    with app.app_context():
        stored = db.session.scalars(select(Question)).one()
        assert [o["text"] for o in stored.body["options"]] == ["丙", "甲", "乙"]
        assert stored.body["options"][0]["feedback"] == "不对"


def test_a_malformed_category_path_is_reported_with_its_line(app, login_as):
    client, _ = login_as("instructor")
    content = "questions:\n  - type: truefalse\n    stem: 对吗？\n    answer: true\n    category: 政务信息//三个理念\n".encode()
    _location, page = preview_of(client, upload(client, "q.yaml", content))
    assert re.search(r"第 2 行：“分类”路径中有空的层级", page)
    assert question_count(app) == 0


def test_two_rows_cannot_update_the_same_question(app, login_as):
    client, _ = login_as("instructor")
    first = preview_of(client, upload(client, "a.yaml", formats.export([single(idnumber="Q-1")], "yaml")))[0]
    client.post(first + "/confirm")
    twice = [single(idnumber="Q-1"), single()]  # the second matches Q-1 by its stem
    _location, page = preview_of(client, upload(client, "b.yaml", formats.export(twice, "yaml")))
    assert "对应同一道已有的题目" in page and "确认导入" not in page


def test_the_preview_query_count_does_not_grow_with_the_file(app, login_as, count_queries):
    client, _ = login_as("instructor")
    counts = []
    for size in (3, 300):
        location = preview_of(client, upload(client, f"{size}.yaml", formats.export([single(stem=f"第{n}题") for n in range(size)], "yaml")))[0]
        with count_queries() as statements:
            client.get(location)
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_an_edit_saved_between_preview_and_import_fails_the_import(app):
    """The import never overwrites, unseen, a change made after its plan was drawn up."""
    from trainer.bank import logic

    with app.app_context():
        question_id = logic.create_question(single(idnumber="Q-1"), None).id
        db.session.commit()
        parsed = formats.parse("q.yaml", formats.export([single(idnumber="Q-1", stem="文件中的新题干")], "yaml"))
        plan = importer.plan_import(parsed)
        assert [item.action for item in plan.items] == ["update"]
        db.session.execute(
            Question.__table__.update().where(Question.id == question_id).values(revision=Question.revision + 1)
        )
        with pytest.raises(importer.DomainError, match="被他人修改"):
            importer.apply_plan(plan, author=None)
        db.session.rollback()
        assert db.session.get(Question, question_id).stem == single().stem


def test_reloading_the_course_bank_updates_its_own_questions_and_keeps_instructors_changes(app, tmp_path):
    folder = tmp_path / "bank"
    folder.mkdir()

    def write(explanation: str) -> None:
        questions = [single(f"题干{n}", idnumber=f"C-{n}") for n in range(3)]
        for question in questions:
            question.explanation = explanation
        (folder / "course.yaml").write_bytes(formats.export(questions, "yaml"))

    write("第一版解析")
    with app.app_context():
        assert importer.import_folder(folder).created == 3
        db.session.commit()
        edited, retired, _untouched = db.session.scalars(select(Question).order_by(Question.idnumber)).all()
        data = logic.data_of(edited)
        data.explanation = "教师改写的解析"
        logic.update_question(edited, data, edited.revision)
        logic.bulk_set_status([retired.id], "retired")
        db.session.commit()

    write("第二版解析")
    with app.app_context():
        summary = importer.import_folder(folder)
        db.session.commit()
        assert (summary.created, summary.updated, summary.kept) == (0, 1, 2)
        rows = dict(db.session.execute(select(Question.idnumber, Question.explanation)).all())
        status = dict(db.session.execute(select(Question.idnumber, Question.status)).all())
    assert rows == {"C-0": "教师改写的解析", "C-1": "第一版解析", "C-2": "第二版解析"}
    assert status["C-1"] == "retired"

    write("第三版解析")  # the question the course updated is still the course's own
    with app.app_context():
        assert importer.import_folder(folder).updated == 1
        db.session.commit()
        assert db.session.scalar(select(Question.explanation).where(Question.idnumber == "C-2")) == "第三版解析"


def test_a_reimport_keeps_what_its_format_cannot_carry(app, bank):
    rich = single("讲话提出的第一个理念是什么？", idnumber="R-1", tags=["三个理念"], difficulty=4, points=3,
                  exclusion_group="理念顺序")
    rich.options[0].feedback = "对：奋力争先"
    rich.options[1].weight = 20.0
    rich.explanation = "见讲话第一部分。"
    bank(rich)
    sheet = formats.export([rich], "xlsx")
    workbook = load_workbook(io.BytesIO(sheet))
    header = [cell.value for cell in workbook.active[1]]
    workbook.active.cell(2, header.index("解析") + 1, "改写后的解析")
    edited = io.BytesIO()
    workbook.save(edited)
    aiken = "讲话提出的第一个理念是什么？\nA. 奋力争先\nB. 推陈出新\nC. 有为才有位\nANSWER: A\n"
    with app.app_context():
        plan = importer.plan_import(formats.parse("q.xlsx", edited.getvalue()))
        (item,) = plan.items
        assert item.action == "update"
        assert item.data.explanation == "改写后的解析"
        assert item.data.options[0].feedback == "对：奋力争先" and item.data.options[1].weight == 20.0
        importer.apply_plan(plan, author=None)
        db.session.commit()
        # Aiken says nothing but the stem, the options and the answer.
        plan = importer.plan_import(formats.parse("q.txt", aiken.encode()), default_category="政务信息写作基础/三个理念")
        (item,) = plan.items
        assert item.action == "unchanged", item.data
        stored = logic.data_of(db.session.scalars(select(Question)).one())
    assert (stored.difficulty, stored.points, stored.tags, stored.explanation, stored.exclusion_group) == (
        4, 3, ["三个理念"], "改写后的解析", "理念顺序")


def test_a_moodle_gift_file_keeps_the_fields_it_has_no_comments_for(app, bank):
    stored = single("讲话提出的第一个理念是什么？", idnumber="M-1", tags=["三个理念"], difficulty=5, points=4,
                    category="政务信息写作基础/三个理念", exclusion_group="理念顺序")
    bank(stored)
    moodle = "::M-1::讲话提出的第一个理念是什么？{=奋力争先 ~推陈出新 ~有为才有位####新的解析}\n"
    with app.app_context():
        plan = importer.plan_import(formats.parse("moodle.gift", moodle.encode()))
        (item,) = plan.items
        assert item.action == "update" and item.data.explanation == "新的解析"
        assert (item.data.tags, item.data.difficulty, item.data.points, item.data.category, item.data.exclusion_group) == (
            ["三个理念"], 5, 4, "政务信息写作基础/三个理念", "理念顺序")


def test_a_moodle_description_is_shown_as_left_out_and_does_not_block_the_import(app, login_as):
    client, _ = login_as("instructor")
    gift = "::说明::本测验共 2 题，请认真作答。\n\n::第一题::讲话提出了几个理念？{=三个 ~两个}\n".encode()
    location, page = preview_of(client, upload(client, "moodle.gift", gift))
    assert "以下内容不是题目，不会导入" in page and "第 1 行" in page and "Moodle 的“说明”" in page
    assert client.post(location + "/confirm").status_code == 302
    assert question_count(app) == 1
