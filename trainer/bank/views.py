from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from ..accounts.access import safe_next, staff_required
from ..errors import DomainError
from ..extensions import db
from ..forms import filter_choices, id_or_none, show_error
from ..pagination import Page, page_arg
from . import categories, formats, history, importer, logic
from .forms import BankFilterForm, BulkForm, CategoryMoveForm, ExportForm, ImportForm, QuestionForm, RestoreForm
from .models import Category
from .schema import QuestionData, validate

bp = Blueprint("bank", __name__, url_prefix="/bank")

PER_PAGE = 30
EXPORT_TYPES = {
    "yaml": ("application/x-yaml; charset=utf-8", "yaml"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "gift": ("text/plain; charset=utf-8", "gift.txt"),
}


def _filters_from(form: BankFilterForm) -> logic.BankFilter:
    return logic.BankFilter(
        category_id=id_or_none(form.category.data),
        qtype=form.qtype.data or "",
        tag_id=id_or_none(form.tag.data),
        lesson_id=id_or_none(form.lesson.data),
        difficulty=id_or_none(form.difficulty.data),
        status=form.status.data or "",
        q=form.q.data or "",
    )


def _filter_form() -> tuple[BankFilterForm, list]:
    form = BankFilterForm(request.args)
    categories, tags, lessons = logic.filter_choices_data()
    form.category.choices = filter_choices(
        _("全部分类"), ((str(c.id), "\u2003" * c.depth + c.name) for c in categories)
    )
    form.tag.choices = filter_choices(_("全部标签"), ((str(t.id), t.name) for t in tags))
    form.lesson.choices = filter_choices(_("全部课"), ((str(lid), title) for lid, title, _ref in lessons))
    return form, categories


@bp.route("/")
@staff_required
def browse():
    form, categories = _filter_form()
    filters = _filters_from(form)
    number = page_arg()
    questions, total = logic.browse(filters, number, PER_PAGE)
    return render_template(
        "bank/browse.html",
        form=form,
        page=Page(questions, number, PER_PAGE, total),
        bulk=BulkForm(),
        export_form=ExportForm(request.args),
        category_paths=[c.path for c in categories],
        filtered=not filters.is_empty(),
    )


@bp.route("/bulk", methods=["POST"])
@staff_required
def bulk():
    form = BulkForm()
    if form.validate_on_submit():
        ids = [i for i in (id_or_none(value) for value in form.ids.data) if i is not None]
        try:
            if form.action.data == "move":
                count = logic.bulk_move(ids, form.category.data or "", by=current_user)
                message = _("已将 %(n)d 道题移动到“%(path)s”。", n=count, path=form.category.data.strip())
            else:
                status = {"retire": "retired", "ready": "ready", "draft": "draft"}[form.action.data]
                count = logic.bulk_set_status(ids, status, by=current_user)
                message = _("已更新 %(n)d 道题的状态。", n=count)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(message, "success")
    else:
        flash(_("批量操作的内容不完整，请重新选择。"), "error")
    return redirect(safe_next(".browse", field="back"))


def _question_form(data: QuestionData | None = None) -> QuestionForm:
    form = QuestionForm()
    form.lesson.choices = filter_choices(
        _("（不属于某一课）"), ((ref, title) for _lid, title, ref in logic.lesson_choices())
    )
    if data is not None and request.method == "GET":
        form.fill_from(data)
    return form


def _save(form: QuestionForm, question=None):
    data = form.to_data()
    try:
        if question is None:
            question = logic.create_question(data, current_user)
            message = _("已新建题目。")
        else:
            revision = id_or_none(form.revision.data)
            changed = logic.update_question(question, data, based_on_revision=revision, by=current_user)
            message = _("已保存修改。") if changed else _("没有修改任何内容。")
    except logic.QuestionInvalid as error:
        form.show_problems(error.problems)
        return None
    except DomainError as error:
        db.session.rollback()  # a unique violation has spoiled the transaction
        show_error(form, error)
        return None
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".question", question_id=question.id))


@bp.route("/questions/new", methods=["GET", "POST"])
@staff_required
def create():
    form = _question_form()
    if form.validate_on_submit():
        response = _save(form)
        if response is not None:
            return response
    return render_template("bank/edit.html", form=form, question=None), 400 if form.errors or form.form_errors else 200


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(question_id: int):
    question = logic.get_question(question_id)
    form = _question_form(logic.data_of(question))
    if request.method == "GET":
        form.revision.data = str(question.revision)
    if form.validate_on_submit():
        response = _save(form, question)
        if response is not None:
            return response
    return render_template(
        "bank/edit.html", form=form, question=question, versions_used=logic.history_counts(question)[1] > 0
    ), 400 if form.errors or form.form_errors else 200


@bp.route("/questions/preview", methods=["POST"])
@staff_required
def preview():
    """Show an unsaved form's question as a trainee would see it."""
    form = _question_form()
    data = form.to_data().canonical() if form.validate_on_submit() else None
    problems = validate(data) if data is not None else []
    return render_template("bank/preview.html", data=data, problems=problems, form=form)


@bp.route("/questions/<int:question_id>")
@staff_required
def question(question_id: int):
    item = logic.get_question(question_id)
    revisions, used = logic.history_counts(item)
    return render_template(
        "bank/question.html", question=item, data=logic.data_of(item), revisions=revisions, used=used
    )


@bp.route("/questions/<int:question_id>/history")
@staff_required
def question_history(question_id: int):
    item = logic.get_question(question_id)
    return render_template("bank/history.html", question=item, revisions=history.revisions(item))


def _readable(version) -> tuple[object, str | None]:
    """A revision's data, or why it no longer reads as a question."""
    try:
        return logic.version_data(version), None
    except logic.QuestionInvalid as error:
        return None, error.message


@bp.route("/questions/<int:question_id>/versions/<int:revision>")
@staff_required
def version(question_id: int, revision: int):
    item = logic.get_question(question_id)
    found = history.version_at(item, revision)
    data, problem = _readable(found)
    form = RestoreForm(revision=str(item.revision))
    return render_template("bank/version.html", question=item, version=found, data=data, problem=problem, form=form)


@bp.route("/questions/<int:question_id>/versions/<int:revision>/restore", methods=["POST"])
@staff_required
def restore(question_id: int, revision: int):
    item = logic.get_question(question_id)
    form = RestoreForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        history.restore(item, revision, id_or_none(form.revision.data), current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".version", question_id=question_id, revision=revision))
    db.session.commit()
    flash(_("已将修订 %(old)d 的内容恢复为新的修订 %(new)d。", old=revision, new=item.revision), "success")
    return redirect(url_for(".question", question_id=question_id))


@bp.route("/questions/<int:question_id>/diff")
@staff_required
def question_diff(question_id: int):
    """Two revisions side by side: `from` (default: the one before `to`) and `to` (default: the current one)."""
    item = logic.get_question(question_id)
    newer = id_or_none(request.args.get("to")) or item.revision
    older = id_or_none(request.args.get("from")) or max(newer - 1, 1)
    versions = {v: history.version_at(item, v) for v in {older, newer}}
    (old, old_problem), (new, new_problem) = _readable(versions[older]), _readable(versions[newer])
    changes, same = history.diff(old, new) if old is not None and new is not None else ([], [])
    return render_template(
        "bank/diff.html", question=item, older=versions[older], newer=versions[newer], changes=changes, same=same,
        problem=old_problem or new_problem,
    )


@bp.route("/questions/<int:question_id>/delete", methods=["POST"])
@staff_required
def delete(question_id: int):
    item = logic.get_question(question_id)
    try:
        logic.delete_question(item)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".question", question_id=question_id))
    db.session.commit()
    flash(_("已删除题目。"), "success")
    return redirect(url_for(".browse"))


@bp.route("/import", methods=["GET", "POST"])
@staff_required
def upload():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        raw = upload.read()
        try:
            formats.detect_format(upload.filename or "", raw)
        except formats.FormatError as error:
            form.file.errors = [*form.file.errors, error.problem.message]
        else:
            batch = importer.store_upload(current_user, upload.filename or "", raw, form.category.data or "")
            db.session.commit()
            return redirect(url_for(".import_preview", batch_id=batch.id))
    limit_mb = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    return render_template(
        "bank/import.html", form=form, limit_mb=limit_mb, max_questions=current_app.config["IMPORT_MAX_QUESTIONS"]
    ), 400 if form.errors else 200


@bp.route("/import/<int:batch_id>")
@staff_required
def import_preview(batch_id: int):
    batch = importer.batch_for(current_user, batch_id)
    if batch.applied_at is not None:
        changes = importer.changes_of(batch)
        return render_template(
            "bank/import_done.html", batch=batch, changes=changes, blocked=[c for c in changes if c.blocker],
            undo=FlaskForm(prefix="undo"),
        )
    return render_template("bank/import_preview.html", batch=batch, plan=importer.plan_batch(batch))


@bp.route("/import/<int:batch_id>/undo", methods=["POST"])
@staff_required
def import_undo(batch_id: int):
    if not FlaskForm(prefix="undo").validate_on_submit():
        abort(400)
    try:
        summary = importer.undo_batch(current_user, batch_id)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("已撤销这次导入：删除新建的 %(deleted)d 道题，恢复 %(restored)d 道题导入前的内容。",
                deleted=summary.deleted, restored=summary.restored), "success")
    return redirect(url_for(".import_preview", batch_id=batch_id))


@bp.route("/imports")
@staff_required
def import_list():
    number = page_arg()
    batches, total = importer.imports_for(current_user, number, PER_PAGE)
    return render_template("bank/imports.html", page=Page(batches, number, PER_PAGE, total))


@bp.route("/import/<int:batch_id>/confirm", methods=["POST"])
@staff_required
def import_confirm(batch_id: int):
    try:
        _batch, plan, summary = importer.confirm_batch(current_user, batch_id)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".import_preview", batch_id=batch_id))
    if summary is None:
        db.session.rollback()  # nothing imported, and the upload stays open for another try
        return render_template("bank/import_preview.html", batch=importer.batch_for(current_user, batch_id), plan=plan), 400
    db.session.commit()
    flash(
        _("导入完成：新建 %(created)d 道，更新 %(updated)d 道，未变 %(unchanged)d 道。", **summary.as_dict()),
        "success",
    )
    return redirect(url_for(".import_preview", batch_id=batch_id))


@bp.route("/import/template.xlsx")
@staff_required
def import_template():
    return Response(
        formats.xlsx_template(),
        mimetype=EXPORT_TYPES["xlsx"][0],
        headers={"Content-Disposition": "attachment; filename=question-template.xlsx"},
    )


@bp.route("/export")
@staff_required
def export():
    form, _categories = _filter_form()
    export_form = ExportForm(request.args)
    fmt = export_form.format.data if export_form.format.data in EXPORT_TYPES else "yaml"
    questions = logic.questions_for_export(_filters_from(form))
    mimetype, extension = EXPORT_TYPES[fmt]
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return Response(
        formats.export(questions, fmt),
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename=question-bank-{stamp}.{extension}"},
    )


@bp.route("/categories")
@staff_required
def category_list():
    return render_template("bank/categories.html", rows=categories.tree(), prune=FlaskForm(prefix="prune"))


@bp.route("/categories/prune", methods=["POST"])
@staff_required
def category_prune():
    if not FlaskForm(prefix="prune").validate_on_submit():
        abort(400)
    removed = categories.prune_empty()
    db.session.commit()
    flash(_("已删除 %(n)d 个空分类。", n=removed), "success")
    return redirect(url_for(".category_list"))


def _category_or_404(category_id: int):
    return db.session.get(Category, category_id) or abort(404)


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@staff_required
def category_edit(category_id: int):
    category = _category_or_404(category_id)
    form = CategoryMoveForm()
    if request.method == "GET":  # a post missing the field must not fall back to the old path
        form.path.data = category.path
    if form.validate_on_submit():
        try:
            moved = categories.move(category, form.path.data, by=current_user)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            db.session.commit()
            flash(_("分类已改为“%(path)s”（%(n)d 个分类的路径随之更新）。", path=category.path, n=moved), "success")
            return redirect(url_for(".category_list"))
    page = render_template(
        "bank/category.html", row=categories.summary(category), form=form, remove=FlaskForm(prefix="remove")
    )
    return page, 400 if form.errors else 200


@bp.route("/categories/<int:category_id>/delete", methods=["POST"])
@staff_required
def category_delete(category_id: int):
    category = _category_or_404(category_id)
    if not FlaskForm(prefix="remove").validate_on_submit():
        abort(400)
    path = category.path
    try:
        categories.remove(category)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".category_edit", category_id=category_id))
    db.session.commit()
    flash(_("已删除分类“%(path)s”。", path=path), "success")
    return redirect(url_for(".category_list"))
