from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..database import SortKey, UTCDateTime, utcnow
from ..extensions import db
from ..sorting import sort_key


class Role(StrEnum):
    TRAINEE = "trainee"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {Role.TRAINEE: _l("学员"), Role.INSTRUCTOR: _l("教师"), Role.ADMIN: _l("管理员")}
STAFF_ROLES = (Role.INSTRUCTOR, Role.ADMIN)


class Cohort(db.Model):
    """A training class (培训班期次), e.g. 2026年第一期."""

    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    name_sort: Mapped[str] = mapped_column(SortKey, default="")  # 第二期 before 第十期
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("length(name) > 0", name="name_not_empty"),)

    @validates("name")
    def _sort_by_name(self, _key: str, value: str) -> str:
        self.name_sort = sort_key(value)
        return value


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(100), default="", index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Set for an account whose password an administrator chose or handed out: every
    # page leads to the change-password form until the user picks their own.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Lists of people sort by pinyin (李 before 王) and units naturally; kept beside the
    # names so that paginated lists can ORDER BY them on both databases.
    name_sort: Mapped[str] = mapped_column(SortKey, default="")
    unit_sort: Mapped[str] = mapped_column(SortKey, default="")

    cohort: Mapped[Cohort | None] = relationship()

    __table_args__ = (
        CheckConstraint("role IN ('trainee', 'instructor', 'admin')", name="role"),
        CheckConstraint("username = lower(username) AND length(username) >= 2", name="username_format"),
        Index("ix_users_role_unit", "role", "unit"),
        Index("ix_users_sorted", "unit_sort", "name_sort"),
    )

    @validates("display_name")
    def _sort_by_name(self, _key: str, value: str) -> str:
        self.name_sort = sort_key(value, person=True)
        return value

    @validates("unit")
    def _sort_by_unit(self, _key: str, value: str) -> str:
        self.unit_sort = sort_key(value)
        return value

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    # The login this request belongs to (a `LoginSession` token), set when the user
    # logs in or is loaded from a cookie; not a column.
    login_token = None

    def get_id(self) -> str:
        """The identity Flask-Login keeps in the session and remember-me cookies."""
        return f"{self.id}:{self.login_token}"

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @property
    def is_trainee(self) -> bool:
        return self.role == Role.TRAINEE

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class LoginSession(db.Model):
    """One login of one browser: its session cookie and its remember-me cookie carry
    the token, and deleting the row ends that login on every server at once."""

    __tablename__ = "login_sessions"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ThrottleScope(StrEnum):
    PAIR = "pair"  # one user name from one client address
    NAME = "name"  # one user name from every address
    ADDRESS = "address"  # every user name from one address


class LoginThrottle(db.Model):
    """Login attempts per bucket (see `throttle`), shared by every server process."""

    __tablename__ = "login_throttles"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("scope IN ('pair', 'name', 'address')", name="scope"),
    )
