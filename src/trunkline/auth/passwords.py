"""Argon2id password hashes: the only form in which passwords are stored or configured."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# One hasher with argon2-cffi's defaults (RFC 9106 low-memory profile). Its parameters are
# encoded in every hash, so raising them later still verifies old hashes; needs_rehash()
# tells the login path when to upgrade one.
_HASHER = PasswordHasher()


def hash_password(plain: str) -> str:
    """A new salted argon2id hash of ``plain``, in the ``$argon2id$...`` string form."""
    return _HASHER.hash(plain)


def verify_password(hash: str, plain: str) -> bool:
    """Whether ``plain`` matches ``hash``; a mismatch or a malformed hash is ``False``.

    Never raises for bad input: a login handler answers 401 either way and must not leak
    whether the stored hash was broken.
    """
    if not isinstance(hash, str) or not isinstance(plain, str):
        return False  # a user row with no hash, or a JSON body with a number for a password
    try:
        return _HASHER.verify(hash, plain)
    except (VerificationError, InvalidHashError, TypeError, ValueError):
        return False


def needs_rehash(hash: str) -> bool:
    """Whether ``hash`` was made with weaker parameters than the current ones."""
    try:
        return _HASHER.check_needs_rehash(hash)
    except (InvalidHashError, ValueError):
        return True
