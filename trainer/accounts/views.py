from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice

from ..errors import DomainError
from ..extensions import db
from ..forms import choices, filter_choices, id_or_none, show_error
from ..lessons import logic as lessons
from ..pagination import Page, page_arg
from . import cohorts, logic
from .access import admin_required, safe_next
from .forms import (
    ChangePasswordForm,
    CohortEnrollForm,
    CohortMergeForm,
    CohortNameForm,
    LoginForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from .models import Cohort, Role, User

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next())
    form = LoginForm(next=request.args.get("next", ""))
    days = current_app.config["REMEMBER_COOKIE_DURATION"].days
    form.remember.label.text = _("记住我（%(n)d 天内免登录）", n=days)
    status = 200
    if form.validate_on_submit():
        # The attempt itself is counted and committed inside `authenticate`.
        result = logic.authenticate(form.username.data, form.password.data, client_address())
        if result.outcome is logic.LoginOutcome.OK:
            logic.start_login(result.user)
            db.session.commit()
            login_user(result.user, remember=form.remember.data)
            return redirect(safe_next())
        if result.outcome is logic.LoginOutcome.LOCKED:
            form.form_errors.append(logic.locked_message(result.locked_minutes))
            status = 429
        else:
            form.password.errors = [logic.wrong_password_message(result.remaining_attempts)]
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login.html", form=form), status


def client_address() -> str:
    """The client's address (the proxy's X-Forwarded-For when TRAINER_PROXY_COUNT says so)."""
    return request.remote_addr or ""


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        logic.end_login(current_user)
        db.session.commit()
    logout_user()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            logic.change_password(user, form.current_password.data, form.new_password.data, client_address())
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            # Every login of the user ended: this browser gets a new one, others are out.
            logic.start_login(user)
            db.session.commit()
            login_user(user)
            flash(_("密码已修改。其他设备上的登录已失效。"), "success")
            return redirect(url_for("web.index"))
    return render_template("accounts/change_password.html", form=form), 400 if form.errors else 200


def _course_choices() -> list[SelectChoice]:
    return choices((course.id, course.title) for course in lessons.all_courses())


@bp.route("/admin/users")
@admin_required
def users():
    form = UserFilterForm(request.args)
    units = logic.distinct_units()
    cohorts = logic.all_cohorts()
    form.unit.choices = filter_choices(_("全部单位"), ((u, u) for u in units))
    form.cohort.choices = filter_choices(_("全部期次"), ((str(c.id), c.name) for c in cohorts))
    filters = logic.UserFilter(
        role=form.role.data or "",
        unit=form.unit.data or "",
        cohort_id=id_or_none(form.cohort.data),
        q=form.q.data or "",
        active=form.active.data or "",
    )
    pagination = db.paginate(logic.users_query(filters), page=page_arg(), per_page=50, error_out=False)
    page = Page(list(pagination.items), pagination.page, pagination.per_page, pagination.total or 0)
    cohort_names = {c.id: c.name for c in cohorts}
    return render_template("accounts/users.html", form=form, page=page, cohort_names=cohort_names)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@admin_required
def create_user():
    form = UserCreateForm()
    form.courses.choices = _course_choices()
    if request.method == "GET":
        form.courses.data = [choice.value for choice in form.courses.choices]
    if form.validate_on_submit():
        password = form.password.data or logic.generate_password()
        try:
            user = logic.create_user(
                form.username.data,
                password,
                form.role.data,
                display_name=form.display_name.data,
                unit=form.unit.data,
                cohort=form.cohort.data,
                must_change_password=True,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            if user.role == Role.TRAINEE:
                lessons.enroll(user, form.courses.data or [])
            elif user.role == Role.INSTRUCTOR:
                lessons.assign_instructor(user, form.courses.data or [])
            db.session.commit()
            # Shown once, on this page only: the password is not kept anywhere in clear.
            return render_template(
                "accounts/user_created.html",
                user=user,
                password=password if not form.password.data else None,
            )
    return render_template("accounts/user_form.html", form=form, user=None), 400 if form.errors else 200


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user if request.method == "GET" else None)
    form.courses.choices = _course_choices()
    if request.method == "GET":
        form.cohort.data = user.cohort.name if user.cohort else ""
        form.courses.data = (
            lessons.taught_course_ids(user) if user.role == Role.INSTRUCTOR else lessons.enrolled_course_ids(user)
        )
    if form.validate_on_submit():
        try:
            logic.update_user(
                current_user,
                user,
                display_name=form.display_name.data,
                unit=form.unit.data or "",
                cohort=form.cohort.data,
                role=form.role.data,
                active=form.active.data,
                new_password=form.new_password.data or None,
                end_logins=form.end_logins.data,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            if user.role == Role.TRAINEE:
                lessons.set_enrollments(user, form.courses.data or [])
            elif user.role == Role.INSTRUCTOR:
                lessons.set_taught_courses(user, form.courses.data or [])
            db.session.commit()
            flash(_("已保存 %(name)s 的账号信息。", name=user.display_name), "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_form.html", form=form, user=user), 400 if form.errors else 200


@bp.route("/admin/cohorts", methods=["GET", "POST"])
@admin_required
def cohort_list():
    form = CohortNameForm()
    if form.validate_on_submit():
        try:
            cohort = cohorts.create(form.name.data)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("已新建期次“%(name)s”。", name=cohort.name), "success")
            return redirect(url_for("accounts.cohort_list"))
    return render_template("accounts/cohorts.html", form=form, rows=cohorts.summaries()), 400 if form.errors else 200


class _CohortForms:
    """The four forms of a cohort's page, so a failed one is shown with its errors beside the others."""

    def __init__(self, cohort: Cohort) -> None:
        self.rename = CohortNameForm(prefix="rename")
        if request.method == "GET":  # a post missing the field must not fall back to the old name
            self.rename.name.data = cohort.name
        self.enroll = CohortEnrollForm(prefix="enroll")
        self.enroll.courses.choices = _course_choices()
        self.merge = CohortMergeForm(prefix="merge")
        self.merge.target.choices = filter_choices(
            _("请选择期次"), ((str(c.id), c.name) for c in logic.all_cohorts() if c.id != cohort.id)
        )
        self.remove = FlaskForm(prefix="remove")


def _cohort_or_404(cohort_id: int) -> Cohort:
    return db.session.get(Cohort, cohort_id) or abort(404)


def _cohort_page(cohort: Cohort, forms: _CohortForms, status: int = 200):
    return render_template(
        "accounts/cohort.html", summary=cohorts.summary(cohort), forms=forms
    ), status


@bp.route("/admin/cohorts/<int:cohort_id>")
@admin_required
def cohort_detail(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    return _cohort_page(cohort, _CohortForms(cohort))


def _cohort_action(cohort_id: int, form_name: str, action):
    """Validate one of the page's forms, run `action(form)`, commit and go back to the page."""
    cohort = _cohort_or_404(cohort_id)
    forms = _CohortForms(cohort)
    form = getattr(forms, form_name)
    if form.validate_on_submit():
        try:
            message = action(cohort, form)
        except DomainError as error:
            db.session.rollback()
            if db.session.scalar(select(Cohort.id).where(Cohort.id == cohort_id)) is None:
                # Another administrator merged or deleted it meanwhile: nothing to show.
                flash(error.message, "error")
                return redirect(url_for("accounts.cohort_list"))
            show_error(form, error)
        else:
            db.session.commit()
            flash(message, "success")
            if form_name in ("merge", "remove"):
                return redirect(url_for("accounts.cohort_list"))
            return redirect(url_for("accounts.cohort_detail", cohort_id=cohort.id))
    # After a rollback the cohort's attributes are reloaded from the database.
    return _cohort_page(cohort, forms, 400)


@bp.route("/admin/cohorts/<int:cohort_id>/rename", methods=["POST"])
@admin_required
def cohort_rename(cohort_id: int):
    def action(cohort, form):
        cohorts.rename(cohort, form.name.data)
        return _("期次已改名为“%(name)s”。", name=cohort.name)

    return _cohort_action(cohort_id, "rename", action)


@bp.route("/admin/cohorts/<int:cohort_id>/enroll", methods=["POST"])
@admin_required
def cohort_enroll(cohort_id: int):
    def action(cohort, form):
        added = cohorts.enroll_trainees(cohort, form.courses.data or [])
        return _("已为“%(name)s”的学员新增 %(n)d 条选课记录；已选过的不重复添加。", name=cohort.name, n=added)

    return _cohort_action(cohort_id, "enroll", action)


@bp.route("/admin/cohorts/<int:cohort_id>/merge", methods=["POST"])
@admin_required
def cohort_merge(cohort_id: int):
    def action(cohort, form):
        name = cohort.name
        target, moved = cohorts.merge(cohort, id_or_none(form.target.data))
        return _("已把“%(source)s”的 %(n)d 名成员并入“%(target)s”，原期次已删除。",
                 source=name, n=moved, target=target.name)

    return _cohort_action(cohort_id, "merge", action)


@bp.route("/admin/cohorts/<int:cohort_id>/delete", methods=["POST"])
@admin_required
def cohort_delete(cohort_id: int):
    def action(cohort, form):
        name = cohort.name
        cohorts.remove(cohort)
        return _("已删除期次“%(name)s”。", name=name)

    return _cohort_action(cohort_id, "remove", action)
