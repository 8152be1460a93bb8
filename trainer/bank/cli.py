"""`trainer import-questions FILE [--category PATH] [--author USER] [--dry-run]`."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.models import User
from ..errors import DomainError
from ..extensions import db
from . import importer
from .categories import checked_path
from .formats import FormatError


def _action_word(action: str) -> str:
    return {"create": _("新建"), "update": _("更新"), "unchanged": _("未变")}[action]


def _counts(created: int, updated: int, unchanged: int) -> str:
    return _("新建 %(created)d，更新 %(updated)d，未变 %(unchanged)d", created=created, updated=updated, unchanged=unchanged)


@click.command("import-questions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--category", default="", help="Category (a path, levels separated by /) for questions the file does not place.")
@click.option("--dry-run", is_flag=True, help="Show what would be created or updated, and import nothing.")
@click.option("--author", default="", help="User name of the instructor recorded as the author of new questions.")
@with_appcontext
def import_questions_command(file: Path, category: str, dry_run: bool, author: str) -> None:
    """Import a question file (xlsx, csv, GIFT, Aiken, YAML, JSON): all of it or nothing."""
    if category:
        try:
            category = checked_path(category)
        except DomainError as error:
            _fail("--category: " + error.message)
    author_user = None
    if author:
        author_user = db.session.scalars(select(User).where(User.username == author.strip().lower())).one_or_none()
        if author_user is None or author_user.is_trainee:
            _fail("--author: " + _("没有名为“%(name)s”的教师或管理员账号", name=author))
    # The same limit as uploads, so the command and the page accept the same files.
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit and file.stat().st_size > limit:
        _fail(f"{file.name}: " + _("文件超过了 %(mb)d MB 的限制（可用 TRAINER_MAX_UPLOAD_MB 调整）", mb=limit // (1024 * 1024)))
    try:
        parsed = importer.parse_file(file.name, file.read_bytes())
    except FormatError as error:
        click.echo(f"{file.name}: {error.problem}", err=True)
        sys.exit(1)
    if not dry_run:
        importer.lock_imports()  # from the plan to the commit, like an upload's confirmation
    plan = importer.plan_import(parsed, category)
    for item in plan.items:
        click.echo(_(
            "第 %(line)d 行%(label)s：%(action)s  %(stem)s", line=item.line,
            label=f" ({item.label})" if item.label else "", action=_action_word(item.action),
            stem=item.data.stem.splitlines()[0][:40],
        ))
    for notice in plan.notices:
        click.echo(_("未导入：%(notice)s", notice=notice))
    if not plan.ok:
        problems = len(plan.problems) + len(plan.source_problems)
        click.echo("\n" + _("发现 %(n)d 个问题，未导入任何题目：", n=problems), err=True)
        for problem in plan.all_problems():
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    if dry_run:
        db.session.rollback()
        counts = _counts(plan.count("create"), plan.count("update"), plan.count("unchanged"))
        click.echo("\n" + _("试运行（未导入）：将%(counts)s", counts=counts))
        return
    try:
        with click.progressbar(length=len(plan.items), label=_("导入中"), file=sys.stderr) as bar:
            summary = importer.apply_plan(plan, author=author_user, progress=bar.update)
    except DomainError as error:
        db.session.rollback()
        click.echo(error.message, err=True)
        sys.exit(1)
    db.session.commit()
    click.echo("\n" + _("导入完成：") + _counts(summary.created, summary.updated, summary.unchanged))


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)
