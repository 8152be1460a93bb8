"""Site-wide pages: the home redirect, the health check, the language switch, errors."""
from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import Forbidden, HTTPException
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.routing import IntegerConverter

from .accounts.access import safe_next
from .errors import AccessDenied, NotFound
from .extensions import LANGUAGES, db
from .forms import MAX_ID

bp = Blueprint("web", __name__)
log = logging.getLogger(__name__)


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    if current_user.is_trainee:
        return redirect(url_for("lessons.dashboard"))
    return redirect(url_for("records.progress"))


@bp.route("/healthz")
def healthz():
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "unhealthy"
        db.session.rollback()
        log.warning("health check: database unavailable: %s", exc)
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/language", methods=["POST"])
def set_language():
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next())


def _wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _error_response(code: int, title: str, message: str):
    if _wants_json():
        return jsonify(error=title, message=message, status=code), code
    _user_or_anonymous()
    return render_template("error.html", code=code, title=title, message=message), code


def _user_or_anonymous() -> None:
    """Load the user for the error page's navigation; anonymous if the database is down.

    Otherwise the error page itself would fail on the user query and the visitor would
    get the server's bare error instead of the site's page.
    """
    try:
        current_user._get_current_object()
    except SQLAlchemyError:
        db.session.rollback()
        g._login_user = current_app.login_manager.anonymous_user()


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("请求有误"), _("提交的内容无法处理，请返回后重试。")),
        403: (_("没有权限"), _("您的账号没有访问此页面的权限。如需访问，请联系管理员。")),
        404: (_("页面不存在"), _("您要找的页面不存在，或已被移除。")),
        405: (_("请求方式不正确"), _("此页面不接受这种请求方式。")),
        413: (_("文件太大"), _("上传的文件超过了大小限制。")),
        429: (_("请求过于频繁"), _("请稍候再试。")),
        500: (_("服务器出错了"), _("处理您的请求时出现了意外错误，所做的修改没有保存。请稍后重试；如果问题反复出现，请联系管理员。")),
    }


# Defence in depth behind escaping and sanitizing: no script but our own files, no
# framing by other sites. Inline styles stay allowed for the progress bars' widths.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class DatabaseId(IntegerConverter):
    """`<int:...>` in every route: ids beyond the database's integer range are simply
    not found, instead of overflowing in the driver."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    # Before any blueprint adds a rule that uses the converter.
    app.url_map.converters["int"] = DatabaseId
    app.register_blueprint(bp)

    @app.before_request
    def refuse_nul_characters():
        # No text column accepts a NUL character (PostgreSQL refuses it outright), and
        # no honest form sends one.
        if "\x00" in request.path or any("\x00" in value for value in request.values.values()):
            abort(400)

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        # Pages carry private data (progress, accounts, one-time passwords, exports):
        # no browser or proxy cache may keep them. Only the static files are cacheable.
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        code = error.code or 500
        title, message = _messages().get(code, (error.name, error.description or ""))
        if code == 413:
            limit_mb = (app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
            message = _("上传的文件超过了 %(mb)d MB 的限制。", mb=limit_mb)
        return _error_response(code, str(title), str(message))

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        return _error_response(
            400, _("页面已过期"), _("表单的安全校验未通过（页面可能已过期）。请刷新页面后重新提交。")
        )

    @app.errorhandler(AccessDenied)
    def access_denied(error: AccessDenied):
        return http_error(Forbidden())

    @app.errorhandler(NotFound)
    def not_found(error: NotFound):
        return http_error(HTTPNotFound())

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        propagate = app.config.get("PROPAGATE_EXCEPTIONS")
        if propagate or (propagate is None and (app.testing or app.debug)):
            raise error
        title, message = _messages()[500]
        return _error_response(500, str(title), str(message))
