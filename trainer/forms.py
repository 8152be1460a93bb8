"""Glue between domain errors and WTForms."""
from __future__ import annotations

from flask_wtf import FlaskForm

from .errors import DomainError


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put the logic's message next to the field it names (or above the form)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
