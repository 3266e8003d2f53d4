"""Who sees whose e-mail address and profile, through every path of the GraphQL API.

Member X's address is visible to viewer Y only when Y is X, X sent Y a
contact request (whatever became of it), X accepted a request from Y, or Y is
a coordinator. Each relation is checked in both directions and through
`node`, `contactRequests` and `User.contactRequest`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain import accounts
from tests.factories import TestMember, active_member, verified_member

SEND = """
mutation Send($to: ID!) {
  sendContactRequest(recipientId: $to, message: "Shall we work together?") {
    contactRequest { id } userErrors { code }
  }
}
"""
ANSWER = """
mutation Answer($id: ID!, $accept: Boolean!) {
  accept: acceptContactRequest(id: $id) @include(if: $accept) { userErrors { code } }
  decline: declineContactRequest(id: $id) @skip(if: $accept) { userErrors { code } }
}
"""
WITHDRAW = "mutation Withdraw($id: ID!) { withdrawContactRequest(id: $id) { userErrors { code } } }"
NODE_EMAIL = "query Email($id: ID!) { node(id: $id) { ... on User { id email } } }"
REQUEST_USERS = """
query Requests {
  contactRequests { edges { node { sender { id email } recipient { id email } } } }
}
"""
LATEST_REQUEST_USERS = """
query Latest($id: ID!) {
  node(id: $id) { ... on User { contactRequest { sender { id email } recipient { id email } } } }
}
"""
PROFILE = """
query Profile($id: ID!) {
  node(id: $id) {
    ... on User {
      id firstName lastName email role subjects isProfileComplete
      organisation { name kind countryCode city }
      activityProfile { countryCode stemTopics ageGroups languages description availability { from until } }
    }
  }
}
"""
ACTIVITY_PROFILE = {
    "countryCode": "FR",
    "stemTopics": ["ROBOTICS"],
    "activityLengths": ["HALF_DAY"],
    "ageGroups": ["AGES_13_15"],
    "availability": [{"from": "2027-02-01", "until": "2027-03-31"}],
    "languages": ["fr"],
    "description": "Robot building workshops",
}


async def send(client, sender: TestMember, recipient: TestMember) -> str:
    payload = (await client.execute(SEND, {"to": recipient.id}, token=sender.token))["sendContactRequest"]
    assert payload["userErrors"] == []
    return payload["contactRequest"]["id"]


async def answer(client, recipient: TestMember, request_id: str, accept: bool) -> None:
    data = await client.execute(ANSWER, {"id": request_id, "accept": accept}, token=recipient.token)
    assert data["accept" if accept else "decline"]["userErrors"] == []


async def withdraw(client, sender: TestMember, request_id: str) -> None:
    data = await client.execute(WITHDRAW, {"id": request_id}, token=sender.token)
    assert data["withdrawContactRequest"]["userErrors"] == []


@dataclass(frozen=True)
class Relation:
    """What happened between member A (a school) and member B (a company), and who may see whose address."""

    name: str
    steps: tuple[str, ...]  # "A->B" sends, "accept"/"decline" by the recipient, "withdraw" by the sender
    a_sees_b: bool
    b_sees_a: bool


RELATIONS = [
    Relation("none", (), a_sees_b=False, b_sees_a=False),
    Relation("sent", ("A->B",), a_sees_b=False, b_sees_a=True),
    Relation("received", ("B->A",), a_sees_b=True, b_sees_a=False),
    Relation("sent_accepted", ("A->B", "accept"), a_sees_b=True, b_sees_a=True),
    Relation("received_accepted", ("B->A", "accept"), a_sees_b=True, b_sees_a=True),
    Relation("sent_declined", ("A->B", "decline"), a_sees_b=False, b_sees_a=True),
    Relation("received_declined", ("B->A", "decline"), a_sees_b=True, b_sees_a=False),
    Relation("sent_withdrawn", ("A->B", "withdraw"), a_sees_b=False, b_sees_a=True),
    Relation("received_withdrawn", ("B->A", "withdraw"), a_sees_b=True, b_sees_a=False),
    # A declined request followed by one in the other direction: B once wrote to A.
    Relation("declined_then_reverse", ("B->A", "decline", "A->B"), a_sees_b=True, b_sees_a=True),
]


async def build_relation(client, a: TestMember, b: TestMember, steps: tuple[str, ...]) -> None:
    members = {"A": a, "B": b}
    request_id = sender = recipient = None
    for step in steps:
        if "->" in step:
            sender, recipient = (members[name] for name in step.split("->"))
            request_id = await send(client, sender, recipient)
        elif step == "withdraw":
            await withdraw(client, sender, request_id)
        else:
            await answer(client, recipient, request_id, accept=step == "accept")


async def emails_seen(client, viewer: TestMember, owner: TestMember) -> dict[str, str | None]:
    """Return the owner's address as each path shows it to the viewer; paths without the owner are left out."""
    seen: dict[str, str | None] = {}
    node = (await client.execute(NODE_EMAIL, {"id": owner.id}, token=viewer.token))["node"]
    assert node is not None, "an active member sees every other active member"
    seen["node"] = node["email"]

    edges = (await client.execute(REQUEST_USERS, token=viewer.token))["contactRequests"]["edges"]
    for index, edge in enumerate(edges):
        for role in ("sender", "recipient"):
            if edge["node"][role]["id"] == owner.id:
                seen[f"contactRequests[{index}].{role}"] = edge["node"][role]["email"]

    latest = (await client.execute(LATEST_REQUEST_USERS, {"id": owner.id}, token=viewer.token))["node"]
    if latest["contactRequest"] is not None:
        for role in ("sender", "recipient"):
            if latest["contactRequest"][role]["id"] == owner.id:
                seen[f"contactRequest.{role}"] = latest["contactRequest"][role]["email"]
    return seen


@pytest.fixture
async def a_and_b(client, services) -> tuple[TestMember, TestMember]:
    a = await active_member(client, services, "a@school.example", kind="SCHOOL")
    b = await active_member(client, services, "b@company.example", kind="COMPANY")
    return a, b


@pytest.mark.parametrize("relation", RELATIONS, ids=[relation.name for relation in RELATIONS])
async def test_email_visibility_by_relation(client, a_and_b, relation):
    a, b = a_and_b
    await build_relation(client, a, b, relation.steps)

    a_view = await emails_seen(client, a, b)
    b_view = await emails_seen(client, b, a)

    expected_for_a = b.email if relation.a_sees_b else None
    expected_for_b = a.email if relation.b_sees_a else None
    assert a_view == {path: expected_for_a for path in a_view}
    assert b_view == {path: expected_for_b for path in b_view}
    # Each request adds one path and the latest request one more, so no path escapes the checks above.
    requests = sum(1 for step in relation.steps if "->" in step)
    expected_paths = 1 + requests + (1 if requests else 0)
    assert len(a_view) == expected_paths
    assert len(b_view) == expected_paths


async def test_email_visible_to_self(client, a_and_b):
    a, _b = a_and_b

    seen = (await client.execute(NODE_EMAIL, {"id": a.id}, token=a.token))["node"]
    viewer = (await client.execute("query { viewer { email } }", token=a.token))["viewer"]

    assert seen["email"] == a.email
    assert viewer["email"] == a.email


async def test_coordinator_sees_every_email(client, services, a_and_b):
    a, b = a_and_b
    coordinator = await active_member(client, services, "office@campaign.example", kind="COMPANY")
    await accounts.create_coordinator(services, coordinator.email)
    request_id = await send(client, a, b)
    coordinator_sees_request = (
        await client.execute(
            "query($id: ID!) { node(id: $id) { ... on ContactRequest { sender { email } recipient { email } } } }",
            {"id": request_id},
            token=coordinator.token,
        )
    )["node"]

    assert (await emails_seen(client, coordinator, a))["node"] == a.email
    assert (await emails_seen(client, coordinator, b))["node"] == b.email
    assert coordinator_sees_request == {"sender": {"email": a.email}, "recipient": {"email": b.email}}
    assert (await emails_seen(client, a, coordinator))["node"] is None


async def test_complete_member_sees_other_profiles_except_email(client, services, a_and_b):
    a, _b = a_and_b
    b = await active_member(
        client, services, "robotics@company.example", kind="COMPANY", role="Engineer", subjects=["ROBOTICS"],
        organisation="Robots Inc", city="Grenoble", activity_profile=ACTIVITY_PROFILE,
    )

    seen = (await client.execute(PROFILE, {"id": b.id}, token=a.token))["node"]

    assert seen["email"] is None
    assert seen["role"] == "Engineer"
    assert seen["subjects"] == ["ROBOTICS"]
    assert seen["isProfileComplete"] is True
    assert seen["organisation"] == {"name": "Robots Inc", "kind": "COMPANY", "countryCode": "FR", "city": "Grenoble"}
    assert seen["activityProfile"] == {
        "countryCode": "FR",
        "stemTopics": ["ROBOTICS"],
        "ageGroups": ["AGES_13_15"],
        "languages": ["fr"],
        "description": "Robot building workshops",
        "availability": [{"from": "2027-02-01", "until": "2027-03-31"}],
    }


async def test_anonymous_sees_no_member(client, a_and_b):
    a, b = a_and_b

    for member in (a, b):
        assert (await client.execute(PROFILE, {"id": member.id}))["node"] is None


async def test_incomplete_viewer_sees_only_self(client, services, a_and_b):
    a, b = a_and_b
    newcomer = await verified_member(client, services, "newcomer@school.example")

    assert (await client.execute(PROFILE, {"id": a.id}, token=newcomer.token))["node"] is None
    assert (await client.execute(PROFILE, {"id": b.id}, token=newcomer.token))["node"] is None
    own = (await client.execute(PROFILE, {"id": newcomer.id}, token=newcomer.token))["node"]
    assert own["email"] == newcomer.email
    assert own["isProfileComplete"] is False


async def test_incomplete_member_hidden_except_from_coordinators(client, services, a_and_b):
    a, _b = a_and_b
    newcomer = await verified_member(client, services, "newcomer@company.example")
    coordinator = await active_member(client, services, "office@campaign.example", kind="COMPANY")
    await accounts.create_coordinator(services, coordinator.email)

    assert (await client.execute(PROFILE, {"id": newcomer.id}, token=a.token))["node"] is None
    seen = (await client.execute(PROFILE, {"id": newcomer.id}, token=coordinator.token))["node"]
    assert seen["email"] == newcomer.email
