"""Jinja filters and globals shared by every domain's templates."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, request, url_for
from flask_babel import format_date, format_datetime

from .markdown import plain_with_quotations, render_inline, render_markdown, render_plain


def _datetime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    return format_datetime(value, fmt) if value else ""


def _date(value: datetime | None) -> str:
    return format_date(value, "yyyy-MM-dd") if value else ""


def page_url(number: int) -> str:
    """This page's URL with its filters kept and another page number."""
    args = {**request.view_args, **request.args.to_dict(), "page": number}  # type: ignore[dict-item]
    return url_for(request.endpoint, **args)  # type: ignore[arg-type]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["markdown_inline"] = render_inline
    app.jinja_env.filters["markdown_plain"] = render_plain
    app.jinja_env.filters["quotations"] = plain_with_quotations
    app.jinja_env.filters["datetime"] = _datetime
    app.jinja_env.filters["date"] = _date
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
