"""Builders of members in given states, driven through the public API like a real client."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from domain.services import Services
from persistence.database import Database
from persistence.models import Activity, ContactRequest, Member, Organisation, OutboxMessage
from schema.node import decode_global_id
from tests.graphql_client import GraphQLClient

PASSWORD = "correct horse battery"

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { token user { id } userErrors { field code message } }
}
"""
VERIFY = """
mutation Verify($token: String!) {
  verifyEmail(token: $token) { token user { id email } userErrors { field code message } }
}
"""
UPDATE_PROFILE = """
mutation UpdateProfile($input: ProfileInput!) {
  updateProfile(input: $input) { user { id isProfileComplete } userErrors { field code message } }
}
"""
UPDATE_ACTIVITY_PROFILE = """
mutation UpdateActivityProfile($input: ActivityProfileInput!) {
  updateActivityProfile(input: $input) { user { id } userErrors { field code message } }
}
"""


@dataclass
class TestMember:
    __test__ = False  # not a test class, despite the name

    id: str  # the global id
    email: str
    token: str


async def outbox(services: Services, to_address: str, template: str | None = None) -> list[OutboxMessage]:
    async with services.database.read() as session:
        query = select(OutboxMessage).where(OutboxMessage.to_address == to_address)
        if template is not None:
            query = query.where(OutboxMessage.template == template)
        result = await session.exec(query.order_by(OutboxMessage.id))
        return list(result.all())


def link_parameter(text: str, parameter: str) -> str:
    """Return the value of `parameter` in the first link of `text` that has it."""
    for url in re.findall(r"https?://\S+", text):
        values = parse_qs(urlsplit(url).query).get(parameter)
        if values:
            return values[0]
    raise AssertionError(f"no link with ?{parameter}= in message:\n{text}")


async def latest_token(services: Services, to_address: str, template: str, parameter: str = "token") -> str:
    messages = await outbox(services, to_address, template)
    assert messages, f"no {template} e-mail to {to_address} in the outbox"
    return link_parameter(messages[-1].text_body, parameter)


async def register(client: GraphQLClient, email: str, password: str = PASSWORD, **names: str) -> dict:
    variables = {
        "input": {
            "email": email,
            "password": password,
            "firstName": names.get("first_name", "Test"),
            "lastName": names.get("last_name", "Member"),
            **({"invitationToken": names["invitation_token"]} if "invitation_token" in names else {}),
        }
    }
    data = await client.execute(REGISTER, variables)
    return data["register"]


async def verified_member(client: GraphQLClient, services: Services, email: str, **names: str) -> TestMember:
    payload = await register(client, email, **names)
    assert payload["userErrors"] == []
    token = await latest_token(services, email.lower(), "verify_email")
    verified = (await client.execute(VERIFY, {"token": token}))["verifyEmail"]
    assert verified["userErrors"] == []
    return TestMember(id=verified["user"]["id"], email=email.lower(), token=verified["token"])


async def active_member(
    client: GraphQLClient,
    services: Services,
    email: str,
    *,
    kind: str = "SCHOOL",
    country: str = "FR",
    city: str = "Lyon",
    organisation: str | None = None,
    role: str = "Teacher",
    subjects: list[str] | None = None,
    activity_profile: dict | None = None,
    **names: str,
) -> TestMember:
    """A verified member with a complete profile and, when given, an activity profile."""
    member = await verified_member(client, services, email, **names)
    profile = {
        "role": role,
        "subjects": subjects or ["PHYSICS"],
        "organisation": {
            "name": organisation or f"{kind.title()} of {email.split('@')[0]}",
            "kind": kind,
            "countryCode": country,
            "city": city,
        },
    }
    data = await client.execute(UPDATE_PROFILE, {"input": profile}, token=member.token)
    assert data["updateProfile"]["userErrors"] == []
    assert data["updateProfile"]["user"]["isProfileComplete"] is True
    if activity_profile is not None:
        data = await client.execute(UPDATE_ACTIVITY_PROFILE, {"input": activity_profile}, token=member.token)
        assert data["updateActivityProfile"]["userErrors"] == []
    return member


async def insert_activity(
    database: Database, request_global_id: str, *, title: str = "Robots in the classroom", **values: object
) -> Activity:
    """Write a planned activity of an accepted request straight into the `activity` table.

    The activity mutations live in another area; this gives data-rights tests
    an activity without depending on them.
    """
    _, request_id = decode_global_id(request_global_id, "ContactRequest")
    now = datetime.now(UTC)
    async with database.write() as session:
        request = await session.get(ContactRequest, request_id)
        organisations = []
        for member_id in (request.sender_id, request.recipient_id):
            member = await session.get(Member, member_id)
            organisations.append(await session.get(Organisation, member.organisation_id))
        school = next(row for row in organisations if row.kind == "SCHOOL")
        company = next(row for row in organisations if row.kind == "COMPANY")
        activity = Activity(
            contact_request_id=request_id,
            school_id=school.id,
            company_id=company.id,
            title=title,
            description=values.pop("description", "Pupils build and program a small robot."),
            status="PLANNED",
            starts_on=values.pop("starts_on", date(2027, 3, 15)),
            ends_on=values.pop("ends_on", date(2027, 3, 16)),
            length="FULL_DAY",
            format="IN_PERSON",
            stem_topics=["ROBOTICS"],
            age_groups=["AGES_10_12"],
            expected_students=24,
            city=school.city or "Lyon",
            country_code=school.country_code,
            latitude=45.76,
            longitude=4.84,
            created_by_id=request.sender_id,
            created_at=now,
            updated_at=now,
            **values,
        )
        session.add(activity)
        await session.flush()
    return activity
