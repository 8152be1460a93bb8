"""Settings: defaults, then `TRAINER_*` environment variables, then the factory's argument.

Every variable is listed in `SETTINGS` with its meaning; the README's configuration
table is checked against this list by the test suite.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .extensions import PROJECT_ROOT


@dataclass(frozen=True)
class Setting:
    env: str
    key: str
    parse: Callable[[str], Any]
    help: str
    also: tuple[str, ...] = ()  # further keys that take the same value


def _bool(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        number = int(text)
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return number

    return parse


def _days(text: str) -> timedelta:
    return timedelta(days=_whole(1, 3650)(text))


def _megabytes(text: str) -> int:
    number = float(text)
    if not 0 < number <= 1024:
        raise ValueError("must be more than 0 and at most 1024")
    return int(number * 1024 * 1024)


def _database_url(text: str) -> str:
    try:
        make_url(text)
    except ArgumentError:
        raise ValueError("not a database URL, e.g. postgresql+psycopg://user:password@host/dbname") from None
    return text


def _timezone(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone, e.g. Asia/Shanghai") from None
    return text


def _language(text: str) -> str:
    if text not in ("zh_CN", "en"):
        raise ValueError("must be zh_CN or en")
    return text


def _log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


SETTINGS = (
    Setting("TRAINER_DATABASE_URL", "SQLALCHEMY_DATABASE_URI", _database_url,
            "Database URL. Default: an SQLite file `trainer.db` in the instance folder. "
            "PostgreSQL: `postgresql+psycopg://user:password@host/dbname`."),
    Setting("TRAINER_SECRET_KEY", "SECRET_KEY", str,
            "Key that signs session cookies and CSRF tokens. Default: generated once and kept "
            "in `instance/secret_key` (mode 0600). Set the same value on every host."),
    Setting("TRAINER_INSTANCE_PATH", "INSTANCE_PATH", str,
            "Folder for the SQLite database and the generated secret key. Default: `instance/` "
            "in the project folder."),
    Setting("TRAINER_CONTENT_DIR", "CONTENT_DIR", str,
            "Folder of lesson files (`<course>/course.yaml`, `<course>/NN-slug.md`). Default: `lessons/`."),
    Setting("TRAINER_QUESTION_BANK_DIR", "QUESTION_BANK_DIR", str,
            "Folder of the course's question files that `trainer init` loads. Default: `question_bank/`."),
    Setting("TRAINER_LANGUAGE", "BABEL_DEFAULT_LOCALE", _language,
            "Language of the site until a user picks one with the language switch, and of the "
            "`trainer` command's messages: `zh_CN` or `en`. Default: `zh_CN`."),
    Setting("TRAINER_TIMEZONE", "BABEL_DEFAULT_TIMEZONE", _timezone,
            "Time zone in which dates are shown. Default: `Asia/Shanghai`."),
    Setting("TRAINER_SECURE_COOKIES", "SESSION_COOKIE_SECURE", _bool,
            "`1` when the site is served over HTTPS: the session and remember-me cookies are then sent "
            "over HTTPS only. Default: `0`.", also=("REMEMBER_COOKIE_SECURE",)),
    Setting("TRAINER_REMEMBER_DAYS", "REMEMBER_COOKIE_DURATION", _days,
            "How many days “remember me” keeps a user logged in; no login lasts longer. Default: `14`."),
    Setting("TRAINER_PROXY_COUNT", "PROXY_COUNT", _whole(0, 10),
            "Number of reverse proxies (nginx…) in front of the app whose X-Forwarded-* headers "
            "are trusted. Default: `0`."),
    Setting("TRAINER_LOGIN_MAX_FAILURES", "LOGIN_MAX_FAILURES", _whole(1, 1000),
            "Failed logins (or password changes) for one user name from one client address within the "
            "window before that name is refused from that address. Default: `5`."),
    Setting("TRAINER_LOGIN_MAX_FAILURES_PER_NAME", "LOGIN_MAX_FAILURES_PER_NAME", _whole(1, 100_000),
            "Failed logins for one user name from all addresses together within the window before the "
            "name is refused from everywhere. Default: `50`."),
    Setting("TRAINER_LOGIN_MAX_FAILURES_PER_ADDRESS", "LOGIN_MAX_FAILURES_PER_ADDRESS", _whole(1, 100_000),
            "Failed logins from one client address, whatever the user names, within the window before "
            "that address is refused (one password tried across many accounts). Raise it when many "
            "users share one address behind NAT. Default: `100`."),
    Setting("TRAINER_LOGIN_WINDOW_MINUTES", "LOGIN_WINDOW_MINUTES", _whole(1, 10080),
            "The window in which failures are counted. Default: `15`."),
    Setting("TRAINER_LOGIN_LOCK_MINUTES", "LOGIN_LOCK_MINUTES", _whole(1, 10080),
            "How long logins are refused after too many failures. Default: `15`."),
    Setting("TRAINER_MAX_UPLOAD_MB", "MAX_CONTENT_LENGTH", _megabytes,
            "Largest accepted upload (question files), in MB. Default: `10`."),
    Setting("TRAINER_IMPORT_MAX_QUESTIONS", "IMPORT_MAX_QUESTIONS", _whole(1, 1_000_000),
            "Most questions one imported file may hold. Default: `20000`."),
    Setting("TRAINER_LOG_LEVEL", "LOG_LEVEL", _log_level,
            "Logging level (`DEBUG`, `INFO`, `WARNING`…). Default: `INFO`."),
)


DEFAULTS: dict[str, Any] = {
    "CONTENT_DIR": str(PROJECT_ROOT / "lessons"),
    "QUESTION_BANK_DIR": str(PROJECT_ROOT / "question_bank"),
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_DURATION": timedelta(days=14),
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": False,
    "PROXY_COUNT": 0,
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_MAX_FAILURES_PER_NAME": 50,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 100,
    "LOGIN_WINDOW_MINUTES": 15,
    "LOGIN_LOCK_MINUTES": 15,
    "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
    "IMPORT_MAX_QUESTIONS": 20_000,
    "LOG_LEVEL": "INFO",
    # argon2id with the parameters OWASP recommends: 19 MiB, 2 iterations, 1 lane.
    "PASSWORD_HASH": {"memory_cost": 19 * 1024, "time_cost": 2, "parallelism": 1},
    # A CSRF token lives as long as the session; an hour's limit would throw away a
    # trainee's long answer when they finally press submit.
    "WTF_CSRF_TIME_LIMIT": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "DEMO_PASSWORD_LENGTH": 12,
}

# The test suite's settings: cheap password hashing (the production default is
# checked separately), and everything else as in production, CSRF included.
TESTING = {
    "TESTING": True,
    "PASSWORD_HASH": {"memory_cost": 8, "time_cost": 1, "parallelism": 1},
    "SERVER_NAME": None,
}


def instance_path_from_env() -> str | None:
    return os.environ.get("TRAINER_INSTANCE_PATH") or None


def from_environment() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = os.environ.get(setting.env)
        if raw is None or raw == "" or setting.key == "INSTANCE_PATH":
            continue
        try:
            value = setting.parse(raw)
        except (ValueError, OverflowError) as exc:
            raise SystemExit(f"{setting.env}: invalid value {raw!r} ({exc})") from None
        for key in (setting.key, *setting.also):
            values[key] = value
    return values


MIN_SECRET_KEY = 32


def load_secret_key(instance_path: str) -> str:
    """The instance's own key, created on first use and readable by its owner only.

    The key is written to a private temporary file and linked into place, so several
    workers starting at once all end up with the one key, and none ever reads a file
    that is still empty.
    """
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:  # mkstemp makes it 0600
                handle.write(secrets.token_hex(32))
                handle.flush()
                os.fsync(handle.fileno())
            # If another process linked its key first, everyone uses that one.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    key = path.read_text(encoding="ascii", errors="replace").strip()
    if len(key) < MIN_SECRET_KEY:
        raise SystemExit(
            f"{path}: 密钥文件为空或太短（至少 {MIN_SECRET_KEY} 个字符）。请删除该文件后重新启动，"
            "将自动生成新密钥（所有已登录的用户需要重新登录）；或用 TRAINER_SECRET_KEY 指定密钥。"
        )
    return key


def default_database_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "trainer.db")
