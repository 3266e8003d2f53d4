"""Operations on accounts and profiles: authenticate, call the domain, shape the payload."""

from __future__ import annotations


import strawberry

from domain import accounts, profiles
from domain.errors import DomainError
from schema.accounts import ActivityProfileInput, AuthPayload, ProfileInput, RegisterInput, UserPayload
from schema.context import Context
from schema.errors import RateLimited, user_errors
from schema.types import User

Info = strawberry.Info[Context, None]


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The signed-in member; null when anonymous.")
    def viewer(self, info: Info) -> User | None:
        viewer = info.context.viewer
        return User.from_row(viewer) if viewer is not None else None


@strawberry.type
class AccountMutation:
    @strawberry.mutation(
        description="Create an account and e-mail a verification link. Never signs in: token and user stay null."
    )
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        registration = accounts.Registration(
            email=input.email,
            password=input.password,
            first_name=input.first_name,
            last_name=input.last_name,
            invitation_token=input.invitation_token,
        )
        try:
            await accounts.register(info.context.services, registration, client=info.context.client_address)
        except DomainError as error:
            return AuthPayload(user_errors=user_errors(error))
        return AuthPayload()

    @strawberry.mutation(description="Sign in; the same error for an unknown address and a wrong password.")
    async def login(self, info: Info, email: str, password: str) -> AuthPayload:
        try:
            signed_in = await accounts.login(info.context.services, email, password, client=info.context.client_address)
        except DomainError as error:
            return AuthPayload(user_errors=user_errors(error))
        return _signed_in_payload(info, signed_in)

    @strawberry.mutation(description="Revoke the bearer token of this request; false when there was none.")
    async def logout(self, info: Info) -> bool:
        token = info.context.bearer_token
        if token is None:
            return False
        return await accounts.logout(info.context.services, token)

    @strawberry.mutation(description="Confirm the address with the token from the e-mail, and sign in.")
    async def verify_email(self, info: Info, token: str) -> AuthPayload:
        try:
            signed_in = await accounts.verify_email(info.context.services, token)
        except DomainError as error:
            return AuthPayload(user_errors=user_errors(error))
        return _signed_in_payload(info, signed_in)

    @strawberry.mutation(
        description="E-mail a reset link if the address is registered; always true. "
        "Too many requests from one client get a top-level RATE_LIMITED error."
    )
    async def request_password_reset(self, info: Info, email: str) -> bool:
        try:
            await accounts.request_password_reset(info.context.services, email, client=info.context.client_address)
        except DomainError as error:
            # The operation returns Boolean!, so there is no userErrors list for the limit.
            raise RateLimited(str(error)) from None
        return True

    @strawberry.mutation(description="Set a new password with the token from the e-mail, end other sessions, sign in.")
    async def reset_password(self, info: Info, token: str, new_password: str) -> AuthPayload:
        try:
            signed_in = await accounts.reset_password(info.context.services, token, new_password)
        except DomainError as error:
            return AuthPayload(user_errors=user_errors(error))
        return _signed_in_payload(info, signed_in)

    @strawberry.mutation(description="Change names, role, subjects or organisation; null fields stay unchanged.")
    async def update_profile(self, info: Info, input: ProfileInput) -> UserPayload:
        viewer = info.context.require_viewer()
        try:
            member = await profiles.update_profile(info.context.services, viewer.id, input.to_domain())
        except DomainError as error:
            return UserPayload(user_errors=user_errors(error))
        info.context.viewer = member
        return UserPayload(user=User.from_row(member))

    @strawberry.mutation(description="Replace the activity profile: what activities the member would like to organise.")
    async def update_activity_profile(self, info: Info, input: ActivityProfileInput) -> UserPayload:
        viewer = info.context.require_viewer()
        try:
            member = await profiles.update_activity_profile(info.context.services, viewer.id, input.to_domain())
        except DomainError as error:
            return UserPayload(user_errors=user_errors(error))
        # clear(key) raises KeyError for a key never loaded in this request, so drop the whole cache.
        info.context.loaders.activity_profile.clear_all()
        info.context.viewer = member
        return UserPayload(user=User.from_row(member))


def _signed_in_payload(info: Info, signed_in: accounts.SignedIn) -> AuthPayload:
    # Fields of the returned user are resolved as the member who just signed in.
    info.context.viewer = signed_in.member
    info.context.loaders.viewer = signed_in.member
    return AuthPayload(token=signed_in.token, user=User.from_row(signed_in.member))
