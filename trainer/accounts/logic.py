"""Accounts: creating users, checking passwords, managing who may log in."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from functools import lru_cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import insert_ignoring_conflicts, utcnow
from ..errors import DomainError
from ..extensions import db
from ..sorting import sort_key
from . import throttle
from .models import Cohort, Role, User

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD = 8
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()


def generate_password(length: int = 12) -> str:
    """A random password without look-alike characters (no 0/O, 1/l/I), for handing out."""
    while True:
        password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def check_password_rules(password: str, username: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise DomainError(_("密码至少要有 %(n)d 个字符", n=MIN_PASSWORD), field)
    if len(password) > 128:
        raise DomainError(_("密码不能超过 128 个字符"), field)
    if password.lower() == username.lower():
        raise DomainError(_("密码不能与用户名相同"), field)
    if password.isdigit():
        raise DomainError(_("密码不能全是数字"), field)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@lru_cache(maxsize=4)
def _decoy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise DomainError(
            _("未知的角色“%(role)s”：应为 trainee（学员）、instructor（教师）或 admin（管理员）", role=value),
            "role",
        ) from None


def cohort_by_name(name: str | None) -> Cohort | None:
    """The cohort of that name, created on first use (safe when two requests race)."""
    name = (name or "").strip()
    if not name:
        return None
    if len(name) > 100:
        raise DomainError(_("“培训班期次”不能超过 100 个字符"), "cohort")
    db.session.execute(
        insert_ignoring_conflicts(Cohort.__table__, ["name"]).values(
            name=name, name_sort=sort_key(name), created_at=utcnow()
        )
    )
    return db.session.scalars(select(Cohort).where(Cohort.name == name)).one()


def create_user(
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    unit: str = "",
    cohort: str | None = None,
) -> User:
    username = normalize_username(username)
    if not USERNAME.match(username):
        raise DomainError(
            _("用户名应为 2–64 个字符，由小写字母、数字和 _ . - 组成，并以字母或数字开头"), "username"
        )
    role_value = parse_role(role)
    check_password_rules(password, username)
    display_name = (display_name or "").strip() or username
    if len(display_name) > 100:
        raise DomainError(_("“姓名”不能超过 100 个字符"), "display_name")
    unit = (unit or "").strip()
    if len(unit) > 100:
        raise DomainError(_("“单位”不能超过 100 个字符"), "unit")
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DomainError(_("用户名“%(username)s”已经存在", username=username), "username")
    user = User(
        username=username,
        display_name=display_name,
        unit=unit,
        cohort=cohort_by_name(cohort),
        role=role_value.value,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    return user


class LoginOutcome(Enum):
    OK = "ok"
    INVALID = "invalid"
    INACTIVE = "inactive"
    LOCKED = "locked"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    remaining_attempts: int = 0
    locked_minutes: int = 0


def throttle_policy() -> throttle.ThrottlePolicy:
    config = current_app.config
    return throttle.ThrottlePolicy(
        max_failures=config["LOGIN_MAX_FAILURES"],
        window=timedelta(minutes=config["LOGIN_WINDOW_MINUTES"]),
        lock=timedelta(minutes=config["LOGIN_LOCK_MINUTES"]),
    )


def authenticate(username: str, password: str, now: datetime | None = None) -> LoginResult:
    """Check a login, counting it against the user name's throttle.

    Unknown names are throttled and hashed like known ones, so neither the answer nor
    its timing tells whether an account exists.
    """
    now = now or utcnow()
    username = normalize_username(username)[:64]
    policy = throttle_policy()
    ticket = throttle.begin_attempt(username, now, policy)
    if not ticket.allowed:
        minutes = max(1, int(((ticket.locked_until or now) - now).total_seconds() + 59) // 60)
        return LoginResult(LoginOutcome.LOCKED, locked_minutes=minutes)
    user = db.session.scalars(select(User).where(User.username == username)).one_or_none()
    stored = user.password_hash if user else _decoy_hash(current_app.config["PASSWORD_HASH_METHOD"])
    password_ok = check_password_hash(stored, password)
    if user is None or not password_ok:
        throttle.purge_expired(now, policy)
        remaining = ticket.remaining(policy)
        if remaining == 0:
            return LoginResult(LoginOutcome.LOCKED, locked_minutes=int(policy.lock.total_seconds() // 60))
        return LoginResult(LoginOutcome.INVALID, remaining_attempts=remaining)
    if not user.active:
        return LoginResult(LoginOutcome.INACTIVE)
    throttle.clear(username)
    return LoginResult(LoginOutcome.OK, user=user)


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not check_password_hash(user.password_hash, current_password):
        raise DomainError(_("当前密码不正确"), "current_password")
    check_password_rules(new_password, user.username, "new_password")
    if check_password_hash(user.password_hash, new_password):
        raise DomainError(_("新密码不能与当前密码相同"), "new_password")
    set_password(user, new_password)


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.session_version += 1


def load_user_for_session(identity: str) -> User | None:
    """Flask-Login's loader: the id and session version must both still match."""
    user_id, _sep, version = identity.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version) or not user.active:
        return None
    return user


@dataclass(frozen=True)
class UserFilter:
    role: str = ""
    unit: str = ""
    cohort_id: int | None = None
    q: str = ""
    active: str = ""  # "", "1" or "0"


def users_query(filters: UserFilter):
    query = select(User).order_by(User.role, User.unit_sort, User.unit, User.name_sort, User.display_name, User.id)
    if filters.role:
        query = query.where(User.role == filters.role)
    if filters.unit:
        query = query.where(User.unit == filters.unit)
    if filters.cohort_id:
        query = query.where(User.cohort_id == filters.cohort_id)
    if filters.active in ("0", "1"):
        query = query.where(User.active.is_(filters.active == "1"))
    if filters.q:
        pattern = f"%{escape_like(filters.q.strip().lower())}%"
        query = query.where(
            or_(User.username.like(pattern, escape="\\"), func.lower(User.display_name).like(pattern, escape="\\"))
        )
    return query


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def distinct_units() -> list[str]:
    return list(
        db.session.scalars(
            select(User.unit).where(User.unit != "").group_by(User.unit).order_by(func.min(User.unit_sort), User.unit)
        )
    )


def all_cohorts() -> list[Cohort]:
    return list(db.session.scalars(select(Cohort).order_by(Cohort.name_sort, Cohort.name)))


def update_user(
    actor: User,
    user: User,
    *,
    display_name: str,
    unit: str,
    cohort: str | None,
    role: str,
    active: bool,
    new_password: str | None = None,
) -> None:
    role_value = parse_role(role)
    if user.id == actor.id and (role_value != Role.ADMIN or not active):
        raise DomainError(_("不能停用自己的账号或取消自己的管理员角色"), "role" if active else "active")
    display_name = display_name.strip()
    if not display_name:
        raise DomainError(_("“姓名”不能为空"), "display_name")
    user.display_name = display_name[:100]
    user.unit = unit.strip()[:100]
    user.cohort = cohort_by_name(cohort)
    user.role = role_value.value
    if user.active and not active:
        user.session_version += 1  # log the user out everywhere at once
    user.active = active
    if new_password:
        check_password_rules(new_password, user.username, "new_password")
        set_password(user, new_password)
