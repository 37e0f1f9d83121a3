"""Password hashing (argon2id) and the password rule."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters (got {len(password)})"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password may have at most {MAX_PASSWORD_LENGTH} characters"
    if password.strip() != password:
        return "a password may not start or end with spaces (a pasted newline?)"
    return None


def hash_password(password: str) -> str:
    return _hasher().hash(password)


@cache
def _decoy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an unknown user is checked against a decoy (same time)."""
    try:
        return _hasher().verify(stored_hash or _decoy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


def one_time_password() -> str:
    """A random password for the first administrator (to be changed at first sign-in)."""
    return secrets.token_urlsafe(15)
