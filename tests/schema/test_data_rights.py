"""Members' data rights through the GraphQL API: export, erasure, search visibility, e-mail preferences, calendar."""

from __future__ import annotations

import json
from datetime import timedelta

import icalendar
import pytest
from sqlmodel import select

from domain.follow_up import run_follow_up
from persistence import outbox as outbox_table
from persistence import search_index
from persistence.models import AuthToken, AvailabilityPeriod, Invitation, Member, MemberListing, OutboxMessage
from schema.node import decode_global_id
from tests.conftest import count_rows
from tests.factories import PASSWORD, active_member, insert_activity, latest_token, outbox, register

SEND = """
mutation Send($to: ID!, $message: String!) {
  sendContactRequest(recipientId: $to, message: $message) {
    contactRequest { id status } userErrors { field code message }
  }
}
"""
ACCEPT = """
mutation Accept($id: ID!, $message: String) {
  acceptContactRequest(id: $id, message: $message) { contactRequest { id status } userErrors { code } }
}
"""
EXPORT = "query { exportMyData }"
DELETE = """
mutation Delete($password: String!) {
  deleteAccount(password: $password) { deletedId userErrors { field code message } }
}
"""
VIEWER = """
query {
  viewer {
    id firstName isSearchVisible pendingRequestCount calendarFeedUrl
    emailPreferences { reminders notifications }
  }
}
"""
MEMBER = """
query Member($id: ID!) {
  node(id: $id) {
    ... on User { firstName isSearchVisible pendingRequestCount calendarFeedUrl emailPreferences { reminders } }
  }
}
"""
VISIBILITY = """
mutation Visibility($visible: Boolean!) {
  setSearchVisibility(visible: $visible) { user { isSearchVisible } userErrors { code } }
}
"""
PREFERENCES = """
mutation Preferences($input: EmailPreferencesInput!) {
  updateEmailPreferences(input: $input) {
    user { emailPreferences { reminders notifications } } userErrors { code }
  }
}
"""
RESET_FEED = "mutation { resetCalendarFeed { user { calendarFeedUrl } userErrors { code } } }"
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token userErrors { code } }
}
"""
REQUESTS = """
query { contactRequests { edges { node { status message responseMessage
  sender { firstName lastName email } recipient { firstName lastName email } } } } }
"""

ACTIVITY_PROFILE = {
    "countryCode": "FR",
    "stemTopics": ["ROBOTICS", "PHYSICS"],
    "activityLengths": ["FULL_DAY"],
    "ageGroups": ["AGES_10_12"],
    "availability": [{"from": "2027-01-10", "until": "2027-03-31"}],
    "formats": ["IN_PERSON"],
    "languages": ["fr", "en"],
    "description": "Hands-on robotics for curious pupils.",
}


@pytest.fixture
async def pair(client, services):
    school = await active_member(
        client, services, "claire@school.example", kind="SCHOOL", organisation="Collège Jean Moulin",
        first_name="Claire", last_name="Moreau", activity_profile=ACTIVITY_PROFILE,
    )
    company = await active_member(
        client, services, "marc@company.example", kind="COMPANY", organisation="Robotique SA",
        first_name="Marc", last_name="Dubois", role="Engineer",
    )
    return school, company


async def send(client, sender, recipient, message):
    payload = (await client.execute(SEND, {"to": recipient.id, "message": message}, token=sender.token))[
        "sendContactRequest"
    ]
    assert payload["userErrors"] == []
    return payload["contactRequest"]["id"]


async def accept(client, recipient, request_id, message=None):
    payload = (await client.execute(ACCEPT, {"id": request_id, "message": message}, token=recipient.token))[
        "acceptContactRequest"
    ]
    assert payload["userErrors"] == []


async def sign_in(client, email):
    payload = (await client.execute(LOGIN, {"email": email, "password": PASSWORD}))["login"]
    assert payload["userErrors"] == []
    return payload["token"]


async def member_row(services, global_id) -> Member:
    async with services.database.read() as session:
        return await session.get(Member, decode_global_id(global_id, "User")[1])


async def add_invitation(services, inviter_global_id, email="newcomer@school.example"):
    now = services.clock.now()
    async with services.database.write() as session:
        session.add(
            Invitation(
                inviter_id=decode_global_id(inviter_global_id, "User")[1],
                kind="SCHOOL",
                first_name="Nina",
                last_name="Laurent",
                email=email,
                message="Join us on PGBS!",
                token_hash="f" * 64,
                created_at=now,
                expires_at=now + timedelta(days=30),
            )
        )


# Export.


async def test_export_holds_every_piece_of_member_data(client, services, pair):
    school, company = pair
    request_id = await send(client, school, company, "Would you show our pupils a robot arm?")
    await accept(client, company, request_id, "Gladly, in March.")
    await insert_activity(services.database, request_id, title="Robot arm workshop")
    await add_invitation(services, school.id)
    await client.execute(VISIBILITY, {"visible": False}, token=school.token)
    await client.execute(PREFERENCES, {"input": {"reminders": False}}, token=school.token)

    data = (await client.execute(EXPORT, token=school.token))["exportMyData"]

    assert data["account"]["email"] == school.email
    assert data["account"]["firstName"] == "Claire"
    assert data["account"]["lastName"] == "Moreau"
    assert data["account"]["role"] == "Teacher"
    assert data["account"]["subjects"] == ["PHYSICS"]
    assert data["account"]["emailVerifiedAt"] is not None
    assert data["account"]["createdAt"] is not None
    assert data["organisation"]["name"] == "Collège Jean Moulin"
    assert data["organisation"]["kind"] == "SCHOOL"
    assert data["activityProfile"]["stemTopics"] == ["ROBOTICS", "PHYSICS"]
    assert data["activityProfile"]["availability"] == [{"from": "2027-01-10", "until": "2027-03-31"}]
    assert data["activityProfile"]["description"] == "Hands-on robotics for curious pupils."
    assert data["preferences"]["searchVisible"] is False
    assert data["preferences"]["email"] == {"reminders": False, "notifications": True}

    [request] = data["contactRequests"]
    assert request["direction"] == "SENT"
    assert request["status"] == "ACCEPTED"
    assert request["message"] == "Would you show our pupils a robot arm?"
    assert request["responseMessage"] == "Gladly, in March."
    assert request["otherParty"] == {"name": "Marc Dubois", "email": company.email, "organisation": "Robotique SA"}
    [activity] = request["activities"]
    assert activity["title"] == "Robot arm workshop"
    assert activity["school"] == "Collège Jean Moulin"
    assert activity["company"] == "Robotique SA"

    [invitation] = data["invitations"]
    assert invitation["email"] == "newcomer@school.example"
    assert invitation["message"] == "Join us on PGBS!"

    templates = [email["template"] for email in data["emails"]]
    assert "verify_email" in templates
    assert "contact_request_accepted" in templates
    assert {token["purpose"] for token in data["tokens"]} == {"verify_email", "session"}


async def test_export_never_holds_secrets(client, services, pair):
    school, _ = pair
    member = await member_row(services, school.id)
    async with services.database.read() as session:
        digests = [token.token_hash for token in (await session.exec(select(AuthToken))).all()]

    text = json.dumps((await client.execute(EXPORT, token=school.token))["exportMyData"])

    assert member.password_hash not in text
    assert "argon2" not in text
    assert school.token not in text
    for token_digest in digests:
        assert token_digest not in text


async def test_export_applies_email_privacy_rule(client, services, pair):
    school, company = pair
    await send(client, school, company, "Hello from Lyon")

    school_view = (await client.execute(EXPORT, token=school.token))["exportMyData"]
    company_view = (await client.execute(EXPORT, token=company.token))["exportMyData"]

    # The company has not accepted, so the school may not see its address yet.
    assert school_view["contactRequests"][0]["otherParty"]["email"] is None
    # The school wrote to the company, so the company sees the school's address.
    assert company_view["contactRequests"][0]["otherParty"]["email"] == school.email
    assert company_view["contactRequests"][0]["direction"] == "RECEIVED"


async def test_export_needs_sign_in(client):
    body = await client.post(EXPORT)

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# Erasure.


async def test_delete_account_rejects_wrong_password(client, services, pair):
    school, _ = pair

    payload = (await client.execute(DELETE, {"password": "not my password"}, token=school.token))["deleteAccount"]

    assert payload["deletedId"] is None
    [error] = payload["userErrors"]
    assert error["field"] == ["password"]
    assert error["code"] == "INVALID_CREDENTIALS"
    viewer = (await client.execute(VIEWER, token=school.token))["viewer"]
    assert viewer["firstName"] == "Claire"
    assert (await member_row(services, school.id)).deleted_at is None


async def test_delete_account_wrong_passwords_are_rate_limited(client, services, pair):
    school, _ = pair
    limit = services.settings.login_failures_per_address

    answers = [
        (await client.execute(DELETE, {"password": f"guess number {attempt}"}, token=school.token))["deleteAccount"]
        for attempt in range(limit + 1)
    ]
    right = (await client.execute(DELETE, {"password": PASSWORD}, token=school.token))["deleteAccount"]

    assert [answer["userErrors"][0]["code"] for answer in answers[:limit]] == ["INVALID_CREDENTIALS"] * limit
    assert answers[limit]["userErrors"][0]["code"] == "RATE_LIMITED"
    assert right["userErrors"][0]["code"] == "RATE_LIMITED"
    assert (await member_row(services, school.id)).deleted_at is None


async def test_delete_account_needs_sign_in(client):
    body = await client.post(DELETE, {"password": PASSWORD})

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_delete_account_erases_personal_data(client, services, pair):
    school, company = pair
    other_company = await active_member(client, services, "ines@company.example", kind="COMPANY")
    accepted_id = await send(client, school, company, "Claire's secret plan for March")
    await accept(client, company, accepted_id)
    await send(client, school, other_company, "A second request from Claire")
    await insert_activity(services.database, accepted_id, title="Robot arm workshop")
    await add_invitation(services, school.id)

    payload = (await client.execute(DELETE, {"password": PASSWORD}, token=school.token))["deleteAccount"]

    assert payload["userErrors"] == []
    assert payload["deletedId"] == school.id
    # Sessions end at once.
    assert (await client.post(EXPORT, token=school.token))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await client.execute(VIEWER, token=school.token))["viewer"] is None
    login = await client.execute(LOGIN, {"email": school.email, "password": PASSWORD})
    assert login["login"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    reset = await client.execute("mutation R($email: String!) { requestPasswordReset(email: $email) }", {"email": school.email})
    assert reset["requestPasswordReset"] is True
    assert await outbox(services, school.email, "reset_password") == []

    row = await member_row(services, school.id)
    assert (row.first_name, row.last_name) == ("Former", "member")
    assert row.email is None
    assert row.password_hash is None
    assert row.role is None
    assert row.subjects == []
    assert row.organisation_id is None
    assert row.deleted_at is not None
    async with services.database.read() as session:
        assert (await session.exec(select(AuthToken).where(AuthToken.member_id == row.id))).all() == []
    assert await count_rows(services, "activity_profile") == 0
    assert await count_rows(services, "invitation") == 0
    async with services.database.read() as session:
        assert (await session.get(MemberListing, row.id)) is None
        assert (await session.exec(select(AvailabilityPeriod).where(AvailabilityPeriod.member_id == row.id))).all() == []
    # The two contacts, not the former member.
    if services.database.is_sqlite:
        assert sum([await count_rows(services, name) for name in search_index.SQLITE_TEXT_TABLES.values()]) == 2
    else:
        assert await count_rows(services, "member_search") == 2
    async with services.database.read() as session:
        messages = await session.exec(select(OutboxMessage).where(OutboxMessage.member_id == row.id))
        kept = [message.template for message in messages.all()]
    assert kept == ["account_deleted"]

    # What the accepted contact sees: the request and activity stay, the person does not.
    requests = (await client.execute(REQUESTS, token=company.token))["contactRequests"]["edges"]
    [request] = [edge["node"] for edge in requests]
    assert request["status"] == "ACCEPTED"
    assert request["sender"] == {"firstName": "Former", "lastName": "member", "email": None}
    assert "secret plan" not in request["message"]
    [left] = await outbox(services, company.email, "contact_left")
    assert "Collège Jean Moulin" in left.text_body
    assert "Claire" not in left.text_body
    # The pending request is withdrawn, and its e-mail no longer names Claire.
    pending = (await client.execute(REQUESTS, token=other_company.token))["contactRequests"]["edges"]
    assert pending[0]["node"]["status"] == "WITHDRAWN"
    for message in await outbox(services, other_company.email) + await outbox(services, company.email):
        assert "Claire" not in message.text_body
        assert school.email not in message.text_body
        assert "secret plan" not in message.text_body

    exported = json.dumps((await client.execute(EXPORT, token=company.token))["exportMyData"])
    assert "Claire" not in exported
    assert "Moreau" not in exported
    assert school.email not in exported
    assert "secret plan" not in exported
    assert "Robot arm workshop" in exported


async def test_deleted_address_can_register_again(client, services, pair):
    school, _ = pair
    await client.execute(DELETE, {"password": PASSWORD}, token=school.token)

    payload = await register(client, school.email, first_name="Claire")

    assert payload["userErrors"] == []
    token = await latest_token(services, school.email, "verify_email")
    assert token
    async with services.database.read() as session:
        members = (await session.exec(select(Member).where(Member.email == school.email))).all()
    assert len(members) == 1
    assert members[0].deleted_at is None


async def test_confirmation_email_purged_once_delivered(client, services, pair):
    school, _ = pair
    await client.execute(DELETE, {"password": PASSWORD}, token=school.token)
    [confirmation] = await outbox(services, school.email, "account_deleted")

    await run_follow_up(services)
    assert len(await outbox(services, school.email, "account_deleted")) == 1

    async with services.database.write() as session:
        await outbox_table.mark_sent(session, confirmation.id, services.clock.now())
    result = await run_follow_up(services)

    assert result.purged_emails == 1
    assert await outbox(services, school.email) == []


async def test_undelivered_confirmation_purged_after_a_week(client, services, clock, pair):
    school, _ = pair
    await client.execute(DELETE, {"password": PASSWORD}, token=school.token)

    clock.advance(timedelta(days=6))
    await run_follow_up(services)
    kept = await outbox(services, school.email, "account_deleted")
    clock.advance(timedelta(days=2))
    await run_follow_up(services)

    assert len(kept) == 1
    assert await outbox(services, school.email) == []


async def test_delete_account_rejects_empty_password(client, services, pair):
    school, _ = pair

    payload = (await client.execute(DELETE, {"password": ""}, token=school.token))["deleteAccount"]

    assert [error["code"] for error in payload["userErrors"]] == ["INVALID_CREDENTIALS"]
    assert (await member_row(services, school.id)).deleted_at is None


# Search visibility.


async def test_search_visibility_toggles(client, services, pair):
    school, company = pair
    assert (await client.execute(VIEWER, token=school.token))["viewer"]["isSearchVisible"] is True

    hidden = (await client.execute(VISIBILITY, {"visible": False}, token=school.token))["setSearchVisibility"]
    assert hidden == {"user": {"isSearchVisible": False}, "userErrors": []}
    assert (await member_row(services, school.id)).search_visible is False

    shown = (await client.execute(VISIBILITY, {"visible": True}, token=school.token))["setSearchVisibility"]
    assert shown["user"]["isSearchVisible"] is True
    assert (await member_row(services, school.id)).search_visible is True


async def test_own_fields_are_null_for_others(client, services, pair):
    school, company = pair

    seen = (await client.execute(MEMBER, {"id": school.id}, token=company.token))["node"]

    assert seen["firstName"] == "Claire"
    assert seen["isSearchVisible"] is None
    assert seen["pendingRequestCount"] is None
    assert seen["calendarFeedUrl"] is None
    assert seen["emailPreferences"] is None


async def test_visibility_rejects_bad_input(client, pair):
    school, _ = pair

    missing = await client.post("mutation { setSearchVisibility { userErrors { code } } }", token=school.token)
    wrong_type = await client.post(VISIBILITY, {"visible": "maybe"}, token=school.token)
    anonymous = await client.post(VISIBILITY, {"visible": False})

    assert missing["errors"] and missing.get("data") is None
    assert wrong_type["errors"] and wrong_type.get("data") is None
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# E-mail preferences.


async def test_email_preferences_change_only_given_fields(client, pair):
    school, _ = pair

    first = (await client.execute(PREFERENCES, {"input": {"reminders": False}}, token=school.token))
    second = (await client.execute(PREFERENCES, {"input": {"notifications": False}}, token=school.token))
    third = (await client.execute(PREFERENCES, {"input": {"reminders": True, "notifications": None}}, token=school.token))

    assert first["updateEmailPreferences"]["user"]["emailPreferences"] == {"reminders": False, "notifications": True}
    assert second["updateEmailPreferences"]["user"]["emailPreferences"] == {"reminders": False, "notifications": False}
    assert third["updateEmailPreferences"]["user"]["emailPreferences"] == {"reminders": True, "notifications": False}


async def test_email_preferences_reject_bad_input(client, pair):
    school, _ = pair

    wrong_type = await client.post(PREFERENCES, {"input": {"reminders": "no"}}, token=school.token)
    unknown_field = await client.post(PREFERENCES, {"input": {"newsletter": False}}, token=school.token)
    anonymous = await client.post(PREFERENCES, {"input": {"reminders": False}})

    assert wrong_type["errors"] and wrong_type.get("data") is None
    assert unknown_field["errors"] and unknown_field.get("data") is None
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_notifications_off_stops_request_emails(client, services, pair):
    school, company = pair
    await client.execute(PREFERENCES, {"input": {"notifications": False}}, token=company.token)

    await send(client, school, company, "Are you there?")

    assert await outbox(services, company.email, "contact_request_received") == []


# Pending requests and follow-up through the API.


async def test_expired_request_frees_pair_and_count(client, services, clock, pair):
    school, company = pair
    await send(client, school, company, "Please answer")
    assert (await client.execute(VIEWER, token=company.token))["viewer"]["pendingRequestCount"] == 1
    assert (await client.execute(VIEWER, token=school.token))["viewer"]["pendingRequestCount"] == 0

    clock.advance(timedelta(days=31))
    await run_follow_up(services)
    # Sessions last 30 days, so both sign in again after the clock moved.
    school.token = await sign_in(client, school.email)
    company.token = await sign_in(client, company.email)

    statuses = (await client.execute(REQUESTS, token=school.token))["contactRequests"]["edges"]
    assert statuses[0]["node"]["status"] == "EXPIRED"
    assert (await client.execute(VIEWER, token=company.token))["viewer"]["pendingRequestCount"] == 0
    assert len(await outbox(services, school.email, "contact_request_expired")) == 1
    # No longer open, so the sender may ask the same member again.
    await send(client, school, company, "Second try")


# Calendar feed.


async def test_calendar_feed_lists_planned_activities(client, services, pair):
    school, company = pair
    request_id = await send(client, school, company, "Let us plan")
    await accept(client, company, request_id)
    await insert_activity(services.database, request_id, title="Robot arm workshop")

    url = (await client.execute(VIEWER, token=school.token))["viewer"]["calendarFeedUrl"]
    again = (await client.execute(VIEWER, token=school.token))["viewer"]["calendarFeedUrl"]
    response = await client.http.get(url)

    assert url == again
    assert url.startswith("http://testserver/calendar/")
    assert url.endswith(".ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    assert str(event["summary"]) == "Robot arm workshop"
    assert event.decoded("dtstart").isoformat() == "2027-03-15"
    assert event.decoded("dtend").isoformat() == "2027-03-17"
    assert "Robotique SA" in str(event["description"])


async def test_reset_calendar_feed_retires_old_url(client, services, pair):
    school, _ = pair
    old = (await client.execute(VIEWER, token=school.token))["viewer"]["calendarFeedUrl"]

    payload = (await client.execute(RESET_FEED, token=school.token))["resetCalendarFeed"]

    new = payload["user"]["calendarFeedUrl"]
    assert payload["userErrors"] == []
    assert new != old
    assert (await client.http.get(old)).status_code == 404
    assert (await client.http.get(new)).status_code == 200
    assert (await client.http.get("/calendar/not-a-token.ics")).status_code == 404
    assert (await client.post(RESET_FEED))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
