"""Accounts, login, roles and password management."""
from __future__ import annotations

from flask import Flask, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import login_manager

# What a user who must first choose their own password may still reach.
BEFORE_OWN_PASSWORD = {"static", "accounts.change_password", "accounts.logout", "web.healthz", "web.set_language"}


def init_app(app: Flask) -> None:
    from . import logic
    from .views import bp

    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("请先登录。")
    login_manager.login_message_category = "info"
    login_manager.user_loader(logic.load_user_for_session)
    app.register_blueprint(bp)

    @app.before_request
    def require_own_password():
        if request.endpoint in BEFORE_OWN_PASSWORD or request.endpoint is None:
            return None
        if current_user.is_authenticated and current_user.must_change_password:
            return redirect(url_for("accounts.change_password"))
        return None
