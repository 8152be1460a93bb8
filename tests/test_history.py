"""A question's history: every change keeps a revision; history, diff and restore pages;
ids never reused."""
from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable

from sqlalchemy import delete, func, select

from trainer.accounts.models import User
from trainer.bank import categories, formats, history, importer, logic
from trainer.bank.models import Category, Question, QuestionVersion
from trainer.bank.schema import Option
from trainer.extensions import db
from trainer.lessons.models import Lesson

from .test_bank import form_data, single


def assert_history_complete(app) -> None:
    """Every question has one version per revision, 1 to its current one, and the current
    version holds exactly the question's current data."""
    with app.app_context():
        questions = list(db.session.scalars(select(Question)))
        current = dict(zip((q.id for q in questions), logic.datas_of(questions)))
        revisions = {q.id: q.revision for q in questions}
        rows = db.session.execute(select(QuestionVersion.question_id, QuestionVersion.revision, QuestionVersion.data)).all()
    kept: dict[int, list[int]] = {}
    for question_id, revision, data in rows:
        kept.setdefault(question_id, []).append(revision)
        if revision == revisions[question_id]:
            assert data == current[question_id].to_mapping(), question_id
    assert {qid: sorted(revs) for qid, revs in kept.items()} == {
        qid: list(range(1, rev + 1)) for qid, rev in revisions.items()
    }


def run_together(count: int, work: Callable[[int], object]) -> tuple[list[object], list[BaseException]]:
    """Run `work(n)` in `count` threads released at the same moment."""
    barrier = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            results.append(work(n))
        except BaseException as error:  # reported by the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def load_course_bank(app, folder, datas) -> importer.ImportSummary:
    """Write `datas` as the course bank in `folder` and load it as `trainer init` does."""
    folder.mkdir(exist_ok=True)
    (folder / "course.yaml").write_bytes(formats.export(datas, "yaml"))
    with app.app_context():
        summary = importer.import_folder(folder)
        db.session.commit()
        return summary


def reasons(app, question_id: int) -> list[tuple[int, str]]:
    with app.app_context():
        return db.session.execute(
            select(QuestionVersion.revision, QuestionVersion.reason)
            .where(QuestionVersion.question_id == question_id)
            .order_by(QuestionVersion.revision)
        ).all()


def test_every_path_that_writes_a_question_keeps_its_revision(app, login_as, runner, tmp_path):
    client, user_id = login_as("instructor")
    assert client.post("/bank/questions/new", data=form_data(single(category="甲/乙"))).status_code == 302
    with app.app_context():
        question_id = db.session.scalar(select(Question.id))
        category_id = db.session.scalar(select(Category.id).where(Category.path == "甲/乙"))
    edited = client.post(f"/bank/questions/{question_id}/edit", data=form_data(single(stem="改过的题干", category="甲/乙"), revision="1"))
    assert edited.status_code == 302
    assert client.post("/bank/bulk", data={"ids": [str(question_id)], "action": "retire"}).status_code == 302
    assert client.post("/bank/bulk", data={"ids": [str(question_id)], "action": "retire"}).status_code == 302  # no change
    assert client.post("/bank/bulk", data={"ids": [str(question_id)], "action": "move", "category": "丙"}).status_code == 302
    moved_back = client.post("/bank/bulk", data={"ids": [str(question_id)], "action": "move", "category": "甲/乙"})
    assert moved_back.status_code == 302
    assert client.post(f"/bank/categories/{category_id}", data={"path": "甲/丁"}).status_code == 302
    sheet = formats.export([single(stem="改过的题干", category="甲/丁", difficulty=4)], "yaml")
    location = client.post("/bank/import", data={"file": (io.BytesIO(sheet), "q.yaml")},
                           content_type="multipart/form-data").headers["Location"]
    assert client.post(location + "/confirm").status_code == 302
    restored = client.post(f"/bank/questions/{question_id}/versions/1/restore", data={"revision": "7"})
    assert restored.status_code == 302 and "/versions/" not in restored.headers["Location"]
    assert reasons(app, question_id) == [
        (1, "create"), (2, "edit"), (3, "bulk"), (4, "bulk"), (5, "bulk"), (6, "category"), (7, "import"), (8, "restore")]
    with app.app_context():
        people = set(db.session.scalars(select(QuestionVersion.changed_by_id)))
    assert people == {user_id}
    # The course bank: `trainer init` creates and updates as the course.
    assert runner.invoke(args=["init"]).exit_code == 0
    with app.app_context():
        course = db.session.scalars(select(Question).where(Question.idnumber.is_not(None)).limit(1)).one()
        assert reasons(app, course.id) == [(1, "course")]
    assert_history_complete(app)


def test_a_category_move_gives_each_question_in_the_branch_a_revision(app, bank, ctx):
    first, second, elsewhere = bank(single("甲", category="基础/理念"), single("乙", category="基础/理念/细节"), single("丙", category="写作"))
    categories.move(db.session.scalars(select(Category).where(Category.path == "基础")).one(), "课程/基础")
    db.session.commit()
    assert reasons(app, first)[-1] == (2, "category")
    assert reasons(app, second)[-1] == (2, "category")
    assert reasons(app, elsewhere) == [(1, "create")]
    assert logic.version_data(history.version_at(db.session.get(Question, second), 2)).category == "课程/基础/理念/细节"


def test_snapshot_returns_the_current_revision_and_marks_it_used(app, bank, ctx):
    first, second = bank(single(), single(stem="另一道题"))
    versions = logic.snapshot([first, second, 999_999])
    db.session.commit()
    assert set(versions) == {first, second}
    assert logic.snapshot([second, first]) == versions  # drawn again: the same rows, none added
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(QuestionVersion)) == 2
    used = db.session.get(QuestionVersion, versions[first])
    assert used.revision == 1 and used.used_at is not None
    question = db.session.get(Question, first)
    data = logic.data_of(question)
    data.stem = "新题干"
    logic.update_question(question, data)
    db.session.commit()
    again = logic.snapshot([first])
    assert again[first] != versions[first] and db.session.get(QuestionVersion, again[first]).revision == 2
    assert logic.snapshot([]) == {}


def test_deleting_takes_the_history_along_unless_an_attempt_used_a_revision(app, bank, login_as):
    unused, used = bank(single(), single(stem="另一道题"))
    client, _ = login_as("instructor")
    for question_id in (unused, used):
        client.post(f"/bank/questions/{question_id}/edit", data=form_data(single(stem=f"第{question_id}题改"), revision="1"))
    with app.app_context():
        logic.snapshot([used])  # revision 2
        db.session.commit()
    assert client.post(f"/bank/questions/{unused}/delete").status_code == 302
    refused = client.post(f"/bank/questions/{used}/delete", follow_redirects=True)
    assert "不能删除，只能停用" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(QuestionVersion.question_id).distinct()).all() == [used]


def test_question_ids_are_never_reused(app, bank, ctx):
    first, highest = bank(single(), single(stem="最后一道"))
    version_ids = logic.snapshot([highest])
    db.session.rollback()
    logic.delete_question(db.session.get(Question, highest))
    db.session.commit()
    (newer,) = bank(single(stem="又一道"))
    assert newer > highest > first
    newest = db.session.get(Question, newer)
    assert db.session.scalars(select(QuestionVersion.id).where(QuestionVersion.question_id == newer)).one() > version_ids[highest]
    assert newest.revision == 1


def test_question_ids_are_not_reused_even_for_a_deleted_version_row(app, bank, ctx):
    (question_id,) = bank(single())
    highest = db.session.scalar(select(func.max(QuestionVersion.id)))
    db.session.execute(delete(Question).where(Question.id == question_id))
    db.session.commit()
    (again,) = bank(single())
    assert again > question_id
    assert db.session.scalar(select(func.max(QuestionVersion.id))) > highest


class TestHistoryPages:
    def edited(self, app, bank, client, times: int) -> int:
        (question_id,) = bank(single())
        for n in range(times):
            data = single(stem=f"第 {n} 次修改的题干")
            response = client.post(f"/bank/questions/{question_id}/edit", data=form_data(data, revision=str(n + 1)))
            assert response.status_code == 302
        return question_id

    def test_the_history_lists_who_changed_what_when_and_why(self, app, bank, login_as):
        client, _ = login_as("instructor", display_name="王老师")
        question_id = self.edited(app, bank, client, 2)
        with app.app_context():
            logic.snapshot([question_id])
            db.session.commit()
        page = client.get(f"/bank/questions/{question_id}/history").get_data(as_text=True)
        table = page.split("<tbody>")[1]
        assert table.count("王老师") == 2 and "未记录" in table  # the bank fixture records nobody
        assert "编辑" in page and "新建" in page and "当前内容" in page and "已被测验使用" in page
        assert f"/bank/questions/{question_id}/diff?from=2&amp;to=3" in page
        assert "共 3 个修订" in client.get(f"/bank/questions/{question_id}").get_data(as_text=True)
        assert client.get("/bank/questions/999999/history").status_code == 404
        assert client.get(f"/bank/questions/{question_id}/versions/9").status_code == 404

    def test_the_history_page_query_count_does_not_grow_with_the_revisions(self, app, bank, login_as, count_queries):
        client, _ = login_as("instructor")
        counts = []
        for times in (1, 12):
            question_id = self.edited(app, bank, client, times)
            with count_queries() as statements:
                assert client.get(f"/bank/questions/{question_id}/history").status_code == 200
            counts.append(len(statements))
        assert counts[0] == counts[1]

    def test_the_difference_is_shown_field_by_field_with_changed_characters_marked(self, app, bank, login_as):
        before = single(stem="讲话提出的第一个理念是什么？<b>", tags=["理念"])
        (question_id,) = bank(before)
        after = single(stem="讲话提出的首个理念是什么？<b>", tags=["理念", "<i>新标签</i>"])
        after.options = [Option("奋力争先"), Option("推陈出新", True), Option("有为才有位")]
        client, _ = login_as("instructor")
        assert client.post(f"/bank/questions/{question_id}/edit", data=form_data(after, revision="1")).status_code == 302
        page = client.get(f"/bank/questions/{question_id}/diff?from=1&to=2").get_data(as_text=True)
        assert re.findall(r'<th scope="row">([^<]+)</th>', page) == ["题干", "选项", "标签"]
        assert "<del>第一</del>" in page and "<ins>首</ins>" in page
        assert "A. 【<del>正确</del>】" in page and "B. 【<ins>正确</ins>】" in page
        assert "&lt;i&gt;新标签&lt;/i&gt;" in page and "<i>新" not in page and "<b>" not in page.split("<h1>")[1]
        assert "未改动：" in page and "解析" in page.split("未改动：")[1]
        # The default compares the current revision with the one before it.
        assert "<del>第一</del>" in client.get(f"/bank/questions/{question_id}/diff").get_data(as_text=True)
        same = client.get(f"/bank/questions/{question_id}/diff?from=2&to=2").get_data(as_text=True)
        assert "这两个修订的内容相同" in same

    def test_diff_pieces(self):
        old, new = single(stem="政务信息要快、准、精。"), single(stem="政务信息要快、精、准。")
        new.options[0].correct, new.options[1].correct = False, True
        changes, same = history.diff(old, new)
        labels = [c.label for c in changes]
        assert labels == ["题干", "选项"] and "分类" in same
        stem = changes[0]
        assert "".join(t for _c, t in stem.old) == old.stem and "".join(t for _c, t in stem.new) == new.stem
        assert any(changed for changed, _t in stem.old) and any(changed for changed, _t in stem.new)


class TestRestore:
    def test_an_old_revision_comes_back_as_a_new_one(self, app, bank, login_as):
        (question_id,) = bank(single(tags=["旧"]))
        client, user_id = login_as("instructor")
        changed = single(stem="新的题干", tags=["新"], difficulty=5)
        assert client.post(f"/bank/questions/{question_id}/edit", data=form_data(changed, revision="1")).status_code == 302
        page = client.get(f"/bank/questions/{question_id}/versions/1").get_data(as_text=True)
        assert "恢复为新的修订" in page and 'name="revision" type="hidden" value="2"' in page
        response = client.post(f"/bank/questions/{question_id}/versions/1/restore", data={"revision": "2"}, follow_redirects=True)
        assert "已将修订 1 的内容恢复为新的修订 3" in response.get_data(as_text=True)
        with app.app_context():
            question = db.session.get(Question, question_id)
            assert question.revision == 3 and logic.data_of(question).canonical() == single(tags=["旧"]).canonical()
            version = history.version_at(question, 3)
            assert (version.reason, version.changed_by_id) == ("restore", user_id)
        assert_history_complete(app)

    def test_a_restore_from_a_stale_page_or_of_the_same_content_is_refused(self, app, bank, login_as):
        (question_id,) = bank(single())
        client, _ = login_as("instructor")
        client.post(f"/bank/questions/{question_id}/edit", data=form_data(single(stem="甲"), revision="1"))
        stale = client.post(f"/bank/questions/{question_id}/versions/1/restore", data={"revision": "1"}, follow_redirects=True)
        assert "已被他人修改" in stale.get_data(as_text=True)
        current = client.post(f"/bank/questions/{question_id}/versions/2/restore", data={"revision": "2"}, follow_redirects=True)
        assert "就是当前内容" in current.get_data(as_text=True)
        client.post(f"/bank/questions/{question_id}/edit", data=form_data(single(), revision="2"))  # back as revision 3
        same = client.post(f"/bank/questions/{question_id}/versions/1/restore", data={"revision": "3"}, follow_redirects=True)
        assert "与当前内容相同" in same.get_data(as_text=True)
        assert client.post(f"/bank/questions/{question_id}/versions/2/restore", data={"revision": "3"}, csrf=False).status_code == 400
        with app.app_context():
            assert db.session.get(Question, question_id).revision == 3

    def test_a_revision_that_no_longer_validates_is_refused_with_the_reason(self, app, make, bank, login_as):
        make.course("gov-info-writing", lessons_count=2)
        (question_id,) = bank(single(lesson="gov-info-writing/lesson-2"))
        client, _ = login_as("instructor")
        client.post(f"/bank/questions/{question_id}/edit", data=form_data(single(stem="甲"), revision="1"))
        with app.app_context():
            db.session.execute(delete(Lesson).where(Lesson.slug == "lesson-2"))
            db.session.commit()
        refused = client.post(f"/bank/questions/{question_id}/versions/1/restore", data={"revision": "2"}, follow_redirects=True)
        page = refused.get_data(as_text=True)
        assert "修订 1 的内容已不能直接恢复" in page and "gov-info-writing/lesson-2" in page and "不存在" in page
        with app.app_context():
            assert db.session.get(Question, question_id).revision == 2

    def test_restoring_the_course_banks_revision_makes_the_question_the_courses_again(self, app, make, tmp_path):
        someone = make.user(role="instructor")
        load_course_bank(app, tmp_path / "bank", [single(idnumber="C-1")])
        with app.app_context():
            question = db.session.scalars(select(Question)).one()
            logic.update_question(question, single(idnumber="C-1", stem="教师的改写"))
            db.session.commit()
            history.restore(question, 1, 2, db.session.get(User, someone))
            db.session.commit()
            assert (question.revision, question.course_revision) == (3, 3)


def test_an_attempt_drawing_a_question_and_its_deletion_never_interleave(app, bank):
    """Either the attempt gets the question's revision and the question stays, or the
    question is gone and the attempt does not get it: never a revision of a deleted question."""
    for _round in range(3):
        (question_id,) = bank(single())

        def work(n: int, question_id: int = question_id):
            with app.app_context():
                if n == 0:
                    drawn = logic.snapshot([question_id])
                    db.session.commit()
                    return ("drawn", drawn)
                try:
                    logic.delete_question(db.session.get(Question, question_id))
                except logic.DomainError as error:
                    db.session.rollback()
                    return ("kept", error.message)
                db.session.commit()
                return ("deleted", None)

        results, errors = run_together(2, work)
        assert not errors, errors
        outcome = dict(results)
        with app.app_context():
            stored = db.session.get(Question, question_id)
            versions = db.session.scalars(select(QuestionVersion.id).where(QuestionVersion.question_id == question_id)).all()
        if "deleted" in outcome:
            assert stored is None and versions == [] and outcome["drawn"] == {}
        else:
            assert stored is not None and outcome["drawn"] == {question_id: versions[0]} and "不能删除" in outcome["kept"]
