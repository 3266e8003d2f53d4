"""A member's whole account journey against `pgbs serve`, a real SMTP server and the gql client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.httpx import HTTPXAsyncTransport
from sqlmodel import select

from persistence.database import Database
from persistence.models import OutboxMessage
from tests.factories import link_parameter
from tests.smtp import SmtpRecorder, text_body

pytestmark = pytest.mark.e2e

EMAIL = "marie.curie@school.example"
PASSWORD = "first password 123"
NEW_PASSWORD = "second password 456"

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { token user { id } userErrors { field code message } }
}
"""
VERIFY = """
mutation Verify($token: String!) {
  verifyEmail(token: $token) { token user { id email isEmailVerified } userErrors { code } }
}
"""
UPDATE_PROFILE = """
mutation Profile($input: ProfileInput!) {
  updateProfile(input: $input) { user { isProfileComplete organisation { name kind countryCode } } userErrors { code } }
}
"""
UPDATE_ACTIVITY_PROFILE = """
mutation ActivityProfile($input: ActivityProfileInput!) {
  updateActivityProfile(input: $input) {
    user { activityProfile { countryCode stemTopics languages availability { from until } } }
    userErrors { code }
  }
}
"""
VIEWER = "query Viewer { viewer { id email isProfileComplete } }"
LOGOUT = "mutation Logout { logout }"
REQUEST_RESET = "mutation RequestReset($email: String!) { requestPasswordReset(email: $email) }"
RESET = """
mutation Reset($token: String!, $password: String!) {
  resetPassword(token: $token, newPassword: $password) { token userErrors { code } }
}
"""
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token user { email } userErrors { code } }
}
"""


@asynccontextmanager
async def graphql_session(url: str) -> AsyncIterator[AsyncClientSession]:
    async with Client(transport=HTTPXAsyncTransport(url=url, timeout=20)) as session:
        yield session


async def run(
    session: AsyncClientSession, document: str, variables: dict | None = None, *, bearer: str | None = None
) -> dict:
    """Execute `document`, signed in with the `bearer` token when given; return its data."""
    headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
    request = GraphQLRequest(document, variable_values=variables)
    return await session.execute(request, extra_args={"headers": headers})


async def register(session: AsyncClientSession) -> None:
    payload = (
        await run(
            session,
            REGISTER,
            {"input": {"email": EMAIL, "password": PASSWORD, "firstName": "Marie", "lastName": "Curie"}},
        )
    )["register"]
    assert payload == {"token": None, "user": None, "userErrors": []}


async def test_account_journey_over_http_and_smtp(running_server, server_env, smtp_server: SmtpRecorder):
    async with running_server(server_env) as server, graphql_session(server.graphql_url) as session:
        await register(session)
        verification = await smtp_server.wait_for(EMAIL, subject="Confirm your e-mail address")
        verify_token = link_parameter(text_body(verification), "token")
        assert text_body(verification).count("http://frontend.test/verify-email?token=") == 1

        verified = (await run(session, VERIFY, {"token": verify_token}))["verifyEmail"]
        assert verified["userErrors"] == []
        assert verified["user"]["isEmailVerified"] is True
        token = verified["token"]

        profile = (
            await run(
                session,
                UPDATE_PROFILE,
                {
                    "input": {
                        "role": "Chemistry teacher",
                        "subjects": ["CHEMISTRY", "PHYSICS"],
                        "organisation": {"name": "Lycée Pasteur", "kind": "SCHOOL", "countryCode": "fr", "city": "Lille"},
                    }
                },
                bearer=token,
            )
        )["updateProfile"]
        assert profile["userErrors"] == []
        assert profile["user"]["isProfileComplete"] is True
        assert profile["user"]["organisation"] == {"name": "Lycée Pasteur", "kind": "SCHOOL", "countryCode": "FR"}

        activity = (
            await run(
                session,
                UPDATE_ACTIVITY_PROFILE,
                {
                    "input": {
                        "countryCode": "FR",
                        "stemTopics": ["CHEMISTRY"],
                        "activityLengths": ["SINGLE_LESSON"],
                        "ageGroups": ["AGES_13_15"],
                        "availability": [{"from": "2027-01-10", "until": "2027-03-31"}],
                        "languages": ["fr", "en"],
                    }
                },
                bearer=token,
            )
        )["updateActivityProfile"]
        assert activity["userErrors"] == []
        assert activity["user"]["activityProfile"] == {
            "countryCode": "FR",
            "stemTopics": ["CHEMISTRY"],
            "languages": ["fr", "en"],
            "availability": [{"from": "2027-01-10", "until": "2027-03-31"}],
        }

        assert (await run(session, LOGOUT, bearer=token))["logout"] is True
        assert (await run(session, VIEWER, bearer=token))["viewer"] is None

        assert (await run(session, REQUEST_RESET, {"email": EMAIL}))["requestPasswordReset"] is True
        reset_message = await smtp_server.wait_for(EMAIL, subject="Choose a new password")
        reset_token = link_parameter(text_body(reset_message), "token")
        reset = await run(session, RESET, {"token": reset_token, "password": NEW_PASSWORD})
        assert reset["resetPassword"]["userErrors"] == []

        old = (await run(session, LOGIN, {"email": EMAIL, "password": PASSWORD}))["login"]
        assert old["token"] is None
        assert old["userErrors"] == [{"code": "INVALID_CREDENTIALS"}]
        new = (await run(session, LOGIN, {"email": EMAIL, "password": NEW_PASSWORD}))["login"]
        assert new["userErrors"] == []
        viewer = (await run(session, VIEWER, bearer=new["token"]))["viewer"]
        assert viewer["email"] == EMAIL
        assert viewer["isProfileComplete"] is True

    assert len(smtp_server.messages(EMAIL)) == 2


async def outbox_row(database_url: str) -> OutboxMessage | None:
    database = Database(database_url)
    try:
        async with database.read() as db:
            return (await db.exec(select(OutboxMessage).where(OutboxMessage.to_address == EMAIL))).first()
    finally:
        await database.dispose()


async def wait_for_failed_attempt(database_url: str, timeout: float = 15.0) -> OutboxMessage:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        row = await outbox_row(database_url)
        if row is not None and row.last_error is not None:
            return row
        assert asyncio.get_running_loop().time() < deadline, "no failed delivery attempt recorded in the outbox"
        await asyncio.sleep(0.1)


async def test_mail_arrives_when_smtp_starts_after_register(running_server, server_env, database_url):
    late_smtp = SmtpRecorder()
    env = {**server_env, "SMTP_HOST": late_smtp.host, "SMTP_PORT": str(late_smtp.port)}
    try:
        async with running_server(env) as server, graphql_session(server.graphql_url) as session:
            await register(session)
            failed = await wait_for_failed_attempt(database_url)
            assert failed.sent_at is None
            assert failed.attempts >= 1

            late_smtp.start()
            message = await late_smtp.wait_for(EMAIL, subject="Confirm your e-mail address")

            assert "verify-email?token=" in text_body(message)
            assert "retrying" in server.log()
    finally:
        late_smtp.stop()
