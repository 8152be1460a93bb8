"""trainer: a training and exam platform for the course 政务信息写作."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as settings
from .extensions import PROJECT_ROOT


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then `TRAINER_*` variables, then `config`."""
    overrides = dict(config or {})
    instance_path = overrides.pop("INSTANCE_PATH", None) or settings.instance_path_from_env()
    app = Flask(
        __name__,
        instance_path=instance_path or str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(settings.DEFAULTS)
    app.config.update(settings.from_environment())
    app.config.update(overrides)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = settings.default_database_url(app.instance_path)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.load_secret_key(app.instance_path)
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]

    logging.basicConfig(level=app.config["LOG_LEVEL"])

    from . import extensions, templating, web
    from .accounts import init_app as init_accounts
    from .bank import init_app as init_bank
    from .cli import init_app as init_cli
    from .lessons import init_app as init_lessons
    from .records import init_app as init_records

    extensions.init_app(app)
    templating.init_app(app)
    web.init_app(app)
    init_accounts(app)
    init_lessons(app)
    init_records(app)
    init_bank(app)
    init_cli(app)
    return app


@event.listens_for(Session, "after_commit")
def _count_request_commits(session: Session) -> None:
    """In tests, fail loudly when a request commits twice: a request is one unit of
    work, so that a failure half-way leaves the database as it was."""
    if has_request_context() and current_app.testing:
        commits = request.environ.get("trainer.commits", 0) + 1
        request.environ["trainer.commits"] = commits
        if commits > 1:
            raise RuntimeError("a request committed more than once")
