"""Accounts through the GraphQL API: register, verify, sign in and out, reset the password."""

from __future__ import annotations

from tests.conftest import count_rows
from tests.factories import PASSWORD, VERIFY, latest_token, outbox, register, verified_member

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token user { id email } userErrors { field code message } }
}
"""
VIEWER = "query { viewer { id email firstName isEmailVerified isProfileComplete } }"
LOGOUT = "mutation { logout }"
REQUEST_RESET = "mutation Reset($email: String!) { requestPasswordReset(email: $email) }"
RESET = """
mutation Reset($token: String!, $password: String!) {
  resetPassword(token: $token, newPassword: $password) { token user { id } userErrors { field code message } }
}
"""


async def test_register_returns_no_token_and_sends_verification(client, services):
    payload = await register(client, "Ana.Lopez@Example.org")

    assert payload == {"token": None, "user": None, "userErrors": []}
    messages = await outbox(services, "ana.lopez@example.org", "verify_email")
    assert len(messages) == 1
    assert "http://frontend.test/verify-email?token=" in messages[0].text_body


async def test_register_taken_address_answers_the_same(client, services):
    await verified_member(client, services, "taken@example.org")

    payload = await register(client, "TAKEN@example.org", password="another password")

    assert payload == {"token": None, "user": None, "userErrors": []}
    assert await count_rows(services, "member") == 1
    notices = await outbox(services, "taken@example.org", "account_exists")
    assert len(notices) == 1
    assert "http://frontend.test/reset-password" in notices[0].text_body


async def test_register_unverified_address_resends_verification(client, services):
    await register(client, "again@example.org")
    await register(client, "again@example.org")

    assert len(await outbox(services, "again@example.org", "verify_email")) == 2
    assert await count_rows(services, "member") == 1


async def test_register_rejects_bad_input_with_codes(client, services):
    payload = await register(client, "not-an-address", password="short", first_name=" ", last_name="x" * 101)

    codes = {tuple(error["field"]): error["code"] for error in payload["userErrors"]}
    assert codes[("input", "email")] == "INVALID"
    assert codes[("input", "password")] == "TOO_SHORT"
    assert codes[("input", "firstName")] == "REQUIRED"
    assert codes[("input", "lastName")] == "TOO_LONG"
    assert await count_rows(services, "member") == 0


async def test_verify_email_signs_in_once(client, services):
    await register(client, "verify@example.org")
    token = await latest_token(services, "verify@example.org", "verify_email")

    first = (await client.execute(VERIFY, {"token": token}))["verifyEmail"]
    second = (await client.execute(VERIFY, {"token": token}))["verifyEmail"]

    assert first["token"]
    assert first["user"]["email"] == "verify@example.org"
    assert second["token"] is None
    assert second["userErrors"][0]["code"] == "INVALID_TOKEN"


async def test_login_same_error_for_unknown_and_wrong_password(client, services):
    await verified_member(client, services, "known@example.org")

    unknown = (await client.execute(LOGIN, {"email": "nobody@example.org", "password": PASSWORD}))["login"]
    wrong = (await client.execute(LOGIN, {"email": "known@example.org", "password": "wrong password"}))["login"]

    assert unknown == wrong
    assert unknown["token"] is None
    assert unknown["userErrors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_login_before_verification_is_allowed(client, services):
    await register(client, "early@example.org")

    login = (await client.execute(LOGIN, {"email": "Early@Example.org", "password": PASSWORD}))["login"]
    viewer = (await client.execute(VIEWER, token=login["token"]))["viewer"]

    assert viewer["isEmailVerified"] is False
    assert viewer["isProfileComplete"] is False


async def test_logout_revokes_token(client, services):
    member = await verified_member(client, services, "leaving@example.org")

    assert (await client.execute(LOGOUT, token=member.token))["logout"] is True
    viewer = await client.execute(VIEWER, token=member.token)

    assert viewer["viewer"] is None


async def test_viewer_is_null_when_anonymous(client):
    assert (await client.execute(VIEWER))["viewer"] is None


async def test_request_password_reset_is_true_for_unknown_address(client, services):
    data = await client.execute(REQUEST_RESET, {"email": "nobody@example.org"})

    assert data["requestPasswordReset"] is True
    assert await count_rows(services, "outbox_message") == 0


async def test_reset_password_ends_old_sessions(client, services):
    member = await verified_member(client, services, "forgetful@example.org")
    assert (await client.execute(REQUEST_RESET, {"email": "forgetful@example.org"}))["requestPasswordReset"] is True
    token = await latest_token(services, "forgetful@example.org", "reset_password")

    reset = (await client.execute(RESET, {"token": token, "password": "a brand new password"}))["resetPassword"]

    assert reset["userErrors"] == []
    assert (await client.execute(VIEWER, token=member.token))["viewer"] is None
    assert (await client.execute(VIEWER, token=reset["token"]))["viewer"]["email"] == "forgetful@example.org"
    old = (await client.execute(LOGIN, {"email": member.email, "password": PASSWORD}))["login"]
    assert old["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    new = (await client.execute(LOGIN, {"email": member.email, "password": "a brand new password"}))["login"]
    assert new["token"]


async def test_reset_password_rejects_short_password_and_keeps_token(client, services):
    await verified_member(client, services, "short@example.org")
    await client.execute(REQUEST_RESET, {"email": "short@example.org"})
    token = await latest_token(services, "short@example.org", "reset_password")

    rejected = (await client.execute(RESET, {"token": token, "password": "short"}))["resetPassword"]
    accepted = (await client.execute(RESET, {"token": token, "password": "long enough now"}))["resetPassword"]

    assert rejected["userErrors"][0]["code"] == "TOO_SHORT"
    assert accepted["token"]


async def test_register_rejects_line_break_in_name(client, services):
    payload = await register(client, "newline@example.org", first_name="Ana\nBcc: someone")

    assert payload["userErrors"][0]["field"] == ["input", "firstName"]
    assert payload["userErrors"][0]["code"] == "INVALID"
    assert await count_rows(services, "member") == 0
