"""Accounts: registration, e-mail verification, sign-in and out, password reset, coordinators.

No response to an anonymous caller reveals whether an address is registered.
`register` returns the same result for a taken address as for a new one and
informs the owner by e-mail instead. `login` returns one error for an unknown
address and a wrong password, and costs the same for both.
`request_password_reset` always succeeds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from domain import invitations, rate_limits
from domain.errors import DomainError, ErrorCode, ErrorCollector
from domain.links import forgot_password_link, reset_password_link, sign_in_link, verify_email_link
from domain.services import Services
from domain.tokens import digest, new_token
from domain.validation import NAME_MAX, check_password, clean_text, normalise_email
from persistence import members as member_table
from persistence import search_index
from persistence.models import AuthToken, Member
from sqlmodel.ext.asyncio.session import AsyncSession

logger = logging.getLogger(__name__)

SESSION = "session"
VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"

INVALID_CREDENTIALS_MESSAGE = "The e-mail address or the password is incorrect."


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    first_name: str
    last_name: str
    invitation_token: str | None = None


@dataclass(frozen=True)
class SignedIn:
    """A new bearer token and the member it signs in."""

    token: str
    member: Member


async def register(services: Services, registration: Registration, *, client: str | None = None) -> None:
    """Create an unverified member and e-mail a verification link.

    For an address that is already registered nothing is created: the owner
    gets an e-mail saying how to verify or sign in, and the caller sees the
    same empty success as for a new address. Valid registrations are counted
    per `client` address and rejected with RATE_LIMITED over the hourly limit.
    """
    errors = ErrorCollector()
    first_name = clean_text(
        errors, registration.first_name, ("input", "firstName"), max_length=NAME_MAX, required=True, label="First name"
    )
    last_name = clean_text(
        errors, registration.last_name, ("input", "lastName"), max_length=NAME_MAX, required=True, label="Last name"
    )
    check_password(errors, registration.password, ("input", "password"))
    try:
        email = normalise_email(registration.email, ("input", "email"))
    except DomainError as error:
        errors.problems.extend(error.problems)
    errors.raise_if_any()
    await rate_limits.count_registration(services, client)

    # Hashed before looking the address up, so a taken address costs the same time.
    password_hash = await services.passwords.hash(registration.password)
    now = services.clock.now()

    async with services.database.write() as session:
        existing = await member_table.get_member_by_email(session, email)
        if existing is not None:
            await _notify_existing_owner(services, session, existing)
            return

        member = Member(
            email=email,
            password_hash=password_hash,
            first_name=first_name,
            last_name=last_name,
            email_preferences={"reminders": True, "notifications": True},
            created_at=now,
            updated_at=now,
        )
        await member_table.add(session, member)
        if registration.invitation_token:
            await invitations.link_invitation(services, session, registration.invitation_token, member)
        await _send_verification(services, session, member)
    logger.info("member %s registered", member.id)


async def _notify_existing_owner(services: Services, session: AsyncSession, member: Member) -> None:
    if member.email_verified_at is None:
        await _send_verification(services, session, member)
        return
    base = services.settings.public_base_url
    services.mail.queue(
        session,
        "account_exists",
        member.email,
        member_id=member.id,
        values={
            "first_name": member.first_name,
            "sign_in_link": sign_in_link(base),
            "reset_link": forgot_password_link(base),
        },
    )


async def _send_verification(services: Services, session: AsyncSession, member: Member) -> None:
    hours = services.settings.verification_ttl_hours
    token = await _issue_token(services, session, member, VERIFY_EMAIL, timedelta(hours=hours))
    services.mail.queue(
        session,
        "verify_email",
        member.email,
        member_id=member.id,
        values={
            "first_name": member.first_name,
            "link": verify_email_link(services.settings.public_base_url, token),
            "valid_hours": hours,
        },
    )


async def _issue_token(
    services: Services, session: AsyncSession, member: Member, purpose: str, lifetime: timedelta
) -> str:
    token, token_hash = new_token()
    now = services.clock.now()
    await member_table.add(
        session,
        AuthToken(member_id=member.id, purpose=purpose, token_hash=token_hash, created_at=now, expires_at=now + lifetime),
    )
    return token


async def _start_session(services: Services, session: AsyncSession, member: Member) -> SignedIn:
    lifetime = timedelta(hours=services.settings.session_ttl_hours)
    token = await _issue_token(services, session, member, SESSION, lifetime)
    return SignedIn(token=token, member=member)


async def login(services: Services, email: str, password: str, *, client: str | None = None) -> SignedIn:
    """Sign a member in; raise INVALID_CREDENTIALS alike for an unknown address and a wrong password.

    Raise RATE_LIMITED while the address or the `client` address waits after failed attempts.
    """
    try:
        address = normalise_email(email)
    except DomainError:
        address = None
    limited_address = address or email.strip().lower()
    await rate_limits.check_login(services, limited_address, client)

    member = None
    if address is not None:
        async with services.database.read() as session:
            member = await member_table.get_member_by_email(session, address)

    # Exactly one Argon2 verification on every path, so the response time reveals nothing.
    password_hash = member.password_hash if member is not None and member.deleted_at is None else None
    if not await services.passwords.verify(password, password_hash):
        await rate_limits.record_login_failure(services, limited_address, client)
        raise DomainError(ErrorCode.INVALID_CREDENTIALS, INVALID_CREDENTIALS_MESSAGE, ("email",))
    await rate_limits.record_login_success(services, limited_address)

    async with services.database.write() as session:
        signed_in = await _start_session(services, session, member)
    logger.info("member %s signed in", member.id)
    return signed_in


async def logout(services: Services, token: str) -> bool:
    """Revoke the bearer token; False when it was not a live session token."""
    now = services.clock.now()
    async with services.database.write() as session:
        found = await member_table.find_token(session, digest(token), SESSION)
        if found is None:
            return False
        return await member_table.use_token(session, found.id, now)


async def authenticate(services: Services, token: str) -> Member | None:
    """Return the member a bearer token signs in, or None when it is unknown, revoked or expired."""
    now = services.clock.now()
    async with services.database.read(snapshot=False) as session:
        found = await member_table.find_token_with_member(session, digest(token), SESSION)
    if found is None:
        return None
    session_token, member = found
    if session_token.used_at is not None or session_token.expires_at <= now or member.deleted_at is not None:
        return None
    return member


async def _consume(services: Services, session: AsyncSession, token: str, purpose: str) -> Member:
    """Use a single-use e-mail token once and return its member; raise INVALID_TOKEN otherwise."""
    invalid = DomainError(
        ErrorCode.INVALID_TOKEN,
        "This link is invalid, was already used or has expired. Ask for a new one.",
        ("token",),
    )
    found = await member_table.find_token(session, digest(token), purpose)
    if found is None:
        raise invalid
    if not await member_table.use_token(session, found.id, services.clock.now()):
        raise invalid
    member = await member_table.get_member(session, found.member_id)
    if member is None or member.deleted_at is not None:
        raise invalid
    return member


async def verify_email(services: Services, token: str) -> SignedIn:
    """Mark the member's address verified and sign them in."""
    async with services.database.write() as session:
        member = await _consume(services, session, token, VERIFY_EMAIL)
        now = services.clock.now()
        if member.email_verified_at is None:
            member.email_verified_at = now
            member.updated_at = now
            await member_table.add(session, member)
            # A verified member with a complete profile is listed from now on.
            await search_index.refresh_member(session, member)
        signed_in = await _start_session(services, session, member)
    logger.info("member %s verified their e-mail address", member.id)
    return signed_in


async def request_password_reset(services: Services, email: str, *, client: str | None = None) -> None:
    """E-mail a reset link when the address belongs to a member; do nothing visible otherwise.

    Raise RATE_LIMITED when the `client` address is over its hourly limit. An
    address over its own limit gets no further e-mail, and the caller sees
    the usual success.
    """
    try:
        address = normalise_email(email)
    except DomainError:
        address = None
    if not await rate_limits.count_password_reset(services, address or email.strip().lower(), client):
        return
    if address is None:
        return
    hours = services.settings.reset_ttl_hours
    async with services.database.write() as session:
        member = await member_table.get_member_by_email(session, address)
        if member is None or member.deleted_at is not None:
            return
        token = await _issue_token(services, session, member, RESET_PASSWORD, timedelta(hours=hours))
        services.mail.queue(
            session,
            "reset_password",
            member.email,
            member_id=member.id,
            values={
                "first_name": member.first_name,
                "link": reset_password_link(services.settings.public_base_url, token),
                "valid_hours": hours,
            },
        )


async def reset_password(services: Services, token: str, new_password: str) -> SignedIn:
    """Set a new password, end every other session and sign the member in."""
    errors = ErrorCollector()
    check_password(errors, new_password, ("newPassword",))
    errors.raise_if_any()
    password_hash = await services.passwords.hash(new_password)

    async with services.database.write() as session:
        member = await _consume(services, session, token, RESET_PASSWORD)
        now = services.clock.now()
        # A password reset may follow a stolen session, so every session ends.
        await member_table.expire_tokens(session, member.id, (SESSION, RESET_PASSWORD), now)
        member.password_hash = password_hash
        # The link reached the member's inbox, which proves they own the address.
        newly_verified = member.email_verified_at is None
        member.email_verified_at = member.email_verified_at or now
        member.updated_at = now
        await member_table.add(session, member)
        if newly_verified:
            await search_index.refresh_member(session, member)
        signed_in = await _start_session(services, session, member)
    logger.info("member %s reset their password", member.id)
    return signed_in


async def create_coordinator(services: Services, email: str) -> Member:
    """Flag the member with this address as a coordinator; raise NOT_FOUND when there is none."""
    address = normalise_email(email)
    async with services.database.write() as session:
        member = await member_table.get_member_by_email(session, address)
        if member is None or member.deleted_at is not None:
            raise DomainError(ErrorCode.NOT_FOUND, f"No member has the address {address}; register first.")
        member.is_coordinator = True
        member.updated_at = services.clock.now()
        await member_table.add(session, member)
    logger.info("member %s is now a coordinator", member.id)
    return member
