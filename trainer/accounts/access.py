"""Who may do what: role decorators for views and a safe `next` redirect."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar
from urllib.parse import urlsplit

from flask import abort, request, url_for
from flask_login import current_user, login_required

from .models import Role

F = TypeVar("F", bound=Callable)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Log in first, then 403 unless the user has one of `roles`."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorator


staff_required = roles_required(Role.INSTRUCTOR, Role.ADMIN)
admin_required = roles_required(Role.ADMIN)
trainee_required = roles_required(Role.TRAINEE)


def is_safe_next(target: str | None) -> bool:
    """Only paths on this site: no scheme, no host, no `//host` or `\\host` tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ch in target for ch in "\r\n\t\\"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(default_endpoint: str = "web.index", field: str = "next") -> str:
    target = request.values.get(field)
    return target if is_safe_next(target) else url_for(default_endpoint)
