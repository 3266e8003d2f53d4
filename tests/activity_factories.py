"""Builders for activity tests: two members connected by an accepted contact request, through the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.activities import ActivityChanges, LocationChanges
from domain.services import Services
from domain.vocabulary import ActivityFormat, ActivityLength, AgeGroup, StemTopic
from persistence import members as member_table
from persistence.models import Member
from schema.node import decode_global_id
from tests.factories import TestMember, active_member
from tests.graphql_client import GraphQLClient

SEND = """
mutation Send($to: ID!, $message: String!) {
  sendContactRequest(recipientId: $to, message: $message) { contactRequest { id } userErrors { code } }
}
"""
ACCEPT = """
mutation Accept($id: ID!) { acceptContactRequest(id: $id) { contactRequest { id status } userErrors { code } } }
"""


@dataclass
class ConnectedPair:
    school: TestMember
    company: TestMember
    request_id: str  # global id of the accepted contact request


async def send_request(client: GraphQLClient, sender: TestMember, recipient: TestMember) -> str:
    data = await client.execute(SEND, {"to": recipient.id, "message": "Shall we plan a visit?"}, token=sender.token)
    assert data["sendContactRequest"]["userErrors"] == []
    return data["sendContactRequest"]["contactRequest"]["id"]


async def accept_request(client: GraphQLClient, recipient: TestMember, request_id: str) -> None:
    data = await client.execute(ACCEPT, {"id": request_id}, token=recipient.token)
    assert data["acceptContactRequest"]["userErrors"] == []


async def connected_pair(
    client: GraphQLClient,
    services: Services,
    *,
    prefix: str = "",
    country: str = "FR",
    city: str = "Lyon",
    school_name: str = "Lycée Jean Moulin",
    company_name: str = "Rhône Robotics",
) -> ConnectedPair:
    """A school teacher and a company engineer whose contact request the engineer accepted."""
    school = await active_member(
        client, services, f"{prefix}teacher@school.example", kind="SCHOOL", country=country, city=city,
        organisation=school_name, first_name="Claire", last_name="Moreau",
    )
    company = await active_member(
        client, services, f"{prefix}engineer@company.example", kind="COMPANY", country=country, city=city,
        organisation=company_name, first_name="Jonas", last_name="Becker",
    )
    request_id = await send_request(client, school, company)
    await accept_request(client, company, request_id)
    return ConnectedPair(school=school, company=company, request_id=request_id)


def key(global_id: str) -> int:
    decoded = decode_global_id(global_id)
    assert decoded is not None, global_id
    return decoded[1]


async def member_row(services: Services, member: TestMember) -> Member:
    async with services.database.read() as session:
        row = await member_table.get_member(session, key(member.id))
    assert row is not None
    return row


def activity_input(**overrides: Any) -> dict[str, Any]:
    """A valid ActivityInput as GraphQL variables; `overrides` replace fields."""
    values: dict[str, Any] = {
        "title": "Robots in the physics lab",
        "description": "Two engineers show how industrial robots sense and move.",
        "startsOn": "2027-03-10",
        "endsOn": "2027-03-10",
        "length": "HALF_DAY",
        "format": "IN_PERSON",
        "stemTopics": ["ROBOTICS", "PHYSICS"],
        "ageGroups": ["AGES_13_15"],
        "expectedStudents": 28,
    }
    values.update(overrides)
    return values


def activity_changes(**overrides: Any) -> ActivityChanges:
    """A valid ActivityChanges for domain calls; `overrides` replace fields."""
    values: dict[str, Any] = {
        "title": "Robots in the physics lab",
        "description": "Two engineers show how industrial robots sense and move.",
        "starts_on": date(2027, 3, 10),
        "ends_on": date(2027, 3, 10),
        "length": ActivityLength.HALF_DAY,
        "format": ActivityFormat.IN_PERSON,
        "stem_topics": [StemTopic.ROBOTICS, StemTopic.PHYSICS],
        "age_groups": [AgeGroup.AGES_13_15],
        "expected_students": 28,
        "location": None,
    }
    values.update(overrides)
    return ActivityChanges(**values)


__all__ = ["LocationChanges", "activity_changes", "activity_input", "connected_pair", "key", "member_row"]
