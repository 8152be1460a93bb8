"""After an import: its page and undo, the import history, and imports running in parallel."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from trainer.accounts.models import User
from trainer.bank import formats, importer, logic
from trainer.bank.models import ImportBatch, Question, QuestionVersion
from trainer.extensions import db
from trainer.lessons.models import Lesson

from .test_bank import form_data, single
from .test_history import assert_history_complete, load_course_bank, reasons, run_together
from .test_import import preview_of, question_count, upload


def imported(client, datas, name="q.yaml") -> str:
    """Upload and confirm; the import's page."""
    location, _page = preview_of(client, upload(client, name, formats.export(datas, "yaml")))
    confirmed = client.post(location + "/confirm")
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == location
    return location


def batch_row(app, location: str) -> ImportBatch:
    with app.app_context():
        return db.session.get(ImportBatch, int(location.rsplit("/", 1)[1]))


class TestUndo:
    def test_an_import_is_undone_as_a_whole_from_its_page(self, app, bank, login_as):
        (kept_id,) = bank(single(idnumber="X-1", tags=["旧标签"]))
        client, user_id = login_as("instructor")
        changed = single(idnumber="X-1", stem="文件里改过的题干", tags=["新标签"])
        location = imported(client, [changed, single(stem="新题一"), single(stem="新题二", idnumber="X-2")])
        page = client.get(location).get_data(as_text=True)
        assert "导入完成：新建 2 道，更新 1 道" in page and "撤销这次导入" in page
        assert page.count("<td>可以</td>") == 3 and f"/bank/questions/{kept_id}/diff?from=1&amp;to=2" in page
        with app.app_context():
            new_ids = db.session.scalars(select(Question.id).where(Question.id != kept_id)).all()
        undone = client.post(location + "/undo", follow_redirects=True).get_data(as_text=True)
        assert "已撤销这次导入：删除新建的 2 道题，恢复 1 道题导入前的内容" in undone
        assert "这次导入已撤销" in undone
        with app.app_context():
            question = db.session.get(Question, kept_id)
            assert logic.data_of(question).canonical() == single(idnumber="X-1", tags=["旧标签"]).canonical()
            assert db.session.scalars(select(Question.id)).all() == [kept_id]
            assert db.session.scalar(select(func.count()).select_from(QuestionVersion).where(QuestionVersion.question_id.in_(new_ids))) == 0
            undo = db.session.scalars(select(QuestionVersion).where(QuestionVersion.reason == "undo")).one()
            assert (undo.revision, undo.changed_by_id, undo.import_batch_id) == (3, user_id, batch_row(app, location).id)
        assert reasons(app, kept_id) == [(1, "create"), (2, "import"), (3, "undo")]
        assert_history_complete(app)
        again = client.post(location + "/undo", follow_redirects=True).get_data(as_text=True)
        assert "这次导入已经撤销过了" in again
        assert "已经导入过了" in client.post(location + "/confirm", follow_redirects=True).get_data(as_text=True)
        assert question_count(app) == 1
        assert client.post(location + "/undo", csrf=False).status_code == 400

    def test_undo_is_refused_naming_the_questions_changed_or_used_since(self, app, login_as):
        client, _ = login_as("instructor")
        location = imported(client, [single(stem=f"第{n}题") for n in range(3)])
        with app.app_context():
            first, second, third = db.session.scalars(select(Question).order_by(Question.id)).all()
            data = logic.data_of(first)
            data.explanation = "导入后改写的解析"
            logic.update_question(first, data)
            logic.snapshot([second.id])
            db.session.commit()
            ids = (first.id, second.id, third.id)
        page = client.get(location).get_data(as_text=True)
        assert "这次导入已不能撤销" in page and "导入后已被修改" in page and "已被测验使用" in page
        refused = client.post(location + "/undo", follow_redirects=True).get_data(as_text=True)
        assert f"第 {ids[0]} 题（导入后已被修改）" in refused and f"第 {ids[1]} 题（已被测验使用）" in refused
        assert f"第 {ids[2]} 题" not in refused.split("无法撤销")[1].split("</")[0]
        assert question_count(app) == 3
        assert batch_row(app, location).undone_at is None

    def test_undo_is_refused_when_the_previous_data_no_longer_validates(self, app, make, bank, login_as):
        make.course("gov-info-writing", lessons_count=2)
        (question_id,) = bank(single(idnumber="L-1", lesson="gov-info-writing/lesson-2"))
        client, _ = login_as("instructor")
        location = imported(client, [single(idnumber="L-1", stem="改过的题干", lesson="gov-info-writing/lesson-1")])
        with app.app_context():
            db.session.execute(delete(Lesson).where(Lesson.slug == "lesson-2"))
            db.session.commit()
        refused = client.post(location + "/undo", follow_redirects=True).get_data(as_text=True)
        assert f"第 {question_id} 题导入前的内容已不能恢复" in refused and "gov-info-writing/lesson-2" in refused
        with app.app_context():
            assert db.session.get(Question, question_id).stem == "改过的题干"

    def test_an_import_that_changed_nothing_has_nothing_to_undo(self, app, bank, login_as):
        bank(single(idnumber="X-1"))
        client, _ = login_as("instructor")
        location = imported(client, [single(idnumber="X-1")])
        assert "没有可撤销的内容" in client.get(location).get_data(as_text=True)
        assert "没有可撤销的内容" in client.post(location + "/undo", follow_redirects=True).get_data(as_text=True)
        assert batch_row(app, location).undone_at is None

    def test_a_double_click_undoes_once(self, app, make):
        owner_id = make.user(role="instructor")
        with app.app_context():
            owner = db.session.get(User, owner_id)
            existing = logic.create_question(single(idnumber="X-1"), owner)
            batch = importer.store_upload(owner, "q.yaml", formats.export([single(idnumber="X-1", stem="改"), single(stem="新")], "yaml"))
            importer.confirm_batch(owner, batch.id)
            db.session.commit()
            batch_id, existing_id = batch.id, existing.id

        def undo(_n: int) -> str:
            with app.app_context():
                try:
                    importer.undo_batch(db.session.get(User, owner_id), batch_id)
                except importer.DomainError as error:
                    db.session.rollback()
                    return error.message
                db.session.commit()
                return "undone"

        results, errors = run_together(2, undo)
        assert not errors and sorted(results) == ["undone", "这次导入已经撤销过了。"]
        assert reasons(app, existing_id) == [(1, "create"), (2, "import"), (3, "undo")]
        assert question_count(app) == 1

    def test_undoing_an_upload_over_course_questions_gives_them_back_to_the_course(self, app, login_as, tmp_path):
        """The downloadable template once "updated" real course questions: undoing that
        upload must also let `trainer init` keep the questions up to date again."""
        load_course_bank(app, tmp_path / "bank", [single(idnumber="C-1")])
        client, _ = login_as("instructor")
        location = imported(client, [single(idnumber="C-1", stem="模板里的示例题")])
        client.post(location + "/undo")
        assert load_course_bank(app, tmp_path / "bank", [single(idnumber="C-1", difficulty=5)]).updated == 1
        with app.app_context():
            question = db.session.scalars(select(Question)).one()
            assert (question.stem, question.difficulty) == (single().stem, 5)
            assert question.course_revision == question.revision == 4


class TestWhoSeesImports:
    def test_the_import_history_lists_the_users_own_uploads_and_admins_see_every_import(self, app, login_as):
        mine, _ = login_as("instructor")
        theirs, _ = login_as("instructor")
        admin, _ = login_as("admin")
        my_import = imported(mine, [single()], name="我的题目.yaml")
        my_pending, _page = preview_of(mine, upload(mine, "还没确认.yaml", formats.export([single(stem="二")], "yaml")))
        their_import = imported(theirs, [single(stem="三")], name="<他的题目>.yaml")
        page = mine.get("/bank/imports").get_data(as_text=True)
        assert my_import in page and my_pending in page and their_import not in page
        assert "我的题目.yaml" in page and "待确认" in page and "已导入" in page
        assert theirs.get(my_import).status_code == 404 and theirs.post(my_import + "/undo").status_code == 404
        everyone = admin.get("/bank/imports").get_data(as_text=True)
        assert my_import in everyone and their_import in everyone and my_pending not in everyone
        assert "&lt;他的题目&gt;.yaml" in everyone and "<他的" not in everyone
        assert admin.get(their_import).status_code == 200 and admin.get(my_pending).status_code == 404
        assert "已撤销这次导入" in admin.post(their_import + "/undo", follow_redirects=True).get_data(as_text=True)

    def test_the_import_history_query_count_does_not_grow_with_the_imports(self, app, login_as, count_queries):
        client, _ = login_as("instructor")
        counts = []
        for more in (1, 6):
            for n in range(more):
                imported(client, [single(stem=f"题{more}-{n}")], name=f"{more}-{n}.yaml")
            with count_queries() as statements:
                assert client.get("/bank/imports").status_code == 200
            counts.append(len(statements))
        assert counts[0] == counts[1]

    def test_the_import_page_query_count_does_not_grow_with_the_file(self, app, login_as, count_queries):
        client, _ = login_as("instructor")
        counts = []
        for size in (2, 40):
            location = imported(client, [single(stem=f"{size}-{n}") for n in range(size)], name=f"{size}.yaml")
            with count_queries() as statements:
                assert client.get(location).status_code == 200
            counts.append(len(statements))
        assert counts[0] == counts[1]


class TestParallel:
    @pytest.mark.parametrize("with_idnumbers", [True, False], ids=["with-idnumbers", "without-idnumbers"])
    def test_four_parallel_confirmations_of_one_file_leave_one_copy(self, app, make, with_idnumbers):
        """Four instructors' tabs confirming uploads of the same file at the same moment."""
        user_id = make.user(username="racer", role="instructor")
        datas = [single(stem=f"并发题{n}", idnumber=f"P-{n}" if with_idnumbers else None) for n in range(25)]
        content = formats.export(datas, "yaml")
        clients, locations = [], []
        for _n in range(4):
            client = app.test_client()
            assert client.post("/login", data={"username": "racer", "password": "correct-horse-9"}).status_code == 302
            locations.append(preview_of(client, upload(client, "same.yaml", content))[0])
            clients.append(client)

        def confirm(n: int) -> tuple[int, str]:
            response = clients[n].post(locations[n] + "/confirm")
            return response.status_code, clients[n].get(locations[n]).get_data(as_text=True)

        results, errors = run_together(4, confirm)
        assert not errors, errors
        assert [status for status, _page in results] == [302] * 4
        assert question_count(app) == 25
        with app.app_context():
            summaries = sorted(
                (s["created"], s["unchanged"]) for s in db.session.scalars(select(ImportBatch.summary).where(ImportBatch.user_id == user_id))
            )
        assert summaries == [(0, 25)] * 3 + [(25, 0)]
        assert_history_complete(app)

    def test_parallel_creations_with_one_idnumber_give_one_question_and_clear_refusals(self, app, login_as):
        clients = [login_as("instructor")[0] for _n in range(4)]

        def create(n: int):
            return clients[n].post("/bank/questions/new", data=form_data(single(stem=f"第{n}题", idnumber="SAME-1")))

        results, errors = run_together(4, create)
        assert not errors, errors
        assert sorted(r.status_code for r in results) == [302, 400, 400, 400]
        for refused in (r for r in results if r.status_code == 400):
            assert "外部编号“SAME-1”已被另一道题使用" in refused.get_data(as_text=True)
        assert question_count(app) == 1
        assert_history_complete(app)

    def test_parallel_course_bank_loads_leave_one_copy(self, app, tmp_path):
        folder = tmp_path / "bank"
        folder.mkdir()
        (folder / "course.yaml").write_bytes(formats.export([single(stem=f"课程题{n}", idnumber=f"C-{n}") for n in range(10)], "yaml"))

        def load(_n: int):
            with app.app_context():
                summary = importer.import_folder(folder)
                db.session.commit()
                return summary.created

        results, errors = run_together(3, load)
        assert not errors, errors
        assert sorted(results) == [0, 0, 10]
        assert question_count(app) == 10


def test_confirming_and_undoing_take_as_many_statements_for_300_questions_as_for_3(app, make, count_queries):
    """The history is written in bulk: no statement per question. Undoing the newer import
    first brings the questions back to what the older one wrote, so it can be undone next."""
    owner_id = make.user(role="instructor")
    with app.app_context():
        logic.ensure_categories([single().category])  # the first import would create it
        db.session.commit()
    counts = []
    for size in (3, 300):
        first = [single(stem=f"{size}-{n}", idnumber=f"S{size}-{n}") for n in range(size)]
        second = [single(stem=f"{size}-{n} 改", idnumber=f"S{size}-{n}") for n in range(size)]
        steps = []
        with app.app_context():
            owner = db.session.get(User, owner_id)
            batches = [importer.store_upload(owner, "q.yaml", formats.export(datas, "yaml")).id for datas in (first, second)]
            db.session.commit()
            for action, batch_id in (("confirm", batches[0]), ("confirm", batches[1]), ("undo", batches[1]), ("undo", batches[0])):
                with count_queries() as statements:
                    if action == "confirm":
                        importer.confirm_batch(owner, batch_id)
                    else:
                        importer.undo_batch(owner, batch_id)
                    db.session.commit()
                # SQLite cannot return the ids of a many-row INSERT in order, so SQLAlchemy
                # inserts created questions one statement each there (one per chunk elsewhere).
                steps.append(len([s for s in statements if not s.startswith("INSERT INTO questions ")]))
        counts.append(steps)
    assert counts[0] == counts[1]
    assert question_count(app) == 0
