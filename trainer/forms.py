"""Glue between domain errors and WTForms."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectChoice

from .errors import DomainError


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put the logic's message next to the field it names (or above the form)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def filter_choices(all_label: Any, pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """A filter's options: "all" (the empty value) first."""
    return [SelectChoice("", all_label), *choices(pairs)]


MAX_ID = 2**31 - 1


def id_or_none(value: object) -> int | None:
    """A database id from a query string or form: a positive integer in range, or None."""
    text = str(value or "")
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None
