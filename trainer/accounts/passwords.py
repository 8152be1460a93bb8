"""Password hashes: argon2id (argon2-cffi) with the parameters of `PASSWORD_HASH`.

Hashes made by earlier releases (werkzeug's scrypt and pbkdf2) still verify; a login
that succeeds with one replaces it (`needs_rehash`).

A hash costs about a tenth of a second of CPU and 19 MiB. Callers compute it while
holding no database lock, and it runs on one thread per process at a lower CPU
priority: a burst of logins then takes the CPU that pages leave idle rather than the
CPU pages need, so logins wait their turn and every other page keeps its speed (the
request waits for its hash on a thread of its own; see the README on gunicorn's
gthread workers).
"""
from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from werkzeug.security import check_password_hash

ARGON2_PREFIX = "$argon2"
# The lowest priority: the hashing thread gets all the CPU that is idle and next to
# none of what pages need. Logins slow down only when pages keep the CPU saturated.
HASHING_NICENESS = 19

T = TypeVar("T")
_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_executor_lock = threading.Lock()


def _lower_priority() -> None:
    # On Linux a thread has its own nice value; elsewhere hashing runs at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


def _on_hashing_thread(function: Callable[..., T], *args) -> T:
    global _executor, _executor_pid
    with _executor_lock:
        if _executor is None or _executor_pid != os.getpid():  # a forked worker starts its own
            _executor = ThreadPoolExecutor(1, thread_name_prefix="password-hash", initializer=_lower_priority)
            _executor_pid = os.getpid()
        executor = _executor
    return executor.submit(function, *args).result()


@lru_cache(maxsize=4)
def _hasher(memory_cost: int, time_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(memory_cost=memory_cost, time_cost=time_cost, parallelism=parallelism, type=Type.ID)


def hasher() -> PasswordHasher:
    parameters = current_app.config["PASSWORD_HASH"]
    return _hasher(parameters["memory_cost"], parameters["time_cost"], parameters["parallelism"])


def hash_password(password: str) -> str:
    return _on_hashing_thread(hasher().hash, password)


def verify(stored: str, password: str) -> bool:
    if stored.startswith(ARGON2_PREFIX):
        return _on_hashing_thread(_verify_argon2, hasher(), stored, password)
    return _on_hashing_thread(check_password_hash, stored, password)


def _verify_argon2(argon2: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return argon2.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """An older kind of hash, or argon2 with other parameters than the configured ones."""
    return not stored.startswith(ARGON2_PREFIX + "id$") or hasher().check_needs_rehash(stored)


def decoy_hash() -> str:
    """A hash of nothing anyone knows, checked for unknown user names so that they take
    as long to refuse as known ones."""
    parameters = current_app.config["PASSWORD_HASH"]
    return _decoy(parameters["memory_cost"], parameters["time_cost"], parameters["parallelism"])


@lru_cache(maxsize=4)
def _decoy(memory_cost: int, time_cost: int, parallelism: int) -> str:
    return _on_hashing_thread(_hasher(memory_cost, time_cost, parallelism).hash, secrets.token_hex(16))
