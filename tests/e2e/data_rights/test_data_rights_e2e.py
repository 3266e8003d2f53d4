"""Data rights end to end: a `pgbs serve` process, a real SMTP server and the `gql` client.

Each test drives the service as a member would: registration links come from
e-mails received by the SMTP server, and everything else goes over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import icalendar
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from graphql import build_schema
from sqlmodel import select

from persistence.database import Database
from persistence.models import OutboxMessage
from tests.e2e.data_rights.conftest import MAIL_TIMEOUT, POLL_INTERVAL, RunningServer, text_body

pytestmark = pytest.mark.e2e

SCHEMA = build_schema((Path(__file__).parents[3] / "schema.graphql").read_text())
PASSWORD = "correct horse battery"

REGISTER = """
mutation Register($input: RegisterInput!) { register(input: $input) { userErrors { code } } }
"""
VERIFY = """
mutation Verify($token: String!) { verifyEmail(token: $token) { token user { id } userErrors { code } } }
"""
PROFILE = """
mutation Profile($input: ProfileInput!) { updateProfile(input: $input) { userErrors { code } } }
"""
ACTIVITY_PROFILE = """
mutation ActivityProfile($input: ActivityProfileInput!) { updateActivityProfile(input: $input) { userErrors { code } } }
"""
SEND = """
mutation Send($to: ID!, $message: String!) {
  sendContactRequest(recipientId: $to, message: $message) { contactRequest { id } userErrors { code } }
}
"""
ACCEPT = """
mutation Accept($id: ID!, $message: String) { acceptContactRequest(id: $id, message: $message) { userErrors { code } } }
"""
EXPORT = "query Export { exportMyData }"
DELETE = """
mutation Delete($password: String!) { deleteAccount(password: $password) { deletedId userErrors { field code } } }
"""
VIEWER = "query Viewer { viewer { id firstName calendarFeedUrl pendingRequestCount } }"
RESET_FEED = "mutation Reset { resetCalendarFeed { user { calendarFeedUrl } userErrors { code } } }"
PREFERENCES = """
mutation Preferences($input: EmailPreferencesInput!) { updateEmailPreferences(input: $input) { userErrors { code } } }
"""
VISIBILITY = "mutation Visibility($visible: Boolean!) { setSearchVisibility(visible: $visible) { userErrors { code } } }"
REQUESTS = """
query Requests { contactRequests { edges { node { status message responseMessage
  sender { firstName lastName email } recipient { firstName lastName email } } } } }
"""
NODE = "query Node($id: ID!) { node(id: $id) { ... on User { firstName lastName email } } }"
CAMPAIGN_MAP = "query Map { campaignMap { title schoolName companyName } }"


class Api:
    """A `gql` client per bearer token against the running server."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server

    def run(self, document: str, variables: dict | None = None, token: str | None = None) -> dict:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        transport = HTTPXTransport(url=self.server.graphql_url, headers=headers, timeout=30)
        with Client(transport=transport, schema=SCHEMA) as session:
            return session.execute(GraphQLRequest(document, variable_values=variables or {}))


def link_token(message, parameter: str = "token") -> str:
    for url in re.findall(r"https?://\S+", text_body(message)):
        values = parse_qs(urlsplit(url).query).get(parameter)
        if values:
            return values[0]
    raise AssertionError(f"no ?{parameter}= link in {message['Subject']!r}")


def join(api: Api, address: str, first_name: str, last_name: str, kind: str, organisation: str) -> tuple[str, str]:
    """Register, verify from the e-mail and complete the profile; return (global id, token)."""
    data = api.run(
        REGISTER,
        {"input": {"email": address, "password": PASSWORD, "firstName": first_name, "lastName": last_name}},
    )
    assert data["register"]["userErrors"] == []
    verification = api.server.mailbox.wait_for(address, "")
    verified = api.run(VERIFY, {"token": link_token(verification)})["verifyEmail"]
    assert verified["userErrors"] == []
    token = verified["token"]
    profile = {
        "role": "Teacher" if kind == "SCHOOL" else "Engineer",
        "subjects": ["ROBOTICS"],
        "organisation": {"name": organisation, "kind": kind, "countryCode": "FR", "city": "Lyon"},
    }
    assert api.run(PROFILE, {"input": profile}, token)["updateProfile"]["userErrors"] == []
    return verified["user"]["id"], token


def outbox_rows(server: RunningServer, address: str) -> list[OutboxMessage]:
    async def read() -> list[OutboxMessage]:
        database = Database(server.database_url)
        try:
            async with database.read() as session:
                rows = await session.exec(select(OutboxMessage).where(OutboxMessage.to_address == address))
                return list(rows.all())
        finally:
            await database.dispose()

    return asyncio.run(read())


CREATE_ACTIVITY = """
mutation Create($request: ID!, $input: ActivityInput!) {
  createActivity(contactRequestId: $request, input: $input) { activity { id } userErrors { code field message } }
}
"""


def add_activity(api: Api, token: str, request_id: str, title: str) -> None:
    activity = {
        "title": title,
        "startsOn": "2027-03-15",
        "length": "HALF_DAY",
        "format": "IN_PERSON",
        "stemTopics": ["ROBOTICS"],
        "ageGroups": ["AGES_13_15"],
    }
    created = api.run(CREATE_ACTIVITY, {"request": request_id, "input": activity}, token)
    assert created["createActivity"]["userErrors"] == []


@pytest.fixture
def connected(running_server):
    """A school and a company whose contact request was accepted, with one planned activity."""
    api = Api(running_server)
    school_id, school_token = join(api, "claire@school.example", "Claire", "Moreau", "SCHOOL", "Collège Jean Moulin")
    company_id, company_token = join(api, "marc@company.example", "Marc", "Dubois", "COMPANY", "Robotique SA")
    sent = api.run(SEND, {"to": company_id, "message": "Claire asks: a robot day in March?"}, school_token)
    request_id = sent["sendContactRequest"]["contactRequest"]["id"]
    accepted = api.run(ACCEPT, {"id": request_id, "message": "Marc says yes"}, company_token)
    assert accepted["acceptContactRequest"]["userErrors"] == []
    add_activity(api, school_token, request_id, "Robot day")
    running_server.mailbox.wait_for("claire@school.example", "accepted")
    return api, (school_id, school_token), (company_id, company_token), request_id


def test_export_holds_everything_created(connected):
    api, (_, school_token), _, _ = connected
    api.run(
        ACTIVITY_PROFILE,
        {
            "input": {
                "countryCode": "FR",
                "stemTopics": ["ROBOTICS"],
                "activityLengths": ["FULL_DAY"],
                "ageGroups": ["AGES_10_12"],
                "availability": [{"from": "2027-02-01", "until": "2027-04-30"}],
                "description": "Robots and sensors",
            }
        },
        school_token,
    )
    api.run(PREFERENCES, {"input": {"reminders": False}}, school_token)
    api.run(VISIBILITY, {"visible": False}, school_token)

    data = api.run(EXPORT, token=school_token)["exportMyData"]

    assert data["account"]["email"] == "claire@school.example"
    assert (data["account"]["firstName"], data["account"]["lastName"]) == ("Claire", "Moreau")
    assert data["account"]["role"] == "Teacher"
    assert data["account"]["subjects"] == ["ROBOTICS"]
    assert data["organisation"]["name"] == "Collège Jean Moulin"
    assert data["activityProfile"]["description"] == "Robots and sensors"
    assert data["activityProfile"]["availability"] == [{"from": "2027-02-01", "until": "2027-04-30"}]
    assert data["preferences"]["email"] == {"reminders": False, "notifications": True}
    assert data["preferences"]["searchVisible"] is False
    [request] = data["contactRequests"]
    assert request["message"] == "Claire asks: a robot day in March?"
    assert request["responseMessage"] == "Marc says yes"
    assert request["otherParty"] == {"name": "Marc Dubois", "email": "marc@company.example", "organisation": "Robotique SA"}
    assert [activity["title"] for activity in request["activities"]] == ["Robot day"]
    emails = {email["template"]: email for email in data["emails"]}
    assert emails["verify_email"]["sentAt"] is not None
    assert emails["contact_request_accepted"]["sentAt"] is not None
    assert "Marc says yes" in emails["contact_request_accepted"]["textBody"]
    serialised = json.dumps(data)
    assert "argon2" not in serialised
    assert school_token not in serialised


def test_erasure_leaves_no_personal_data(connected, running_server):
    api, (school_id, school_token), (company_id, company_token), _ = connected
    mailbox = running_server.mailbox

    wrong = api.run(DELETE, {"password": "not the password"}, school_token)["deleteAccount"]
    assert wrong == {"deletedId": None, "userErrors": [{"field": ["password"], "code": "INVALID_CREDENTIALS"}]}

    deleted = api.run(DELETE, {"password": PASSWORD}, school_token)["deleteAccount"]

    assert deleted == {"deletedId": school_id, "userErrors": []}
    confirmation = mailbox.wait_for("claire@school.example", "deleted")
    assert "Claire" not in text_body(confirmation)
    notice = mailbox.wait_for("marc@company.example", "has left")
    assert "Collège Jean Moulin" in notice["Subject"]
    for text in (notice["Subject"], text_body(notice)):
        assert "Claire" not in text
        assert "claire@school.example" not in text

    # The old session is over.
    with pytest.raises(TransportQueryError) as rejected:
        api.run(EXPORT, token=school_token)
    assert rejected.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert api.run(VIEWER, token=school_token)["viewer"] is None

    # Nothing the contact can query names the former member.
    seen = api.run(NODE, {"id": school_id}, company_token)["node"]
    assert seen is None
    [edge] = api.run(REQUESTS, token=company_token)["contactRequests"]["edges"]
    assert edge["node"]["sender"] == {"firstName": "Former", "lastName": "member", "email": None}
    assert "Claire" not in edge["node"]["message"]
    exported = json.dumps(api.run(EXPORT, token=company_token)["exportMyData"])
    for personal in ("Claire", "Moreau", "claire@school.example", "robot day in March"):
        assert personal not in exported
    assert "Robot day" in exported

    # The confirmation is purged from the outbox once delivered.
    deadline = time.monotonic() + MAIL_TIMEOUT
    while outbox_rows(running_server, "claire@school.example") and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL * 4)
    assert outbox_rows(running_server, "claire@school.example") == []

    # The address can register again.
    data = api.run(
        REGISTER,
        {"input": {"email": "claire@school.example", "password": PASSWORD, "firstName": "Claire", "lastName": "M"}},
    )
    assert data["register"]["userErrors"] == []
    deadline = time.monotonic() + MAIL_TIMEOUT
    while len([m for m in mailbox.to("claire@school.example") if "verify" in text_body(m).lower()]) < 2:
        assert time.monotonic() < deadline, "no second verification e-mail after registering again"
        time.sleep(POLL_INTERVAL)

    # The activity stays on the public campaign map under the organisation names.
    entries = api.run(CAMPAIGN_MAP)["campaignMap"]
    assert {"title": "Robot day", "schoolName": "Collège Jean Moulin", "companyName": "Robotique SA"} in entries


def test_calendar_feed_parses_and_resets(connected, running_server):
    api, (_, school_token), _, _ = connected

    url = api.run(VIEWER, token=school_token)["viewer"]["calendarFeedUrl"]
    response = httpx.get(url, timeout=10)

    assert url.startswith(f"{running_server.base_url}/calendar/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    assert str(event["summary"]) == "Robot day"
    assert str(event["location"]) == "Lyon, FR"

    new_url = api.run(RESET_FEED, token=school_token)["resetCalendarFeed"]["user"]["calendarFeedUrl"]

    assert new_url != url
    assert httpx.get(url, timeout=10).status_code == 404
    assert httpx.get(new_url, timeout=10).status_code == 200


def test_pending_count_over_http(running_server):
    api = Api(running_server)
    school_id, school_token = join(api, "ada@school.example", "Ada", "Roy", "SCHOOL", "École Ada")
    company_id, company_token = join(api, "ben@company.example", "Ben", "Cole", "COMPANY", "Cole Labs")

    api.run(SEND, {"to": company_id, "message": "Hello Ben"}, school_token)

    assert api.run(VIEWER, token=company_token)["viewer"]["pendingRequestCount"] == 1
    assert api.run(VIEWER, token=school_token)["viewer"]["pendingRequestCount"] == 0
    received = running_server.mailbox.wait_for("ben@company.example", "would like to work with you")
    assert "Hello Ben" in text_body(received)
