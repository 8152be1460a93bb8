"""Courses and lessons drawn from the training speech, and trainees' reading progress."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
