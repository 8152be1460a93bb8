"""`trainer import-questions FILE [--category PATH] [--author USER] [--dry-run]`."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from ..accounts.models import User
from ..errors import DomainError
from ..extensions import db
from . import importer
from .categories import checked_path
from .formats import FormatError

ACTION_WORDS = {"create": "新建", "update": "更新", "unchanged": "未变"}


@click.command("import-questions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--category", default="", help="Category for questions the file does not place, e.g. 政务信息写作基础/三个理念")
@click.option("--dry-run", is_flag=True, help="Show what would be created or updated, and import nothing.")
@click.option("--author", default="", help="User name of the instructor recorded as the author of new questions.")
@with_appcontext
def import_questions_command(file: Path, category: str, dry_run: bool, author: str) -> None:
    """Import a question file (xlsx, csv, GIFT, Aiken, YAML, JSON): all of it or nothing."""
    if category:
        try:
            category = checked_path(category)
        except DomainError as error:
            _fail(f"--category：{error.message}")
    author_user = None
    if author:
        author_user = db.session.scalars(select(User).where(User.username == author.strip().lower())).one_or_none()
        if author_user is None or author_user.is_trainee:
            _fail(f"--author：没有名为“{author}”的教师或管理员账号")
    # The same limit as uploads, so the command and the page accept the same files.
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit and file.stat().st_size > limit:
        _fail(f"{file.name}：文件超过了 {limit // (1024 * 1024)} MB 的限制（可用 TRAINER_MAX_UPLOAD_MB 调整）")
    try:
        parsed = importer.parse_file(file.name, file.read_bytes())
    except FormatError as error:
        click.echo(f"{file.name}：{error.problem}", err=True)
        sys.exit(1)
    plan = importer.plan_import(parsed, category)
    for item in plan.items:
        label = f"（{item.label}）" if item.label else ""
        click.echo(f"第 {item.line} 行{label}：{ACTION_WORDS[item.action]}  {item.data.stem.splitlines()[0][:40]}")
    if not plan.ok:
        click.echo(f"\n发现 {len(plan.problems)} 个问题，未导入任何题目：", err=True)
        for problem in plan.all_problems():
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    counts = f"新建 {plan.count('create')}，更新 {plan.count('update')}，未变 {plan.count('unchanged')}"
    if dry_run:
        db.session.rollback()
        click.echo(f"\n试运行（未导入）：将{counts}")
        return
    try:
        with click.progressbar(length=len(plan.items), label="导入中", file=sys.stderr) as bar:
            summary = importer.apply_plan(plan, author=author_user, progress=bar.update)
    except DomainError as error:
        db.session.rollback()
        click.echo(error.message, err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"\n导入完成：新建 {summary.created}，更新 {summary.updated}，未变 {summary.unchanged}")


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)
