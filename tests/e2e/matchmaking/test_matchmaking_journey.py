"""The matchmaking journey of the user guide against a real `pgbs serve`, through the `gql` client.

Two members register and verify with the links e-mailed to them, complete
their profiles, the school finds the company through search and asks it to
connect. Each sees the
other's address exactly when the e-mail privacy rule allows: nobody before the
request, the recipient once it is sent, both once it is accepted. Every
e-mail is read from the SMTP server the service delivered it to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.httpx import HTTPXAsyncTransport

from tests.e2e.matchmaking.conftest import PUBLIC_BASE_URL, RunningServer, SmtpServer, text_body
from tests.factories import link_parameter

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { token user { id } userErrors { code field message } }
}
"""
VERIFY = """
mutation Verify($token: String!) {
  verifyEmail(token: $token) { token user { id email } userErrors { code message } }
}
"""
UPDATE_PROFILE = """
mutation Profile($input: ProfileInput!) {
  updateProfile(input: $input) { user { id isProfileComplete } userErrors { code field message } }
}
"""
MEMBER = """
query Member($id: ID!) {
  node(id: $id) {
    ... on User { id firstName lastName email role organisation { name kind } contactRequest { id status } }
  }
}
"""
SEND = """
mutation Send($to: ID!, $message: String!) {
  sendContactRequest(recipientId: $to, message: $message) {
    contactRequest { id status direction } userErrors { code field message }
  }
}
"""
SEARCH = """
query Search($filter: SearchFilter) {
  search(filter: $filter) { totalCount edges { node { id firstName email organisation { name kind } } } }
}
"""
REQUESTS = """
query Requests($direction: ContactDirection) {
  contactRequests(direction: $direction) {
    totalCount
    edges { node { id status message sender { id email } recipient { id email } } }
  }
}
"""
ACCEPT = """
mutation Accept($id: ID!, $message: String) {
  acceptContactRequest(id: $id, message: $message) {
    contactRequest { id status responseMessage } userErrors { code field message }
  }
}
"""
INVITE = """
mutation Invite($input: InvitationInput!) {
  inviteContact(input: $input) { invitation { id email } userErrors { code field message } }
}
"""
INVITATION = "query Invitation($id: ID!) { node(id: $id) { ... on Invitation { id email firstName } } }"


@asynccontextmanager
async def gql_session(server: RunningServer, token: str | None = None) -> AsyncIterator[AsyncClientSession]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = HTTPXAsyncTransport(url=server.url, headers=headers, timeout=30)
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        yield session


async def run(server: RunningServer, document: str, variables: dict | None = None, token: str | None = None) -> dict:
    async with gql_session(server, token) as session:
        return await session.execute(GraphQLRequest(document, variable_values=variables or {}))


async def join(
    server: RunningServer, smtp: SmtpServer, address: str, first_name: str, kind: str, organisation: str
) -> tuple[str, str]:
    """Register, verify with the e-mailed link and complete the profile; return (user id, bearer token)."""
    registered = await run(
        server,
        REGISTER,
        {"input": {"email": address, "password": PASSWORD, "firstName": first_name, "lastName": "Test"}},
    )
    assert registered["register"] == {"token": None, "user": None, "userErrors": []}

    [verification] = await smtp.store.wait_for(address, lambda message: "Confirm your e-mail" in message["Subject"])
    link = link_parameter(text_body(verification), "token")
    assert f"{PUBLIC_BASE_URL}/verify-email?token=" in text_body(verification)
    verified = (await run(server, VERIFY, {"token": link}))["verifyEmail"]
    assert verified["userErrors"] == []
    token = verified["token"]

    profile = {
        "role": "Physics teacher" if kind == "SCHOOL" else "Mechanical engineer",
        "subjects": ["PHYSICS", "ROBOTICS"],
        "organisation": {"name": organisation, "kind": kind, "countryCode": "FR", "city": "Lyon"},
    }
    updated = (await run(server, UPDATE_PROFILE, {"input": profile}, token))["updateProfile"]
    assert updated["userErrors"] == []
    assert updated["user"]["isProfileComplete"] is True
    return verified["user"]["id"], token


async def address_seen(server: RunningServer, viewer_token: str, owner_id: str) -> str | None:
    """Return the owner's address as `node` and every request of the viewer show it; all paths must agree."""
    node = (await run(server, MEMBER, {"id": owner_id}, viewer_token))["node"]
    assert node is not None
    seen = {node["email"]}
    edges = (await run(server, REQUESTS, {}, viewer_token))["contactRequests"]["edges"]
    for edge in edges:
        for role in ("sender", "recipient"):
            if edge["node"][role]["id"] == owner_id:
                seen.add(edge["node"][role]["email"])
    assert len(seen) == 1, f"paths disagree about the address: {seen}"
    return seen.pop()


async def test_members_connect_and_see_addresses_when_allowed(running_server, smtp_server):
    server, smtp = running_server, smtp_server
    school_address, company_address = "ana.teacher@school.example", "ben.engineer@company.example"
    school_id, school_token = await join(server, smtp, school_address, "Ana", "SCHOOL", "Lycée Ampère")
    company_id, company_token = await join(server, smtp, company_address, "Ben", "COMPANY", "Robots Lyon")

    # The school searches for companies: it finds the company, with its address hidden.
    search = {"filter": {"text": "robots", "countryCodes": ["FR"], "stemTopics": ["ROBOTICS"]}}
    results = (await run(server, SEARCH, search, school_token))["search"]
    assert results["totalCount"] == 1
    assert results["edges"][0]["node"] == {
        "id": company_id,
        "firstName": "Ben",
        "email": None,
        "organisation": {"name": "Robots Lyon", "kind": "COMPANY"},
    }
    # The company's search lists schools, never another company.
    schools = (await run(server, SEARCH, {}, company_token))["search"]
    assert [edge["node"]["id"] for edge in schools["edges"]] == [school_id]

    # Its profile through node: visible, address hidden, no request yet.
    found = (await run(server, MEMBER, {"id": company_id}, school_token))["node"]
    assert found["organisation"] == {"name": "Robots Lyon", "kind": "COMPANY"}
    assert found["role"] == "Mechanical engineer"
    assert found["contactRequest"] is None
    assert await address_seen(server, school_token, company_id) is None
    assert await address_seen(server, company_token, school_id) is None

    message = "Our year 10 class builds robots. Would you visit us in March?"
    sent = (await run(server, SEND, {"to": company_id, "message": message}, school_token))["sendContactRequest"]
    assert sent["userErrors"] == []
    assert sent["contactRequest"]["status"] == "PENDING"
    request_id = sent["contactRequest"]["id"]

    [received] = await smtp.store.wait_for(company_address, lambda mail: "would like to work with you" in mail["Subject"])
    assert message in text_body(received)
    assert school_address in text_body(received)
    assert f"{PUBLIC_BASE_URL}/contact-requests/" in text_body(received)
    assert received.get_body(preferencelist=("html",)) is not None

    # Sent: the recipient sees the sender's address, not the other way round.
    assert await address_seen(server, company_token, school_id) == school_address
    assert await address_seen(server, school_token, company_id) is None

    incoming = (await run(server, REQUESTS, {"direction": "RECEIVED"}, company_token))["contactRequests"]
    assert incoming["totalCount"] == 1
    assert incoming["edges"][0]["node"]["message"] == message

    accepted = (await run(server, ACCEPT, {"id": request_id, "message": "With pleasure!"}, company_token))[
        "acceptContactRequest"
    ]
    assert accepted["userErrors"] == []
    assert accepted["contactRequest"]["status"] == "ACCEPTED"

    [answer] = await smtp.store.wait_for(school_address, lambda mail: "accepted your contact request" in mail["Subject"])
    assert company_address in text_body(answer)
    assert "With pleasure!" in text_body(answer)

    # Accepted: both see each other's address.
    assert await address_seen(server, school_token, company_id) == company_address
    assert await address_seen(server, company_token, school_id) == school_address
    latest = (await run(server, MEMBER, {"id": company_id}, school_token))["node"]["contactRequest"]
    assert latest == {"id": request_id, "status": "ACCEPTED"}

    # No e-mail ever showed the company's address before it accepted.
    before_accept = [mail for mail in smtp.store.to(school_address) if mail is not answer]
    assert all(company_address not in text_body(mail) for mail in before_accept)


async def test_invited_professional_registers_through_link(running_server, smtp_server):
    server, smtp = running_server, smtp_server
    _school_id, school_token = await join(server, smtp, "ana.teacher@school.example", "Ana", "SCHOOL", "Lycée Ampère")
    guest = "chloe.pro@company.example"

    invited = (
        await run(
            server,
            INVITE,
            {"input": {"kind": "COMPANY", "firstName": "Chloé", "lastName": "Martin", "email": guest,
                       "message": "Come and meet our pupils."}},
            school_token,
        )
    )["inviteContact"]
    assert invited["userErrors"] == []
    shown = (await run(server, INVITATION, {"id": invited["invitation"]["id"]}, school_token))["node"]
    assert shown == {"id": invited["invitation"]["id"], "email": guest, "firstName": "Chloé"}

    [invitation] = await smtp.store.wait_for(guest, lambda mail: "invites you" in mail["Subject"])
    assert "Come and meet our pupils." in text_body(invitation)
    assert f"{PUBLIC_BASE_URL}/register?invitation=" in text_body(invitation)
    assert "ana.teacher@school.example" not in text_body(invitation)
    token = link_parameter(text_body(invitation), "invitation")

    registered = await run(
        server,
        REGISTER,
        {"input": {"email": guest, "password": PASSWORD, "firstName": "Chloé", "lastName": "Martin",
                   "invitationToken": token}},
    )
    assert registered["register"]["userErrors"] == []
    await smtp.store.wait_for(guest, lambda mail: "Confirm your e-mail" in mail["Subject"])
