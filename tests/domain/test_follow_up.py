"""The follow-up job: reminders and expiry of pending contact requests, driven by the test clock."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from domain import follow_up
from domain.follow_up import run_follow_up
from persistence.models import ContactRequest
from pgbs.app import build_services, create_app
from tests.factories import active_member, outbox
from tests.graphql_client import GraphQLClient

SEND = """
mutation Send($to: ID!, $message: String!) {
  sendContactRequest(recipientId: $to, message: $message) { contactRequest { id } userErrors { code } }
}
"""
ACCEPT = """
mutation Accept($id: ID!) { acceptContactRequest(id: $id) { userErrors { code } } }
"""
PREFERENCES = """
mutation Preferences($input: EmailPreferencesInput!) { updateEmailPreferences(input: $input) { userErrors { code } } }
"""


@pytest.fixture
async def pair(client, services):
    school = await active_member(client, services, "anna@school.example", kind="SCHOOL", first_name="Anna")
    company = await active_member(client, services, "paul@company.example", kind="COMPANY", first_name="Paul")
    return school, company


async def send(client, sender, recipient, message="Could you visit us?"):
    data = await client.execute(SEND, {"to": recipient.id, "message": message}, token=sender.token)
    assert data["sendContactRequest"]["userErrors"] == []
    return data["sendContactRequest"]["contactRequest"]["id"]


async def requests(services) -> list[ContactRequest]:
    async with services.database.read() as session:
        return list((await session.exec(select(ContactRequest).order_by(ContactRequest.id))).all())


async def test_nothing_happens_before_reminder_days(client, services, clock, pair):
    school, company = pair
    await send(client, school, company)
    clock.advance(timedelta(days=6, hours=23))

    result = await run_follow_up(services)

    assert (result.reminded, result.expired) == (0, 0)
    assert await outbox(services, company.email, "contact_request_reminder") == []


async def test_reminder_sent_once_after_seven_days(client, services, clock, pair):
    school, company = pair
    await send(client, school, company, "Robots for year 6?")
    clock.advance(timedelta(days=7))

    first = await run_follow_up(services)
    second = await run_follow_up(services)

    assert first.reminded == 1
    assert second.reminded == 0
    [reminder] = await outbox(services, company.email, "contact_request_reminder")
    assert "Robots for year 6?" in reminder.text_body
    assert "Anna" in reminder.subject
    [request] = await requests(services)
    assert request.status == "PENDING"
    assert request.reminded_at is not None


async def test_expiry_after_thirty_days_tells_sender(client, services, clock, pair):
    school, company = pair
    await send(client, school, company)
    clock.advance(timedelta(days=8))
    await run_follow_up(services)
    clock.advance(timedelta(days=22))

    first = await run_follow_up(services)
    second = await run_follow_up(services)

    assert first.expired == 1
    assert second.expired == 0
    [request] = await requests(services)
    assert request.status == "EXPIRED"
    [notice] = await outbox(services, school.email, "contact_request_expired")
    assert "Paul" in notice.text_body
    assert len(await outbox(services, company.email, "contact_request_reminder")) == 1


async def test_overdue_request_expires_without_reminder(client, services, clock, pair):
    school, company = pair
    await send(client, school, company)
    clock.advance(timedelta(days=45))

    result = await run_follow_up(services)

    assert (result.expired, result.reminded) == (1, 0)
    assert await outbox(services, company.email, "contact_request_reminder") == []


async def test_answered_request_is_left_alone(client, services, clock, pair):
    school, company = pair
    request_id = await send(client, school, company)
    data = await client.execute(ACCEPT, {"id": request_id}, token=company.token)
    assert data["acceptContactRequest"]["userErrors"] == []
    clock.advance(timedelta(days=40))

    result = await run_follow_up(services)

    assert (result.expired, result.reminded) == (0, 0)
    [request] = await requests(services)
    assert request.status == "ACCEPTED"


async def test_reminder_respects_opt_out(client, services, clock, pair):
    school, company = pair
    data = await client.execute(PREFERENCES, {"input": {"reminders": False}}, token=company.token)
    assert data["updateEmailPreferences"]["userErrors"] == []
    await send(client, school, company)
    clock.advance(timedelta(days=7))

    result = await run_follow_up(services)

    # Counted and recorded, so a later opt-in does not send a stale reminder.
    assert result.reminded == 1
    assert await outbox(services, company.email, "contact_request_reminder") == []
    [request] = await requests(services)
    assert request.reminded_at is not None


async def test_app_lifespan_runs_follow_up(settings, clock):
    # A short interval, so the job started by the application's lifespan runs while the test waits.
    fast = dataclasses.replace(settings, follow_up_interval_seconds=0.05)
    services = build_services(fast, clock=clock)
    application = create_app(services=services)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            client = GraphQLClient(http)
            school = await active_member(client, services, "ida@school.example", kind="SCHOOL")
            company = await active_member(client, services, "leo@company.example", kind="COMPANY")
            await send(client, school, company)

            clock.advance(timedelta(days=7, minutes=1))
            deadline = asyncio.get_running_loop().time() + 10
            while not await outbox(services, company.email, "contact_request_reminder"):
                assert asyncio.get_running_loop().time() < deadline, "the follow-up job sent no reminder within 10 s"
                await asyncio.sleep(0.05)

    [request] = await requests(services)
    assert request.reminded_at is not None
    await services.database.dispose()


async def test_pass_handles_several_batches(client, services, clock, pair, monkeypatch):
    school, company = pair
    other = await active_member(client, services, "zoe@company.example", kind="COMPANY")
    await send(client, school, company)
    await send(client, school, other)
    monkeypatch.setattr(follow_up, "BATCH_SIZE", 1)
    clock.advance(timedelta(days=7))

    reminded = await run_follow_up(services)
    clock.advance(timedelta(days=30))
    expired = await run_follow_up(services)

    assert reminded.reminded == 2
    assert expired.expired == 2
    assert [request.status for request in await requests(services)] == ["EXPIRED", "EXPIRED"]
