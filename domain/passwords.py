"""Password hashing with Argon2 through passlib's API (the maintained libpass fork)."""

from __future__ import annotations

import asyncio
import secrets

from passlib.context import CryptContext


class PasswordHasher:
    """Hashes and checks passwords off the event loop, since each costs about 0.1 s of CPU."""

    def __init__(self) -> None:
        self._context = CryptContext(schemes=["argon2"], deprecated="auto")
        # Checked against when an address is unknown, so that login costs one
        # real verification either way and its timing does not reveal whether
        # the address is registered. passlib's dummy_verify() hashes and then
        # verifies, which would cost twice as much.
        self._dummy_hash = self._context.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._context.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        if password_hash is None:
            await asyncio.to_thread(self._context.verify, password, self._dummy_hash)
            return False
        return await asyncio.to_thread(self._context.verify, password, password_hash)
