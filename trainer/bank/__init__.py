"""The question bank: questions, categories, tags, versions, import and export."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .history import reason_label
    from .logic import lesson_title
    from .render import stem_html
    from .schema import scoring_label, status_label, type_label
    from .views import bp

    app.jinja_env.globals.update(
        question_stem=stem_html, type_label=type_label, status_label=status_label, scoring_label=scoring_label,
        lesson_title=lesson_title,
        reason_label=reason_label,
    )
    app.register_blueprint(bp)
