from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.access import trainee_required
from ..extensions import db
from . import logic

bp = Blueprint("lessons", __name__, url_prefix="/learn")


@bp.route("/")
@login_required
def dashboard():
    return render_template("lessons/dashboard.html", courses=logic.dashboard(current_user))


@bp.route("/<course_slug>/")
@login_required
def course(course_slug: str):
    return render_template("lessons/course.html", progress=logic.course_progress(current_user, course_slug))


@bp.route("/<course_slug>/<lesson_slug>")
@login_required
def lesson(course_slug: str, lesson_slug: str):
    page = logic.open_lesson(current_user, course_slug, lesson_slug)
    if page.started_now:
        db.session.commit()  # the lesson counts as started
    return render_template("lessons/lesson.html", page=page)


@bp.route("/<course_slug>/<lesson_slug>/complete", methods=["POST"])
@trainee_required
def complete(course_slug: str, lesson_slug: str):
    course, lesson = logic.complete_lesson(current_user, course_slug, lesson_slug)
    following = logic.next_lesson_after(course, lesson)
    db.session.commit()
    flash(_("已将《%(title)s》标记为已学完。", title=lesson.title), "success")
    if following is not None:
        return redirect(url_for(".lesson", course_slug=course.slug, lesson_slug=following.slug))
    return redirect(url_for(".course", course_slug=course.slug))
