"""E-mails about contact requests: what they say, and whose address they may carry."""

from __future__ import annotations

import pytest

from tests.factories import TestMember, active_member, outbox

SEND = """
mutation Send($to: ID!, $message: String!) {
  sendContactRequest(recipientId: $to, message: $message) { contactRequest { id } userErrors { code } }
}
"""
ACCEPT = """
mutation Accept($id: ID!, $message: String) {
  acceptContactRequest(id: $id, message: $message) { userErrors { code } }
}
"""
DECLINE = """
mutation Decline($id: ID!, $message: String) {
  declineContactRequest(id: $id, message: $message) { userErrors { code } }
}
"""
MESSAGE = "We build robots with <b>year 9</b> & would love a visit."


@pytest.fixture
async def school_and_company(client, services) -> tuple[TestMember, TestMember]:
    school = await active_member(client, services, "teacher@school.example", kind="SCHOOL", first_name="Ana", last_name="Lopez")
    company = await active_member(client, services, "engineer@company.example", kind="COMPANY", first_name="Ben", last_name="Okafor")
    return school, company


async def send(client, sender: TestMember, recipient: TestMember, message: str = MESSAGE) -> str:
    payload = (await client.execute(SEND, {"to": recipient.id, "message": message}, token=sender.token))[
        "sendContactRequest"
    ]
    assert payload["userErrors"] == []
    return payload["contactRequest"]["id"]


async def test_new_request_email_carries_message_and_sender_address(client, services, school_and_company):
    school, company = school_and_company

    await send(client, school, company)

    [mail] = await outbox(services, company.email, "contact_request_received")
    assert mail.subject == "Ana Lopez would like to work with you"
    assert MESSAGE in mail.text_body
    assert school.email in mail.text_body
    assert "accept or decline" in mail.text_body
    assert "http://frontend.test/contact-requests/" in mail.text_body
    assert "&lt;b&gt;year 9&lt;/b&gt; &amp; would" in mail.html_body
    assert f"mailto:{school.email}" in mail.html_body
    assert company.email not in mail.text_body + mail.html_body


async def test_accepted_email_carries_recipient_address(client, services, school_and_company):
    school, company = school_and_company
    request_id = await send(client, school, company)

    data = await client.execute(ACCEPT, {"id": request_id, "message": "Gladly, see you in March"}, token=company.token)

    assert data["acceptContactRequest"]["userErrors"] == []
    [mail] = await outbox(services, school.email, "contact_request_accepted")
    assert mail.subject == "Ben Okafor accepted your contact request"
    assert company.email in mail.text_body
    assert "Gladly, see you in March" in mail.text_body
    assert f"mailto:{company.email}" in mail.html_body
    assert await outbox(services, company.email, "contact_request_accepted") == []


async def test_declined_email_hides_recipient_address(client, services, school_and_company):
    school, company = school_and_company
    request_id = await send(client, school, company)

    await client.execute(DECLINE, {"id": request_id, "message": "Not this term"}, token=company.token)

    [mail] = await outbox(services, school.email, "contact_request_declined")
    assert mail.subject == "Ben Okafor declined your contact request"
    assert "Not this term" in mail.text_body
    assert company.email not in mail.text_body
    assert company.email not in mail.html_body
    assert "http://frontend.test/search" in mail.text_body


async def test_declined_email_shows_address_of_earlier_sender(client, services, school_and_company):
    """The company once wrote to the school, so the school may see its address even after a decline."""
    school, company = school_and_company
    first = await send(client, company, school, "Could we visit?")
    await client.execute(DECLINE, {"id": first}, token=school.token)
    second = await send(client, school, company, "We changed our mind: please come!")

    await client.execute(DECLINE, {"id": second}, token=company.token)

    [mail] = await outbox(services, school.email, "contact_request_declined")
    assert company.email in mail.text_body


async def test_repeated_request_shows_sender_address_only(client, services, school_and_company):
    """A second request reveals the sender's address, never the recipient's, to the recipient."""
    school, company = school_and_company
    first = await send(client, school, company, "First request")
    await client.execute(DECLINE, {"id": first}, token=company.token)

    await send(client, school, company, "Second request")

    mails = await outbox(services, company.email, "contact_request_received")
    assert len(mails) == 2
    assert all(school.email in mail.text_body for mail in mails)
    declined = await outbox(services, school.email, "contact_request_declined")
    assert company.email not in declined[0].text_body
