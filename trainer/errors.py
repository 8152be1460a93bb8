"""Errors raised by the domain logic; the web layer turns them into pages."""
from __future__ import annotations


class DomainError(Exception):
    """Input the logic refuses, with a Chinese message that names the field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class AccessDenied(Exception):
    """The user may not see or change this object (HTTP 403)."""


class NotFound(Exception):
    """No such object, or none the user may know about (HTTP 404)."""
