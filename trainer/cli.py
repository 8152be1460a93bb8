"""The `trainer` command: Flask's CLI bound to the app factory, plus the project's own
commands (`init`, `create-user`, `load-content`, `import-questions`, and a `run` that
prepares a new database first)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from flask.cli import run_command as flask_run_command
from flask_babel import gettext as _
from flask_migrate import upgrade
from sqlalchemy import inspect

from .errors import DomainError
from .extensions import db


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def database_is_initialized() -> bool:
    return inspect(db.engine).has_table("alembic_version")


def database_is_current() -> bool:
    """Whether the database has every migration this code expects."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads


def migrate_database() -> None:
    upgrade(directory=current_app.extensions["migrate"].directory)


def load_lessons(report_to=click.echo) -> None:
    """Sync lesson files into the database in one transaction (or exit non-zero)."""
    from .lessons.content import ContentError, load_content

    root = Path(current_app.config["CONTENT_DIR"])
    try:
        report = load_content(root)
    except ContentError as error:
        db.session.rollback()
        lines = "\n".join(f"  {problem}" for problem in error.problems)
        _fail(_("课程内容有错误，未载入任何内容：") + "\n" + lines)
    db.session.commit()
    report_to(_(
        "课程：新建 %(courses_created)d，更新 %(courses_updated)d；"
        "课：新建 %(lessons_created)d，更新 %(lessons_updated)d，未变 %(lessons_unchanged)d，归档 %(lessons_archived)d",
        courses_created=report.courses_created, courses_updated=report.courses_updated,
        lessons_created=report.lessons_created, lessons_updated=report.lessons_updated,
        lessons_unchanged=report.lessons_unchanged, lessons_archived=report.lessons_archived,
    ))


def load_question_bank(report_to=click.echo) -> None:
    from .bank.importer import import_folder

    folder = Path(current_app.config["QUESTION_BANK_DIR"])
    if not folder.is_dir():
        return
    try:
        summary = import_folder(folder)
    except DomainError as error:
        db.session.rollback()
        _fail(_("题库文件有错误，未导入任何题目：") + "\n" + error.message)
    db.session.commit()
    report = _("题库：新建 %(created)d，更新 %(updated)d，未变 %(unchanged)d", **summary.as_dict())
    if summary.kept:
        report += _("，保留教师修改过的 %(kept)d", kept=summary.kept)
    report_to(report)


DEMO_USERS = (
    # username, role, display name, unit, cohort
    ("admin", "admin", "系统管理员", "培训中心", None),
    ("teacher", "instructor", "王老师", "培训中心", None),
    ("zhangsan", "trainee", "张三", "市政府办公室", "2026年第一期"),
    ("lisi", "trainee", "李四", "市政府办公室", "2026年第一期"),
    ("wangwu", "trainee", "王五", "区政务服务中心", "2026年第二期"),
)


def create_demo_accounts() -> list[tuple[str, str, str]]:
    """The demo accounts that do not exist yet, with fresh random passwords."""
    from .accounts import logic as accounts
    from .accounts.models import User
    from .lessons import logic as lessons

    created = []
    course_ids = [c.id for c in lessons.all_courses()]
    for username, role, name, unit, cohort in DEMO_USERS:
        if db.session.scalar(db.select(User.id).where(User.username == username)) is not None:
            continue
        password = accounts.generate_password(current_app.config["DEMO_PASSWORD_LENGTH"])
        user = accounts.create_user(username, password, role, display_name=name, unit=unit, cohort=cohort)
        if role == "trainee":
            lessons.enroll(user, course_ids)
        elif role == "instructor":
            lessons.assign_instructor(user, course_ids)
        created.append((username, role, password))
    return created


def initialize(demo: bool = False) -> None:
    migrate_database()
    load_lessons()
    load_question_bank()
    if demo:
        created = create_demo_accounts()
        db.session.commit()
        if created:
            click.echo("\n" + _("演示账号（密码只显示这一次，请记下）："))
            for username, role, password in created:
                click.echo(f"  {role:<10} " + _("用户名 %(username)s  密码 %(password)s", username=f"{username:<10}", password=password))
            click.echo("")
        else:
            click.echo(_("演示账号已存在，未修改其密码。"))


@click.command("init")
@click.option("--demo", is_flag=True, help="Also create demo accounts and print their passwords once.")
@with_appcontext
def init_command(demo: bool) -> None:
    """Create or upgrade the database and load the course content."""
    initialize(demo)


@click.command("load-content")
@with_appcontext
def load_content_command() -> None:
    """Sync lessons from the lessons folder (idempotent, all-or-nothing)."""
    load_lessons()


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--role", required=True, help="trainee, instructor or admin")
@click.option("--display-name", default=None)
@click.option("--unit", default="")
@click.option("--cohort", default=None)
@click.option(
    "--course",
    "courses",
    multiple=True,
    help="Course slug to enroll a trainee in (or assign an instructor to); default: every course.",
)
@with_appcontext
def create_user_command(username, role, display_name, unit, cohort, courses) -> None:
    """Create a user. The password is read from standard input, never from arguments."""
    from .accounts import logic as accounts
    from .accounts.models import Role
    from .lessons import logic as lessons

    try:
        role_value = accounts.parse_role(role)
        known = {c.slug: c.id for c in lessons.all_courses()}
        unknown = [slug for slug in courses if slug not in known]
        if unknown:
            raise DomainError(_("未知的课程：%(slugs)s", slugs=", ".join(unknown)), "course")
    except DomainError as error:
        _fail(_("未创建用户：%(reason)s", reason=error.message))
    course_ids = [known[slug] for slug in courses] if courses else list(known.values())
    if sys.stdin.isatty():
        password = click.prompt(_("密码"), hide_input=True, confirmation_prompt=_("再次输入密码"))
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        # Whoever typed the password here, its user chooses their own at first login.
        user = accounts.create_user(
            username, password, role, display_name=display_name, unit=unit, cohort=cohort, must_change_password=True
        )
        if role_value == Role.TRAINEE:
            lessons.enroll(user, course_ids)
        elif role_value == Role.INSTRUCTOR:
            lessons.assign_instructor(user, course_ids)
    except DomainError as error:
        db.session.rollback()
        _fail(_("未创建用户：%(reason)s", reason=error.message))
    db.session.commit()
    click.echo(_("已创建用户 %(username)s（%(role)s）", username=user.username, role=user.role_label))


@click.command("run", context_settings=flask_run_command.context_settings)
@click.pass_context
def run_command(ctx: click.Context, **kwargs) -> None:
    """Serve the site; a database that does not exist yet is initialized first."""
    app = ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        if not database_is_initialized():
            click.echo(_("数据库尚未初始化，正在初始化……"))
            initialize(demo=False)
            click.echo(_("提示：运行 trainer init --demo 可创建演示账号，或用 trainer create-user 创建管理员。"))
        elif not database_is_current():
            # Upgrading is an operator's decision (other hosts may still run old code).
            click.echo(_("警告：数据库结构不是最新版本，请先运行 trainer db upgrade（或 trainer init）。"), err=True)
    ctx.invoke(flask_run_command, **kwargs)


run_command.params = list(flask_run_command.params)


def init_app(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(load_content_command)
    app.cli.add_command(create_user_command)
    from .bank.cli import import_questions_command

    app.cli.add_command(import_questions_command)


def _create_app() -> Flask:
    from . import create_app

    return create_app()


def main() -> None:
    cli = FlaskGroup(create_app=_create_app, add_default_commands=False, add_version_option=False)
    from flask.cli import routes_command, shell_command

    cli.add_command(run_command)
    cli.add_command(shell_command)
    cli.add_command(routes_command)
    cli.main(prog_name="trainer")
