"""Contact requests through the GraphQL API: send, accept, decline, withdraw, list."""

from __future__ import annotations

import pytest

from tests.factories import active_member, outbox, verified_member

SEND = """
mutation Send($to: ID!, $message: String!) {
  sendContactRequest(recipientId: $to, message: $message) {
    contactRequest { id status direction message sender { id } recipient { id email } }
    userErrors { field code message }
  }
}
"""
ACCEPT = """
mutation Accept($id: ID!, $message: String) {
  acceptContactRequest(id: $id, message: $message) {
    contactRequest { id status responseMessage respondedAt direction sender { email } }
    userErrors { field code message }
  }
}
"""
DECLINE = """
mutation Decline($id: ID!) {
  declineContactRequest(id: $id) { contactRequest { id status } userErrors { field code message } }
}
"""
WITHDRAW = """
mutation Withdraw($id: ID!) {
  withdrawContactRequest(id: $id) { contactRequest { id status } userErrors { field code message } }
}
"""
LIST = """
query List($direction: ContactDirection, $status: ContactRequestStatus, $first: Int, $after: String) {
  contactRequests(direction: $direction, status: $status, first: $first, after: $after) {
    totalCount
    edges { cursor node { id status direction } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
USER_REQUEST = """
query Member($id: ID!) { node(id: $id) { ... on User { email contactRequest { id status } } } }
"""


@pytest.fixture
async def pair(client, services):
    school = await active_member(client, services, "teacher@school.example", kind="SCHOOL")
    company = await active_member(client, services, "engineer@company.example", kind="COMPANY")
    return school, company


async def send(client, sender, recipient, message="Would you visit our class?"):
    data = await client.execute(SEND, {"to": recipient.id, "message": message}, token=sender.token)
    return data["sendContactRequest"]


async def test_send_creates_pending_request_and_emails_recipient(client, services, pair):
    school, company = pair

    payload = await send(client, school, company)

    request = payload["contactRequest"]
    assert payload["userErrors"] == []
    assert request["status"] == "PENDING"
    assert request["direction"] == "SENT"
    assert request["recipient"]["email"] is None
    mails = await outbox(services, company.email, "contact_request_received")
    assert len(mails) == 1
    assert "Would you visit our class?" in mails[0].text_body
    assert school.email in mails[0].text_body


async def test_send_rejections_have_codes(client, services, pair):
    school, company = pair
    other_school = await active_member(client, services, "other@school.example", kind="SCHOOL")
    unverified = await verified_member(client, services, "new@school.example")

    assert (await send(client, school, school))["userErrors"][0]["code"] == "SELF_REQUEST"
    assert (await send(client, school, other_school))["userErrors"][0]["code"] == "SAME_SIDE"
    assert (await send(client, school, company, message=" "))["userErrors"][0]["code"] == "REQUIRED"
    assert (await send(client, school, company, message="x" * 2001))["userErrors"][0]["code"] == "TOO_LONG"
    assert (await send(client, unverified, company))["userErrors"][0]["code"] == "PROFILE_INCOMPLETE"
    bogus = await client.execute(SEND, {"to": "bm9uc2Vuc2U", "message": "hi"}, token=school.token)
    assert bogus["sendContactRequest"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_pair_has_one_open_request_either_direction(client, services, pair):
    school, company = pair
    await send(client, school, company)

    again = await send(client, school, company)
    reverse = await send(client, company, school)

    assert again["userErrors"][0]["code"] == "ALREADY_CONNECTED"
    assert reverse["userErrors"][0]["code"] == "ALREADY_CONNECTED"


async def test_accept_by_recipient_once(client, services, pair):
    school, company = pair
    request_id = (await send(client, school, company))["contactRequest"]["id"]

    by_sender = (await client.execute(ACCEPT, {"id": request_id}, token=school.token))["acceptContactRequest"]
    accepted = (await client.execute(ACCEPT, {"id": request_id, "message": "Gladly"}, token=company.token))[
        "acceptContactRequest"
    ]
    twice = (await client.execute(DECLINE, {"id": request_id}, token=company.token))["declineContactRequest"]

    assert by_sender["userErrors"][0]["code"] == "NOT_ALLOWED"
    assert accepted["contactRequest"]["status"] == "ACCEPTED"
    assert accepted["contactRequest"]["responseMessage"] == "Gladly"
    assert accepted["contactRequest"]["direction"] == "RECEIVED"
    assert twice["userErrors"][0]["code"] == "INVALID_STATUS"
    mails = await outbox(services, school.email, "contact_request_accepted")
    assert company.email in mails[0].text_body


async def test_decline_hides_recipient_address_from_sender(client, services, pair):
    school, company = pair
    request_id = (await send(client, school, company))["contactRequest"]["id"]

    declined = (await client.execute(DECLINE, {"id": request_id}, token=company.token))["declineContactRequest"]

    assert declined["contactRequest"]["status"] == "DECLINED"
    mails = await outbox(services, school.email, "contact_request_declined")
    assert company.email not in mails[0].text_body
    seen = (await client.execute(USER_REQUEST, {"id": company.id}, token=school.token))["node"]
    assert seen["email"] is None
    assert seen["contactRequest"]["status"] == "DECLINED"


async def test_withdraw_only_by_sender_while_pending(client, services, pair):
    school, company = pair
    request_id = (await send(client, school, company))["contactRequest"]["id"]

    by_recipient = (await client.execute(WITHDRAW, {"id": request_id}, token=company.token))["withdrawContactRequest"]
    withdrawn = (await client.execute(WITHDRAW, {"id": request_id}, token=school.token))["withdrawContactRequest"]
    again = (await client.execute(WITHDRAW, {"id": request_id}, token=school.token))["withdrawContactRequest"]

    assert by_recipient["userErrors"][0]["code"] == "NOT_ALLOWED"
    assert withdrawn["contactRequest"]["status"] == "WITHDRAWN"
    assert again["userErrors"][0]["code"] == "INVALID_STATUS"
    assert (await send(client, school, company))["userErrors"] == []


async def test_list_pages_by_direction_and_status(client, services, pair):
    school, company = pair
    companies = [company] + [
        await active_member(client, services, f"pro{index}@company.example", kind="COMPANY") for index in range(2)
    ]
    for recipient in companies:
        await send(client, school, recipient)

    first = (await client.execute(LIST, {"direction": "SENT", "first": 2}, token=school.token))["contactRequests"]
    rest = (
        await client.execute(
            LIST, {"direction": "SENT", "first": 2, "after": first["pageInfo"]["endCursor"]}, token=school.token
        )
    )["contactRequests"]
    received = (await client.execute(LIST, {"direction": "RECEIVED"}, token=school.token))["contactRequests"]
    pending = (await client.execute(LIST, {"status": "PENDING"}, token=company.token))["contactRequests"]

    assert first["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"] is True
    assert len(rest["edges"]) == 1
    assert rest["pageInfo"]["hasNextPage"] is False
    ids = [edge["node"]["id"] for edge in first["edges"] + rest["edges"]]
    assert len(set(ids)) == 3
    assert received["totalCount"] == 0
    assert pending["totalCount"] == 1
    assert pending["edges"][0]["node"]["direction"] == "RECEIVED"


async def test_node_hides_request_from_others(client, services, pair):
    school, company = pair
    outsider = await active_member(client, services, "outsider@company.example", kind="COMPANY")
    request_id = (await send(client, school, company))["contactRequest"]["id"]
    query = "query($id: ID!) { node(id: $id) { id ... on ContactRequest { status } } }"

    assert (await client.execute(query, {"id": request_id}, token=company.token))["node"]["status"] == "PENDING"
    assert (await client.execute(query, {"id": request_id}, token=outsider.token))["node"] is None
    assert (await client.execute(query, {"id": request_id}))["node"] is None


async def test_too_long_answer_keeps_request_pending(client, services, pair):
    school, company = pair
    request_id = (await send(client, school, company))["contactRequest"]["id"]

    rejected = (await client.execute(ACCEPT, {"id": request_id, "message": "x" * 2001}, token=company.token))[
        "acceptContactRequest"
    ]

    assert rejected["contactRequest"] is None
    assert rejected["userErrors"][0]["code"] == "TOO_LONG"
    assert rejected["userErrors"][0]["field"] == ["message"]
    seen = (await client.execute(USER_REQUEST, {"id": school.id}, token=company.token))["node"]
    assert seen["contactRequest"]["status"] == "PENDING"
    assert await outbox(services, school.email, "contact_request_accepted") == []
