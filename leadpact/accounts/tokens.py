"""API token format: ``lp_<prefix>_<secret>``; the hash of the whole string is stored."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "lp_"


def generate() -> tuple[str, str, str]:
    """Return ``(raw_token, prefix, sha256_hex)`` for a new token."""
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return raw, prefix, hash_token(raw)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
