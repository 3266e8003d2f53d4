"""Invitations through the GraphQL API: the e-mail, registering with its link, limits and validation."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from domain import accounts
from domain.tokens import digest
from persistence.models import Invitation, Member
from pgbs.settings import Settings
from tests.conftest import count_rows
from tests.factories import (
    TestMember,
    active_member,
    latest_token,
    link_parameter,
    outbox,
    register,
    verified_member,
)

INVITE = """
mutation Invite($input: InvitationInput!) {
  inviteContact(input: $input) {
    invitation { id kind firstName lastName email message createdAt }
    userErrors { field code message }
  }
}
"""
INVITATION_NODE = """
query Invitation($id: ID!) { node(id: $id) { id ... on Invitation { email firstName kind } } }
"""
INVITATIONS_PER_DAY = 3
# Both shorter than a session (30 days), so a test can move the clock past them and stay signed in.
REPEAT_DAYS = 7
VALID_DAYS = 14


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_base_url="http://frontend.test",
        invitations_per_day=INVITATIONS_PER_DAY,
        invitation_repeat_days=REPEAT_DAYS,
        invitation_ttl_days=VALID_DAYS,
    )


@pytest.fixture
async def inviter(client, services) -> TestMember:
    return await active_member(
        client, services, "teacher@school.example", kind="SCHOOL", organisation="Lycée Ampère",
        first_name="Ana", last_name="Lopez",
    )


def invitation_input(email: str = "new.pro@company.example", **fields) -> dict:
    return {"kind": "COMPANY", "firstName": "Chloé", "lastName": "Martin", "email": email, **fields}


async def invite(client, member: TestMember, **input_fields) -> dict:
    data = await client.execute(INVITE, {"input": invitation_input(**input_fields)}, token=member.token)
    return data["inviteContact"]


async def stored_invitations(services) -> list[Invitation]:
    async with services.database.read() as session:
        return list((await session.exec(select(Invitation).order_by(Invitation.id))).all())


async def test_invite_emails_registration_link(client, services, inviter):
    payload = await invite(client, inviter, message="Our pupils would love to meet an engineer.")

    assert payload["userErrors"] == []
    invitation = payload["invitation"]
    assert invitation["email"] == "new.pro@company.example"
    assert invitation["kind"] == "COMPANY"
    [mail] = await outbox(services, "new.pro@company.example", "invitation")
    assert mail.subject == "Ana Lopez invites you to STEM Professionals Go Back to School"
    assert "Hello Chloé" in mail.text_body
    assert "Lycée Ampère" in mail.text_body
    assert "Our pupils would love to meet an engineer." in mail.text_body
    assert inviter.email not in mail.text_body
    assert "http://frontend.test/register?invitation=" in mail.text_body
    token = link_parameter(mail.text_body, "invitation")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert 'href="http://frontend.test/register?invitation=' in mail.html_body


async def test_token_stored_only_as_digest(client, services, inviter):
    await invite(client, inviter)
    token = await latest_token(services, "new.pro@company.example", "invitation", parameter="invitation")

    [row] = await stored_invitations(services)

    assert row.token_hash == digest(token)
    assert token not in row.model_dump_json()


async def test_registering_with_link_links_inviter(client, services, inviter):
    await invite(client, inviter)
    token = await latest_token(services, "new.pro@company.example", "invitation", parameter="invitation")

    payload = await register(client, "new.pro@company.example", invitation_token=token)

    assert payload["userErrors"] == []
    async with services.database.read() as session:
        newcomer = (await session.exec(select(Member).where(Member.email == "new.pro@company.example"))).one()
        inviter_row = (await session.exec(select(Member).where(Member.email == inviter.email))).one()
    assert newcomer.invited_by_id == inviter_row.id
    [row] = await stored_invitations(services)
    assert row.accepted_by_id == newcomer.id


async def test_used_link_rejected_and_nothing_created(client, services, inviter):
    await invite(client, inviter)
    token = await latest_token(services, "new.pro@company.example", "invitation", parameter="invitation")
    await register(client, "new.pro@company.example", invitation_token=token)
    members_before = await count_rows(services, "member")

    again = await register(client, "colleague@company.example", invitation_token=token)

    assert again["userErrors"][0]["code"] == "INVALID_TOKEN"
    assert again["userErrors"][0]["field"] == ["input", "invitationToken"]
    assert await count_rows(services, "member") == members_before


async def test_expired_link_rejected(client, services, clock, inviter):
    await invite(client, inviter)
    token = await latest_token(services, "new.pro@company.example", "invitation", parameter="invitation")
    clock.advance(timedelta(days=VALID_DAYS, minutes=1))

    payload = await register(client, "new.pro@company.example", invitation_token=token)

    assert payload["userErrors"][0]["code"] == "INVALID_TOKEN"
    assert await outbox(services, "new.pro@company.example", "verify_email") == []


async def test_concurrent_registrations_use_link_once(client, services, inviter):
    await invite(client, inviter)
    token = await latest_token(services, "new.pro@company.example", "invitation", parameter="invitation")

    payloads = await asyncio.gather(
        register(client, "new.pro@company.example", invitation_token=token),
        register(client, "colleague@company.example", invitation_token=token),
    )

    codes = sorted(error["code"] for payload in payloads for error in payload["userErrors"])
    assert codes == ["INVALID_TOKEN"]
    assert await count_rows(services, "member") == 2  # the inviter and one newcomer


async def test_member_address_gets_same_answer_and_no_email(client, services, inviter):
    await active_member(client, services, "already@company.example", kind="COMPANY")
    outbox_before = await count_rows(services, "outbox_message")

    to_member = await invite(client, inviter, email="already@company.example")
    to_stranger = await invite(client, inviter, email="stranger@company.example")

    def shape(payload: dict) -> dict:
        invitation = dict(payload["invitation"], id=None, createdAt=None, email=None)
        return {"invitation": invitation, "userErrors": payload["userErrors"]}

    assert shape(to_member) == shape(to_stranger)
    assert to_member["invitation"]["email"] == "already@company.example"
    assert await outbox(services, "already@company.example", "invitation") == []
    assert await count_rows(services, "outbox_message") == outbox_before + 1
    rows = {row.email: row for row in await stored_invitations(services)}
    assert rows["already@company.example"].sent is False
    assert rows["stranger@company.example"].sent is True


async def test_daily_limit_rejects_and_stores_nothing(client, services, inviter):
    for index in range(INVITATIONS_PER_DAY):
        assert (await invite(client, inviter, email=f"person{index}@company.example"))["userErrors"] == []

    over = await invite(client, inviter, email="one.more@company.example")

    assert over["invitation"] is None
    assert over["userErrors"][0]["code"] == "RATE_LIMITED"
    assert await count_rows(services, "invitation") == INVITATIONS_PER_DAY
    assert await outbox(services, "one.more@company.example") == []


async def test_daily_limit_holds_under_concurrency(client, services, inviter):
    payloads = await asyncio.gather(
        *(invite(client, inviter, email=f"person{index}@company.example") for index in range(INVITATIONS_PER_DAY + 2))
    )

    accepted = [payload for payload in payloads if payload["userErrors"] == []]
    limited = [payload for payload in payloads if payload["userErrors"]]
    assert len(accepted) == INVITATIONS_PER_DAY
    assert [payload["userErrors"][0]["code"] for payload in limited] == ["RATE_LIMITED", "RATE_LIMITED"]
    assert await count_rows(services, "invitation") == INVITATIONS_PER_DAY


async def test_daily_limit_resets_after_a_day(client, services, clock, inviter):
    for index in range(INVITATIONS_PER_DAY):
        await invite(client, inviter, email=f"person{index}@company.example")
    clock.advance(timedelta(hours=24, minutes=1))

    payload = await invite(client, inviter, email="next.day@company.example")

    assert payload["userErrors"] == []


async def test_same_address_again_is_rate_limited(client, services, clock, inviter):
    await invite(client, inviter)

    again = await invite(client, inviter, email="NEW.PRO@company.example")
    clock.advance(timedelta(days=REPEAT_DAYS, minutes=1))
    later = await invite(client, inviter)

    assert again["userErrors"][0]["code"] == "RATE_LIMITED"
    assert again["userErrors"][0]["field"] == ["input", "email"]
    assert later["userErrors"] == []
    assert len(await outbox(services, "new.pro@company.example", "invitation")) == 2


async def test_address_invited_by_another_member_gets_one_email(client, services, inviter):
    colleague = await active_member(client, services, "colleague@school.example", kind="SCHOOL")
    await invite(client, inviter)

    second = await invite(client, colleague)

    assert second["userErrors"] == []
    assert len(await outbox(services, "new.pro@company.example", "invitation")) == 1
    assert [row.sent for row in await stored_invitations(services)] == [True, False]


async def test_invalid_input_reports_every_field(client, services, inviter):
    payload = await invite(
        client, inviter, email="not an address", firstName=" ", lastName="x" * 101, message="m" * 2001
    )

    problems = {tuple(error["field"]): error["code"] for error in payload["userErrors"]}
    assert problems == {
        ("input", "firstName"): "REQUIRED",
        ("input", "lastName"): "TOO_LONG",
        ("input", "message"): "TOO_LONG",
        ("input", "email"): "INVALID",
    }
    assert payload["invitation"] is None
    assert await count_rows(services, "invitation") == 0


async def test_profile_gate_applies(client, services):
    newcomer = await verified_member(client, services, "newcomer@school.example")
    await register(client, "unverified@school.example")
    signed_in = await client.execute(
        "mutation { login(email: \"unverified@school.example\", password: \"correct horse battery\") { token } }"
    )

    incomplete = await invite(client, newcomer)
    unverified = await invite(client, TestMember(id="", email="", token=signed_in["login"]["token"]))

    assert incomplete["userErrors"][0]["code"] == "PROFILE_INCOMPLETE"
    assert unverified["userErrors"][0]["code"] == "EMAIL_NOT_VERIFIED"
    assert await count_rows(services, "invitation") == 0


async def test_anonymous_invite_is_unauthenticated(client):
    body = await client.post(INVITE, {"input": invitation_input()})

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_node_visible_to_inviter_and_coordinators(client, services, inviter):
    invitation_id = (await invite(client, inviter))["invitation"]["id"]
    other = await active_member(client, services, "other@company.example", kind="COMPANY")
    coordinator = await active_member(client, services, "office@campaign.example", kind="COMPANY")
    await accounts.create_coordinator(services, coordinator.email)

    def node_as(member: TestMember | None):
        return client.execute(INVITATION_NODE, {"id": invitation_id}, token=member.token if member else None)

    assert (await node_as(inviter))["node"]["email"] == "new.pro@company.example"
    assert (await node_as(coordinator))["node"]["firstName"] == "Chloé"
    assert (await node_as(other))["node"] is None
    assert (await node_as(None))["node"] is None
