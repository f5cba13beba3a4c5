"""Passwords and tokens: argon2 hashes for what people choose, digests for what we generate.

Passwords are hashed with argon2id (slow on purpose). Tokens (API tokens, invitations)
are long random strings, so a SHA-256 digest is enough to store them: only the digest is
kept, and the token is shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
TOKEN_BYTES = 32


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``, salt included."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; never raises on a bad hash."""
    if not stored_hash:
        # Spend the same time as a real check, so a missing account is not revealed.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


def new_token(prefix: str) -> str:
    """A random token, ``prefix_`` followed by 43 URL-safe characters."""
    return f"{prefix}_{secrets.token_urlsafe(TOKEN_BYTES)}"


def token_digest(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_digest(a: str, b: str) -> bool:
    """Compare digests in constant time."""
    return hmac.compare_digest(a, b)
