"""Accounts, login, roles and password management."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from ..extensions import login_manager


def init_app(app: Flask) -> None:
    from . import logic
    from .views import bp

    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("请先登录。")
    login_manager.login_message_category = "info"
    login_manager.user_loader(logic.load_user_for_session)
    app.register_blueprint(bp)
