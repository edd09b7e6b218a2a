"""Staff passwords: argon2id (argon2-cffi's defaults follow RFC 9106's recommendation)."""
from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
#: verified when the account does not exist, so both paths cost the same time
_DUMMY_HASH: str | None = None  # built on first use (no work at import)

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; with ``password_hash=None`` spends the same time, False."""
    global _DUMMY_HASH
    if password_hash is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            pass
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    """A random password for a new account (shown once)."""
    return secrets.token_urlsafe(12)


def password_problem(password: str) -> str | None:
    """Why ``password`` is refused (French), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"le mot de passe doit faire au moins {MIN_PASSWORD_LENGTH} caractères"
    return None
