"""Password hashes: argon2id (argon2-cffi) with the parameters of `PASSWORD_HASH`.

Hashes made by earlier releases (werkzeug's scrypt and pbkdf2) still verify; a login
that succeeds with one replaces it (`needs_rehash`). A hash costs tens of milliseconds
of CPU and its memory, so callers compute it while holding no database lock.
"""
from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from werkzeug.security import check_password_hash

ARGON2_PREFIX = "$argon2"


@lru_cache(maxsize=4)
def _hasher(memory_cost: int, time_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(memory_cost=memory_cost, time_cost=time_cost, parallelism=parallelism, type=Type.ID)


def hasher() -> PasswordHasher:
    parameters = current_app.config["PASSWORD_HASH"]
    return _hasher(parameters["memory_cost"], parameters["time_cost"], parameters["parallelism"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(stored: str, password: str) -> bool:
    if stored.startswith(ARGON2_PREFIX):
        try:
            return hasher().verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    return check_password_hash(stored, password)


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
    return _hasher(memory_cost, time_cost, parallelism).hash(secrets.token_hex(16))
