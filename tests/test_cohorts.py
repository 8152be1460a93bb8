"""Cohorts (培训班期次): the logic without HTTP, the admin pages, then two
administrators acting on the same cohorts at once."""
import re

import pytest
from sqlalchemy import func, select

from trainer.accounts import cohorts
from trainer.accounts.models import Cohort, User
from trainer.errors import DomainError
from trainer.extensions import db
from trainer.lessons.models import Enrollment


def cohort_id(app, name: str) -> int | None:
    with app.app_context():
        return db.session.scalar(select(Cohort.id).where(Cohort.name == name))


def cohort_of(app, user_id: int) -> str | None:
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.cohort.name if user.cohort else None


def enrollment_pairs(app) -> set[tuple[int, int]]:
    with app.app_context():
        return set(db.session.execute(select(Enrollment.user_id, Enrollment.course_id)).all())


# --- logic ------------------------------------------------------------------


def test_summaries_count_trainees_and_members(app, make, ctx):
    make.user(cohort="第一期")
    make.user(cohort="第一期")
    make.user(role="instructor", cohort="第一期")
    cohorts.create("第二期")
    rows = {row.cohort.name: (row.trainees, row.members) for row in cohorts.summaries()}
    assert rows == {"第一期": (2, 3), "第二期": (0, 0)}


@pytest.mark.parametrize("name, message", [("", "请填写期次名称"), ("   ", "请填写期次名称"), ("期" * 101, "不能超过 100 个字符")])
def test_a_bad_name_is_refused_naming_the_field(app, ctx, name, message):
    with pytest.raises(DomainError, match=message) as raised:
        cohorts.create(name)
    assert raised.value.field == "name"


def test_names_are_unique_and_renaming_to_the_same_name_changes_nothing(app, make, ctx):
    first = cohorts.create("第一期")
    second = cohorts.create(" 第二期 ")
    assert second.name == "第二期"
    with pytest.raises(DomainError, match="已有名为“第一期”的期次"):
        cohorts.create("第一期")
    with pytest.raises(DomainError, match="已有名为“第一期”的期次"):
        cohorts.rename(second, "第一期")
    cohorts.rename(first, "第一期")
    cohorts.rename(first, "2026年第一期")
    assert first.name == "2026年第一期"


def test_merge_moves_every_member_and_drops_the_source(app, make, ctx):
    movers = [make.user(cohort="春季班"), make.user(role="instructor", cohort="春季班")]
    stayer = make.user(cohort="秋季班")
    source = db.session.get(Cohort, db.session.get(User, movers[0]).cohort_id)
    target_id = db.session.get(User, stayer).cohort_id
    target, moved = cohorts.merge(source, target_id)
    db.session.commit()
    assert (target.name, moved) == ("秋季班", 2)
    assert db.session.scalar(select(func.count()).select_from(User).where(User.cohort_id == target_id)) == 3
    assert db.session.scalar(select(Cohort.id).where(Cohort.name == "春季班")) is None


def test_merge_needs_another_existing_cohort(app, ctx):
    cohort = cohorts.create("第一期")
    with pytest.raises(DomainError, match="请选择要并入的期次"):
        cohorts.merge(cohort, None)
    with pytest.raises(DomainError, match="请选择要并入的期次"):
        cohorts.merge(cohort, 999_999)
    with pytest.raises(DomainError, match="不能把期次并入它自己"):
        cohorts.merge(cohort, cohort.id)


def test_only_an_empty_cohort_can_be_deleted(app, make, ctx):
    user_id = make.user(cohort="第一期")
    cohort = db.session.get(User, user_id).cohort
    with pytest.raises(DomainError, match="还有成员"):
        cohorts.remove(cohort)
    empty = cohorts.create("空的一期")
    cohorts.remove(empty)
    db.session.commit()
    assert [c.name for c in db.session.scalars(select(Cohort))] == ["第一期"]


def test_enrolling_a_cohort_adds_only_missing_enrollments_of_its_trainees(app, make, ctx):
    basics = make.course("basics")
    writing = make.course("writing")
    enrolled = make.user(cohort="第一期", courses=[basics])
    fresh = make.user(cohort="第一期")
    make.user(role="instructor", cohort="第一期")
    outsider = make.user(cohort="第二期")
    cohort = db.session.get(User, fresh).cohort
    assert cohorts.enroll_trainees(cohort, [basics, writing]) == 3
    db.session.commit()
    assert cohorts.enroll_trainees(cohort, [basics, writing]) == 0
    db.session.commit()
    pairs = set(db.session.execute(select(Enrollment.user_id, Enrollment.course_id)).all())
    assert pairs == {(enrolled, basics), (enrolled, writing), (fresh, basics), (fresh, writing)}
    assert not any(user == outsider for user, _ in pairs)


def test_enrolling_needs_a_course(app, make, ctx):
    cohort = cohorts.create("第一期")
    with pytest.raises(DomainError, match="请至少选择一门课程") as raised:
        cohorts.enroll_trainees(cohort, [])
    assert raised.value.field == "courses"


# --- pages ------------------------------------------------------------------


def test_the_list_page_shows_counts_and_escapes_names(app, make, login_as):
    client, _ = login_as("admin")
    make.user(cohort="<script>alert(1)</script>")
    page = client.get("/admin/cohorts").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert re.search(r"<td>1</td>\s*<td><a href=\"/admin/users\?cohort=\d+\">1", page)


def test_the_list_page_query_count_is_constant(app, make, login_as, count_queries):
    client, _ = login_as("admin")
    make.user(cohort="第0期")
    with count_queries() as few:
        assert client.get("/admin/cohorts").status_code == 200
    for n in range(12):
        make.user(cohort=f"第{n % 6}期", role="trainee" if n % 3 else "instructor")
    with count_queries() as many:
        assert client.get("/admin/cohorts").status_code == 200
    assert len(few) == len(many)


def test_creating_a_cohort_through_the_page(app, login_as):
    client, _ = login_as("admin")
    response = client.post("/admin/cohorts", data={"name": "2026年第二期"})
    assert response.status_code == 302
    assert "已新建期次“2026年第二期”" in client.get(response.headers["Location"]).get_data(as_text=True)
    again = client.post("/admin/cohorts", data={"name": "2026年第二期"})
    assert again.status_code == 400
    assert "已有名为“2026年第二期”的期次" in again.get_data(as_text=True)
    empty = client.post("/admin/cohorts", data={"name": ""})
    assert empty.status_code == 400 and "请填写期次名称" in empty.get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused(app, login_as):
    client, _ = login_as("admin")
    assert client.post("/admin/cohorts", data={"name": "第三期"}, csrf=False).status_code == 400
    assert cohort_id(app, "第三期") is None


def test_enrolling_a_cohort_through_the_page(app, make, login_as):
    basics = make.course("basics")
    trainees = [make.user(cohort="第一期") for _ in range(3)]
    client, _ = login_as("admin")
    cid = cohort_id(app, "第一期")
    page = client.get(f"/admin/cohorts/{cid}").get_data(as_text=True)
    assert "学员 3 人，全部成员 3 人" in page
    response = client.post(f"/admin/cohorts/{cid}/enroll", data={"enroll-courses": [str(basics)]})
    assert response.status_code == 302
    assert "新增 3 条选课记录" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert enrollment_pairs(app) == {(t, basics) for t in trainees}
    nothing = client.post(f"/admin/cohorts/{cid}/enroll", data={})
    assert nothing.status_code == 400 and "请至少选择一门课程" in nothing.get_data(as_text=True)
    bogus = client.post(f"/admin/cohorts/{cid}/enroll", data={"enroll-courses": ["999999"]})
    assert bogus.status_code == 400 and "Not a valid choice" not in bogus.get_data(as_text=True)


def test_renaming_merging_and_deleting_through_the_page(app, make, login_as):
    member = make.user(cohort="春季班")
    make.user(cohort="秋季班")
    client, _ = login_as("admin")
    spring, autumn = cohort_id(app, "春季班"), cohort_id(app, "秋季班")

    taken = client.post(f"/admin/cohorts/{spring}/rename", data={"rename-name": "秋季班"})
    assert taken.status_code == 400 and "已有名为“秋季班”的期次" in taken.get_data(as_text=True)
    assert client.post(f"/admin/cohorts/{spring}/rename", data={"rename-name": "2026春季班"}).status_code == 302
    assert cohort_of(app, member) == "2026春季班"

    blocked = client.post(f"/admin/cohorts/{spring}/delete")
    assert blocked.status_code == 400 and "还有成员" in blocked.get_data(as_text=True)

    merged = client.post(f"/admin/cohorts/{spring}/merge", data={"merge-target": str(autumn)})
    assert merged.status_code == 302 and merged.headers["Location"] == "/admin/cohorts"
    assert cohort_of(app, member) == "秋季班"
    assert client.get(f"/admin/cohorts/{spring}").status_code == 404

    no_target = client.post(f"/admin/cohorts/{autumn}/merge", data={"merge-target": ""})
    assert no_target.status_code == 400 and "请选择要并入的期次" in no_target.get_data(as_text=True)

    make.user(cohort="空班")
    with app.app_context():
        db.session.execute(User.__table__.update().where(User.cohort_id == cohort_id(app, "空班")).values(cohort_id=None))
        db.session.commit()
    response = client.post(f"/admin/cohorts/{cohort_id(app, '空班')}/delete")
    assert response.status_code == 302
    assert cohort_id(app, "空班") is None


# --- two administrators at once ------------------------------------------------


def outcome(client, response) -> str:
    """'applied' or 'refused', from the page or the message flashed on the next one."""
    assert response.status_code in (302, 400), response.status_code
    page = response.get_data(as_text=True)
    if response.status_code == 302:
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    if "已不存在" in page or "还有成员" in page:
        return "refused"
    assert "已把" in page or "已改名" in page or "已删除期次" in page or "已保存" in page, page
    return "applied"


def cohorts_of(app, *user_ids: int) -> list[str | None]:
    return [cohort_of(app, user_id) for user_id in user_ids]


@pytest.fixture
def two_admins(login_as):
    return login_as("admin")[0], login_as("admin")[0]


def merge(client, source: int, target: int):
    return lambda: client.post(f"/admin/cohorts/{source}/merge", data={"merge-target": str(target)})


def test_x_into_y_while_y_into_z(app, make, two_admins, together):
    x1, y1, z1 = make.user(cohort="X"), make.user(cohort="Y"), make.user(cohort="Z")
    x, y, z = cohort_id(app, "X"), cohort_id(app, "Y"), cohort_id(app, "Z")
    first, second = two_admins
    responses = together(merge(first, x, y), merge(second, y, z))
    outcomes = [outcome(first, responses[0]), outcome(second, responses[1])]
    final = cohorts_of(app, x1, y1, z1)
    if outcomes == ["applied", "applied"]:  # X into Y, then Y (with X's members) into Z
        assert final == ["Z", "Z", "Z"]
    else:  # Y into Z first; X's target was gone, so X was left as it was
        assert outcomes == ["refused", "applied"] and final == ["X", "Z", "Z"]


def test_x_into_y_while_y_into_x(app, make, two_admins, together):
    x1, y1 = make.user(cohort="X"), make.user(cohort="Y")
    x, y = cohort_id(app, "X"), cohort_id(app, "Y")
    first, second = two_admins
    responses = together(merge(first, x, y), merge(second, y, x))
    outcomes = sorted([outcome(first, responses[0]), outcome(second, responses[1])])
    assert outcomes == ["applied", "refused"]
    final = cohorts_of(app, x1, y1)
    assert final in (["X", "X"], ["Y", "Y"])


def test_x_into_y_while_y_is_renamed(app, make, two_admins, together):
    x1, y1 = make.user(cohort="X"), make.user(cohort="Y")
    x, y = cohort_id(app, "X"), cohort_id(app, "Y")
    first, second = two_admins
    responses = together(
        merge(first, x, y), lambda: second.post(f"/admin/cohorts/{y}/rename", data={"rename-name": "Y改"})
    )
    assert [outcome(first, responses[0]), outcome(second, responses[1])] == ["applied", "applied"]
    assert cohorts_of(app, x1, y1) == ["Y改", "Y改"]


def test_x_into_y_while_y_is_deleted(app, make, two_admins, together):
    x1 = make.user(cohort="X")
    x = cohort_id(app, "X")
    first, second = two_admins
    second.post("/admin/cohorts", data={"name": "Y"})
    y = cohort_id(app, "Y")
    responses = together(merge(first, x, y), lambda: second.post(f"/admin/cohorts/{y}/delete"))
    outcomes = [outcome(first, responses[0]), outcome(second, responses[1])]
    if outcomes == ["applied", "refused"]:  # Y had X's members by the time it was to go
        assert cohorts_of(app, x1) == ["Y"]
    else:
        assert outcomes == ["refused", "applied"] and cohorts_of(app, x1) == ["X"]


def test_x_into_y_while_a_user_is_edited_into_x(app, make, two_admins, together):
    x1, y1 = make.user(cohort="X"), make.user(cohort="Y")
    edited = make.user(username="edited", cohort="Z")
    x, y = cohort_id(app, "X"), cohort_id(app, "Y")
    first, second = two_admins
    edit = lambda: second.post(  # noqa: E731
        f"/admin/users/{edited}", data={"display_name": "被编辑", "role": "trainee", "active": "y", "cohort": "X"}
    )
    responses = together(merge(first, x, y), edit)
    assert [outcome(first, responses[0]), outcome(second, responses[1])] == ["applied", "applied"]
    # Either the edit came first and the merge took the user along into Y, or the
    # merge came first and the edit made a new X, as it would a moment later.
    assert cohorts_of(app, x1, y1) == ["Y", "Y"]
    assert cohort_of(app, edited) in ("X", "Y")


def test_x_into_y_while_one_of_xs_members_is_moved_to_z(app, make, two_admins, together):
    x1, mover = make.user(cohort="X"), make.user(username="mover", cohort="X")
    make.user(cohort="Z")
    x, y = cohort_id(app, "X"), cohort_id(app, "Y") or cohorts_create(app, "Y")
    first, second = two_admins
    edit = lambda: second.post(  # noqa: E731
        f"/admin/users/{mover}", data={"display_name": "调班", "role": "trainee", "active": "y", "cohort": "Z"}
    )
    responses = together(merge(first, x, y), edit)
    assert [outcome(first, responses[0]), outcome(second, responses[1])] == ["applied", "applied"]
    assert cohorts_of(app, x1, mover) == ["Y", "Z"]


def test_an_empty_cohort_deleted_while_a_user_is_edited_into_it(app, make, two_admins, together):
    user = make.user(username="joiner")
    first, second = two_admins
    first.post("/admin/cohorts", data={"name": "X"})
    x = cohort_id(app, "X")
    edit = lambda: second.post(  # noqa: E731
        f"/admin/users/{user}", data={"display_name": "新成员", "role": "trainee", "active": "y", "cohort": "X"}
    )
    responses = together(lambda: first.post(f"/admin/cohorts/{x}/delete"), edit)
    outcome(first, responses[0])
    assert outcome(second, responses[1]) == "applied"
    assert cohort_of(app, user) == "X"


def cohorts_create(app, name: str) -> int:
    with app.app_context():
        cohort = cohorts.create(name)
        db.session.commit()
        return cohort.id
