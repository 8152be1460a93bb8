"""The `trainer` command."""
import os
import re
import subprocess
import sys

import click
from sqlalchemy import func, select

from trainer import cli
from trainer.accounts.models import User
from trainer.extensions import db
from trainer.lessons.models import CourseInstructor, Enrollment, Lesson

from .conftest import AuthActions, make_app


def test_init_demo_creates_accounts_and_prints_passwords_once(app, runner):
    result = runner.invoke(args=["init", "--demo"])
    assert result.exit_code == 0, result.output
    accounts = re.findall(r"(\w+)\s+用户名 (\w+)\s+密码 (\S+)", result.output)
    roles = [role for role, _u, _p in accounts]
    assert roles.count("admin") == 1 and roles.count("instructor") == 1 and roles.count("trainee") == 3
    with app.app_context():
        trainees = db.session.scalars(select(User).where(User.role == "trainee")).all()
        assert len({t.unit for t in trainees}) == 2
        assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 3 * 1
        assert db.session.scalar(select(func.count()).select_from(CourseInstructor)) == 1
        assert db.session.scalar(select(func.count()).select_from(Lesson)) >= 8
    # Every printed password works.
    for _role, username, password in accounts:
        assert AuthActions(app.test_client()).login(username, password).status_code == 302
    again = runner.invoke(args=["init", "--demo"])
    assert again.exit_code == 0 and "密码" not in again.output.split("演示账号")[-1].replace("未修改其密码", "")
    assert "演示账号已存在" in again.output


def test_create_user_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(
        args=["create-user", "--username", "Wang", "--role", "instructor", "--display-name", "王老师", "--unit", "培训中心"],
        input="a-good-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "a-good-password" not in result.output
    assert AuthActions(app.test_client()).login("wang", "a-good-password").status_code == 302


def test_create_user_refuses_duplicates_unknown_roles_and_weak_passwords(app, runner, make):
    make.user(username="taken")
    dup = runner.invoke(args=["create-user", "--username", "taken", "--role", "trainee"], input="a-good-password\n")
    assert dup.exit_code == 1 and "已经存在" in dup.output
    role = runner.invoke(args=["create-user", "--username", "x1", "--role", "boss"], input="a-good-password\n")
    assert role.exit_code == 1 and "未知的角色“boss”" in role.output
    weak = runner.invoke(args=["create-user", "--username", "x2", "--role", "trainee"], input="123\n")
    assert weak.exit_code == 1 and "密码" in weak.output
    course = runner.invoke(args=["create-user", "--username", "x3", "--role", "trainee", "--course", "nope"], input="a-good-password\n")
    assert course.exit_code == 1 and "未知的课程" in course.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_create_user_has_no_password_option():
    assert "--password" not in [opt for param in cli.create_user_command.params for opt in param.opts]


def test_create_user_enrolls_trainees_in_every_course_by_default(app, runner, make):
    make.course("first")
    make.course("second")
    result = runner.invoke(args=["create-user", "--username", "zhao", "--role", "trainee", "--cohort", "一期"], input="a-good-password\n")
    assert result.exit_code == 0
    only = runner.invoke(args=["create-user", "--username", "qian", "--role", "trainee", "--course", "second"], input="a-good-password\n")
    assert only.exit_code == 0
    with app.app_context():
        courses = dict(
            db.session.execute(
                select(User.username, func.count(Enrollment.id)).join(Enrollment).group_by(User.username)
            ).all()
        )
    assert courses == {"zhao": 2, "qian": 1}


def test_run_initializes_a_new_database_first(tmp_path, monkeypatch):
    """`trainer run` on a fresh install migrates and loads content before serving."""
    served = []
    fake_run = click.Command("run", callback=lambda **kwargs: served.append(True), params=[])
    monkeypatch.setattr(cli, "flask_run_command", fake_run)
    app = make_app(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path)
    result = app.test_cli_runner().invoke(cli.run_command)
    assert result.exit_code == 0, result.output
    assert served == [True] and "正在初始化" in result.output
    with app.app_context():
        assert cli.database_is_initialized()
        assert db.session.scalar(select(func.count()).select_from(Lesson)) >= 8
        db.engine.dispose()


def test_the_command_lists_its_subcommands(tmp_path):
    env = {**os.environ, "TRAINER_INSTANCE_PATH": str(tmp_path)}
    help_text = subprocess.run([sys.executable, "-m", "trainer", "--help"], capture_output=True, text=True, env=env)
    for command in ("init", "create-user", "load-content", "run", "db", "shell"):
        assert command in help_text.stdout, help_text.stdout + help_text.stderr


def test_run_warns_about_a_database_that_needs_upgrading(tmp_path, monkeypatch):
    from flask_migrate import downgrade, upgrade

    fake_run = click.Command("run", callback=lambda **kwargs: None, params=[])
    monkeypatch.setattr(cli, "flask_run_command", fake_run)
    app = make_app(f"sqlite:///{tmp_path / 'old.db'}", tmp_path)
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory)
        assert cli.database_is_current()
        downgrade(directory=directory, revision="0001")
        assert not cli.database_is_current()
    result = app.test_cli_runner().invoke(cli.run_command)
    assert "trainer db upgrade" in result.output
    with app.app_context():
        db.engine.dispose()


def test_the_command_speaks_the_configured_language(app, runner, monkeypatch):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    result = runner.invoke(args=["create-user", "--username", "x1", "--role", "boss"], input="pw-long-enough\n")
    assert result.exit_code == 1
    assert "User not created" in result.output, result.output
