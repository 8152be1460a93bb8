from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.access import staff_required
from ..forms import filter_choices, id_or_none
from ..pagination import Page, page_arg
from . import logic
from .forms import ProgressFilterForm

bp = Blueprint("records", __name__, url_prefix="/records")

PER_PAGE = 50


@bp.route("/progress")
@staff_required
def progress():
    form = ProgressFilterForm(request.args)
    courses, units, cohorts = logic.filter_options(current_user)
    form.course.choices = filter_choices(_("全部课程"), ((str(c.id), c.title) for c in courses))
    form.unit.choices = filter_choices(_("全部单位"), ((u, u) for u in units))
    form.cohort.choices = filter_choices(_("全部期次"), ((str(c.id), c.name) for c in cohorts))
    filters = logic.ProgressFilter(
        unit=form.unit.data or "",
        cohort_id=id_or_none(form.cohort.data),
        course_id=id_or_none(form.course.data),
        q=form.q.data or "",
    )
    page_number = page_arg()
    rows, total = logic.progress_table(courses, filters, page_number, PER_PAGE)
    return render_template(
        "records/progress.html",
        form=form,
        page=Page(rows, page_number, PER_PAGE, total),
        has_courses=bool(courses),
    )


@bp.route("/trainees/<int:trainee_id>")
@staff_required
def trainee(trainee_id: int):
    trainee, courses = logic.trainee_detail(current_user, trainee_id)
    return render_template("records/trainee.html", trainee=trainee, courses=courses)
