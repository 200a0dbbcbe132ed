"""Authentication helpers: password hashing for agents, supervisors and admins."""

from __future__ import annotations

from trunkline.auth.passwords import hash_password, needs_rehash, verify_password

__all__ = ["hash_password", "needs_rehash", "verify_password"]
