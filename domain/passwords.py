"""Password hashing with Argon2 through passlib's API (the maintained libpass fork)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from passlib.context import CryptContext


class PasswordHasher:
    """Hashes and checks passwords off the event loop, since each costs about 0.1 s of CPU or more.

    `rounds` (Argon2 time cost) and `memory_cost` (KiB) default to passlib's
    Argon2 settings; tests lower them because they hash hundreds of passwords.
    """

    def __init__(self, *, rounds: int | None = None, memory_cost: int | None = None) -> None:
        options: dict[str, Any] = {}
        if rounds is not None:
            options["argon2__rounds"] = rounds
        if memory_cost is not None:
            options["argon2__memory_cost"] = memory_cost
        self._context = CryptContext(schemes=["argon2"], deprecated="auto", **options)
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
