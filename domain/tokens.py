"""Random secrets handed to members, and the digests under which they are stored."""

from __future__ import annotations

import hashlib
import secrets

# 32 random bytes: 256 bits, far beyond guessing; URL-safe base64 text of 43 characters.
TOKEN_BYTES = 32


def new_token() -> tuple[str, str]:
    """Return a new URL-safe token and its digest; only the digest is ever stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, digest(token)


def digest(token: str) -> str:
    # A fast hash is enough here: tokens carry 256 random bits, so unlike
    # passwords they cannot be guessed from a leaked digest.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
