"""`node(id:)`: the member for a visible id, null for every other id, and never an error."""

from __future__ import annotations

import base64

from sqlmodel import select

from persistence.models import Member
from schema.node import decode_global_id, encode_global_id
from tests.factories import active_member, register, verified_member

NODE = """
query Node($id: ID!) {
  node(id: $id) { __typename id ... on User { firstName lastName } }
}
"""


async def node(client, global_id: str, token: str | None = None) -> dict | None:
    body = await client.post(NODE, {"id": global_id}, token=token)
    assert "errors" not in body, body
    return body["data"]["node"]


async def test_node_returns_visible_user(client, services):
    school = await active_member(client, services, "school@example.org", first_name="Ada", last_name="Byron")
    company = await active_member(client, services, "company@example.org", kind="COMPANY")

    found = await node(client, school.id, token=company.token)

    assert found == {"__typename": "User", "id": school.id, "firstName": "Ada", "lastName": "Byron"}


async def test_node_returns_own_user_before_profile_is_complete(client, services):
    member = await verified_member(client, services, "new@example.org", first_name="Nina")

    found = await node(client, member.id, token=member.token)

    assert found["firstName"] == "Nina"


async def test_node_hides_user_from_incomplete_viewer(client, services):
    visible = await active_member(client, services, "school@example.org")
    newcomer = await verified_member(client, services, "new@example.org")

    assert await node(client, visible.id, token=newcomer.token) is None


async def test_node_hides_incomplete_user_from_active_viewer(client, services):
    viewer = await active_member(client, services, "school@example.org")
    newcomer = await verified_member(client, services, "new@example.org")

    assert await node(client, newcomer.id, token=viewer.token) is None


async def test_node_hides_users_from_anonymous_caller(client, services):
    member = await active_member(client, services, "school@example.org")

    assert await node(client, member.id) is None


async def test_node_hides_unverified_user(client, services):
    viewer = await active_member(client, services, "school@example.org")
    await register(client, "pending@example.org")
    async with services.database.read() as session:
        pending = (await session.exec(select(Member).where(Member.email == "pending@example.org"))).one()

    assert await node(client, encode_global_id("User", pending.id), token=viewer.token) is None


def raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


FOREIGN_IDS = [
    "garbage",
    "",
    raw_id("User:not-a-number"),
    raw_id("User:99999999999"),  # beyond the database's integer range
    encode_global_id("User", 2**31 - 1),  # in range, but no such member
    encode_global_id("Spaceship", 1),  # a type that does not exist
    encode_global_id("Organisation", 1),  # a stored type that is not a Node
    encode_global_id("user", 1),  # type names are case-sensitive
]


async def test_node_is_null_for_foreign_ids(client, services):
    viewer = await active_member(client, services, "school@example.org")
    # The viewer and the viewer's organisation both have key 1: ids of other types must not resolve to them.
    assert decode_global_id(viewer.id) == ("User", 1)

    for global_id in FOREIGN_IDS:
        assert await node(client, global_id, token=viewer.token) is None, f"node({global_id!r}) is not null"
