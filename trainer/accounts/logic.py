"""Accounts: creating users, checking passwords, managing who may log in."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select

from ..database import insert_ignoring_conflicts, utcnow
from ..errors import DomainError
from ..extensions import db
from ..sorting import sort_key
from . import passwords, throttle
from .locking import lock_rows
from .models import Cohort, LoginSession, Role, ThrottleScope, User

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


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise DomainError(
            _("未知的角色“%(role)s”：应为 trainee（学员）、instructor（教师）或 admin（管理员）", role=value),
            "role",
        ) from None


def cohort_by_name(name: str | None) -> Cohort | None:
    """The cohort of that name, created on first use, and locked until the transaction
    ends so that a concurrent merge or delete cannot take it from under the user being
    put into it.

    Call it before changing any user row: a merge locks its cohorts first and then
    their members, and this keeps to that order.
    """
    name = (name or "").strip()
    if not name:
        return None
    if len(name) > 100:
        raise DomainError(_("“培训班期次”不能超过 100 个字符"), "cohort")
    # A cohort merged or deleted between the insert and the lock is gone once the lock
    # is granted; creating it again is what the same edit made a moment later would do.
    for _attempt in range(3):
        db.session.execute(
            insert_ignoring_conflicts(Cohort.__table__, ["name"]).values(
                name=name, name_sort=sort_key(name), created_at=utcnow()
            )
        )
        cohort_id = lock_rows(Cohort, Cohort.name == name, shared=True).first()
        if cohort_id is not None:
            return db.session.get(Cohort, cohort_id[0], populate_existing=True)
    raise DomainError(_("期次“%(name)s”正被其他管理员反复修改，请稍后重试。", name=name), "cohort")


def create_user(
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    unit: str = "",
    cohort: str | None = None,
    must_change_password: bool = False,
) -> User:
    """A new account; `must_change_password` for one whose password someone else chose."""
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
    password_hash = passwords.hash_password(password)  # before the first write: no lock held meanwhile
    user = User(
        username=username,
        display_name=display_name,
        unit=unit,
        cohort=cohort_by_name(cohort),
        role=role_value.value,
        password_hash=password_hash,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    return user


class LoginOutcome(Enum):
    OK = "ok"
    INVALID = "invalid"
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
        limits={
            ThrottleScope.PAIR: config["LOGIN_MAX_FAILURES"],
            ThrottleScope.NAME: config["LOGIN_MAX_FAILURES_PER_NAME"],
            ThrottleScope.ADDRESS: config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
        },
        window=timedelta(minutes=config["LOGIN_WINDOW_MINUTES"]),
        lock=timedelta(minutes=config["LOGIN_LOCK_MINUTES"]),
    )


def _check_password(username: str, address: str, password: str, now: datetime) -> LoginResult:
    """Count the attempt (committed on its own), then check the password holding no lock.

    Unknown names and disabled accounts are counted and hashed like any other, and
    answer exactly as a wrong password does: neither the answer nor its timing tells
    whether an account exists, is disabled, or was given the right password. On
    success nothing has been written yet; the caller records it (`_record_success`).
    """
    policy = throttle_policy()
    ticket = throttle.begin_attempt(username, address, now, policy)
    if not ticket.allowed:
        minutes = max(1, int(((ticket.locked_until or now) - now).total_seconds() + 59) // 60)
        return LoginResult(LoginOutcome.LOCKED, locked_minutes=minutes)
    user = db.session.scalars(select(User).where(User.username == username)).one_or_none()
    password_ok = passwords.verify(user.password_hash if user else passwords.decoy_hash(), password)
    if user is None or not password_ok or not user.active:
        if ticket.remaining == 0:
            return LoginResult(LoginOutcome.LOCKED, locked_minutes=int(policy.lock.total_seconds() // 60))
        return LoginResult(LoginOutcome.INVALID, remaining_attempts=ticket.remaining)
    return LoginResult(LoginOutcome.OK, user=user)


def _record_success(user: User, address: str, new_hash: str | None = None) -> None:
    throttle.succeeded(user.username, address, throttle_policy())
    if new_hash is not None:
        user.password_hash = new_hash


def authenticate(username: str, password: str, address: str, now: datetime | None = None) -> LoginResult:
    """Check a login from `address`; an old kind of hash is replaced when it succeeds.

    Every hash is computed before the request's transaction writes anything, so no
    login holds a database lock while hashing (on SQLite, the whole database's).
    """
    now = now or utcnow()
    username = normalize_username(username)[:64]
    result = _check_password(username, address, password, now)
    if result.user is not None:
        stored = result.user.password_hash
        _record_success(result.user, address, passwords.hash_password(password) if passwords.needs_rehash(stored) else None)
    return result


def start_login(user: User, now: datetime | None = None) -> None:
    """Open a login for one browser: its token goes into the user's cookies.

    A login lasts at most as long as a remember-me cookie; the user's logins that
    have run out are forgotten here.
    """
    now = now or utcnow()
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            token=token, user_id=user.id, created_at=now, expires_at=now + current_app.config["REMEMBER_COOKIE_DURATION"]
        )
    )
    user.login_token = token


def end_login(user: User) -> None:
    """Log this browser out for good: its cookies, even replayed, name no login any more."""
    if user.login_token:
        db.session.execute(delete(LoginSession).where(LoginSession.token == user.login_token))


def end_all_logins(user: User) -> None:
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def locked_message(minutes: int) -> str:
    return _("登录失败次数过多，该用户名已被暂时锁定，请 %(minutes)d 分钟后再试。", minutes=minutes)


def wrong_password_message(remaining: int) -> str:
    return _(
        "用户名或密码不正确。再失败 %(n)d 次将锁定 %(minutes)d 分钟。",
        n=remaining,
        minutes=current_app.config["LOGIN_LOCK_MINUTES"],
    )


def change_password(
    user: User, current_password: str, new_password: str, address: str, now: datetime | None = None
) -> None:
    """Change one's own password, throttled like a login (a wrong current password
    counts as a failed login), ending every other login of the user.

    The caller opens a new login for this browser (`start_login`).
    """
    now = now or utcnow()
    result = _check_password(user.username, address, current_password, now)
    if result.outcome is LoginOutcome.LOCKED:
        raise DomainError(locked_message(result.locked_minutes), "current_password")
    if result.outcome is LoginOutcome.INVALID:
        raise DomainError(
            _(
                "当前密码不正确。再失败 %(n)d 次将锁定 %(minutes)d 分钟。",
                n=result.remaining_attempts,
                minutes=current_app.config["LOGIN_LOCK_MINUTES"],
            ),
            "current_password",
        )
    check_password_rules(new_password, user.username, "new_password")
    if passwords.verify(user.password_hash, new_password):
        raise DomainError(_("新密码不能与当前密码相同"), "new_password")
    new_hash = passwords.hash_password(new_password)
    _record_success(user, address)
    set_password(user, new_hash, must_change=False)


def set_password(user: User, password_hash: str, must_change: bool) -> None:
    """Store a new hash (computed beforehand, outside the transaction's writes) and end
    every login of the user."""
    user.password_hash = password_hash
    user.must_change_password = must_change
    end_all_logins(user)


def load_user_for_session(identity: str) -> User | None:
    """Flask-Login's loader: the cookie's login must still exist, unexpired, for an
    active user."""
    user_id, _sep, token = identity.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.scalars(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.token == token,
            User.id == int(user_id),
            LoginSession.expires_at > utcnow(),
            User.active.is_(True),
        )
    ).one_or_none()
    if user is not None:
        user.login_token = token
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
    end_logins: bool = False,
) -> None:
    """An administrator's edit of an account.

    A password the administrator sets must be changed by its user at the next login.
    The last active administrator can be neither demoted nor deactivated: the check
    runs on the rows locked in this transaction, so two administrators demoting each
    other at once cannot both succeed.
    """
    role_value = parse_role(role)
    if user.id == actor.id and (role_value != Role.ADMIN or not active):
        raise DomainError(_("不能停用自己的账号或取消自己的管理员角色"), "role" if active else "active")
    display_name = display_name.strip()
    if not display_name:
        raise DomainError(_("“姓名”不能为空"), "display_name")
    new_hash = None
    if new_password:
        check_password_rules(new_password, user.username, "new_password")
        new_hash = passwords.hash_password(new_password)  # before the first write
    # Cohort first, then user rows: the order a merge takes its locks in.
    new_cohort = cohort_by_name(cohort)
    stays_admin = role_value == Role.ADMIN and active
    if not stays_admin:
        _keep_an_administrator(user, "role" if role_value != Role.ADMIN else "active")
    user.display_name = display_name[:100]
    user.unit = unit.strip()[:100]
    user.cohort = new_cohort
    user.role = role_value.value
    if (user.active and not active) or end_logins:
        end_all_logins(user)  # logged out everywhere at once
    user.active = active
    if new_hash is not None:
        set_password(user, new_hash, must_change=user.id != actor.id)


def _keep_an_administrator(user: User, field: str) -> None:
    """Refuse to take the last active administrator away.

    The active administrators and the edited user are locked together in id order
    (the order every transaction locks user rows in) and counted after the lock, so a
    concurrent demotion that committed first is seen.
    """
    admins = lock_rows(
        User, or_(User.id == user.id, (User.role == Role.ADMIN.value) & User.active.is_(True)), columns=(User.role, User.active)
    ).all()
    active_admins = {row[0] for row in admins if row[1] == Role.ADMIN.value and row[2]}
    if user.id in active_admins and len(active_admins) == 1:
        raise DomainError(_("至少要保留一名可登录的管理员：不能停用最后一名管理员，也不能取消其管理员角色。"), field)
