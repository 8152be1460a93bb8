"""Administrators manage accounts."""
import re

import pytest
from sqlalchemy import select

from trainer.accounts.models import User
from trainer.extensions import db
from trainer.lessons.models import Enrollment

from .conftest import AuthActions


def test_create_a_trainee_with_a_generated_password(app, make, login_as):
    course_id = make.course("basics")
    admin, _ = login_as("admin")
    response = admin.post(
        "/admin/users/new",
        data={"username": "Zhao", "display_name": "赵六", "role": "trainee", "unit": "市政府办公室", "cohort": "2026年第一期", "courses": [str(course_id)]},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "账号已创建" in page
    password = re.search(r'<code class="secret">([^<]+)</code>', page).group(1)
    assert AuthActions(app.test_client()).login("zhao", password).status_code == 302
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == "zhao")).one()
        assert user.cohort.name == "2026年第一期" and user.unit == "市政府办公室"
        assert password not in user.password_hash
        assert db.session.scalars(select(Enrollment.course_id).where(Enrollment.user_id == user.id)).all() == [course_id]


def test_errors_name_the_field(app, make, login_as):
    make.user(username="taken")
    admin, _ = login_as("admin")
    duplicate = admin.post("/admin/users/new", data={"username": "taken", "display_name": "x", "role": "trainee"})
    assert duplicate.status_code == 400
    assert re.search(r'id="username-error">用户名“taken”已经存在', duplicate.get_data(as_text=True))
    bad = admin.post("/admin/users/new", data={"username": "a b", "display_name": "", "role": "boss"})
    page = bad.get_data(as_text=True)
    assert 'id="display_name-error"' in page and 'id="role-error"' in page
    weak = admin.post("/admin/users/new", data={"username": "newbie", "display_name": "x", "role": "trainee", "password": "123"})
    assert 'id="password-error"' in weak.get_data(as_text=True)


def test_edit_reset_password_and_enrollments(app, make, login_as):
    first, second = make.course("first"), make.course("second")
    trainee = make.user(username="zhang", courses=[first])
    admin, _ = login_as("admin")
    response = admin.post(
        f"/admin/users/{trainee}",
        data={"display_name": "张三", "role": "trainee", "unit": "新单位", "cohort": "二期", "active": "y", "new_password": "reset-pass-1", "courses": [str(second)]},
    )
    assert response.status_code == 302
    assert AuthActions(app.test_client()).login("zhang", "reset-pass-1").status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Enrollment.course_id).where(Enrollment.user_id == trainee)).all() == [second]
        assert db.session.get(User, trainee).unit == "新单位"


def test_an_admin_cannot_lock_themselves_out(app, login_as):
    admin, admin_id = login_as("admin")
    response = admin.post(f"/admin/users/{admin_id}", data={"display_name": "管理员", "role": "trainee", "active": "y"})
    assert response.status_code == 400 and "不能停用自己的账号" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, admin_id).role == "admin"


def test_the_user_list_filters(app, make, login_as):
    make.user(username="alpha", unit="甲单位")
    make.user(username="beta", unit="乙单位", role="instructor")
    admin, _ = login_as("admin")
    page = admin.get("/admin/users?unit=甲单位").get_data(as_text=True)
    assert "alpha" in page and "beta" not in page
    page = admin.get("/admin/users?role=instructor").get_data(as_text=True)
    assert "beta" in page and "alpha" not in page
    page = admin.get("/admin/users?q=ALP").get_data(as_text=True)
    assert "alpha" in page and "beta" not in page


def test_an_instructors_courses_are_the_ones_they_teach(app, make, login_as):
    first, second = make.course("first"), make.course("second")
    instructor = make.user(username="wang", role="instructor", courses=[first])
    admin, _ = login_as("admin")
    page = admin.get(f"/admin/users/{instructor}").get_data(as_text=True)
    assert re.search(rf'<input checked id="courses-0" name="courses" type="checkbox" value="{first}">', page)
    admin.post(f"/admin/users/{instructor}", data={"display_name": "王老师", "role": "instructor", "active": "y", "courses": [str(second)]})
    with app.app_context():
        from trainer.lessons.models import CourseInstructor

        assert db.session.scalars(select(CourseInstructor.course_id).where(CourseInstructor.user_id == instructor)).all() == [second]


class TestLastAdministrator:
    def test_two_administrators_demoting_each_other_at_once_leave_one(self, app, login_as, together):
        first, first_id = login_as("admin")
        second, second_id = login_as("admin")
        demote = {"display_name": "管理员", "role": "trainee", "active": "y"}
        responses = together(
            lambda: first.post(f"/admin/users/{second_id}", data=demote),
            lambda: second.post(f"/admin/users/{first_id}", data=demote),
        )
        assert sorted(r.status_code for r in responses) == [302, 400]
        refused = next(r for r in responses if r.status_code == 400)
        assert "至少要保留一名可登录的管理员" in refused.get_data(as_text=True)
        assert active_admins(app) == 1

    def test_two_administrators_deactivating_each_other_at_once_leave_one(self, app, login_as, together):
        first, first_id = login_as("admin")
        second, second_id = login_as("admin")
        third, third_id = login_as("admin")
        deactivate = {"display_name": "管理员", "role": "admin"}  # "active" unchecked
        responses = together(
            lambda: first.post(f"/admin/users/{second_id}", data=deactivate),
            lambda: second.post(f"/admin/users/{third_id}", data=deactivate),
            lambda: third.post(f"/admin/users/{first_id}", data=deactivate),
        )
        assert sorted(r.status_code for r in responses) == [302, 302, 400]
        assert active_admins(app) == 1

    def test_the_guard_is_in_the_logic_not_only_in_the_form(self, app, make, ctx):
        from trainer.accounts import logic
        from trainer.errors import DomainError

        first = db.session.get(User, make.user(role="admin"))
        second = db.session.get(User, make.user(role="admin"))
        logic.update_user(first, second, display_name="乙", unit="", cohort=None, role="trainee", active=True)
        db.session.commit()
        # `second`'s page was open from before: the demotion of `first` is refused.
        with pytest.raises(DomainError, match="至少要保留一名可登录的管理员") as raised:
            logic.update_user(second, first, display_name="甲", unit="", cohort=None, role="admin", active=False)
        assert raised.value.field == "active"
        db.session.rollback()
        # Promoting someone else first makes it possible.
        logic.update_user(first, second, display_name="乙", unit="", cohort=None, role="admin", active=True)
        logic.update_user(second, first, display_name="甲", unit="", cohort=None, role="instructor", active=True)
        db.session.commit()
        assert active_admins(app) == 1


def active_admins(app) -> int:
    from sqlalchemy import func

    with app.app_context():
        return db.session.scalar(select(func.count()).where(User.role == "admin", User.active.is_(True)))
