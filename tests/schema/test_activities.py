"""Activities, the campaign map and the campaign report through the GraphQL API."""

from __future__ import annotations

import pytest

from tests.activity_factories import accept_request, activity_input, connected_pair, send_request
from tests.conftest import counted_statements
from tests.factories import active_member, outbox

ACTIVITY_FIELDS = """
id title description status startsOn endsOn length format stemTopics ageGroups expectedStudents
location { city countryCode latitude longitude approximate }
school { name kind } company { name kind } contactRequest { id status }
closedAt studentsReached summary createdAt updatedAt
"""
CREATE = f"""
mutation Create($request: ID!, $input: ActivityInput!) {{
  createActivity(contactRequestId: $request, input: $input) {{
    activity {{ {ACTIVITY_FIELDS} }}
    userErrors {{ field code message }}
  }}
}}
"""
EDIT = f"""
mutation Edit($id: ID!, $input: ActivityInput!) {{
  editActivity(id: $id, input: $input) {{ activity {{ {ACTIVITY_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
CLOSE = """
mutation Close($id: ID!, $reached: Int, $summary: String) {
  closeActivity(id: $id, studentsReached: $reached, summary: $summary) {
    activity { id status studentsReached summary closedAt }
    userErrors { field code message }
  }
}
"""
DELETE = """
mutation Delete($id: ID!) { deleteActivity(id: $id) { deletedId userErrors { field code message } } }
"""
LIST = """
query List($request: ID, $status: ActivityStatus, $first: Int, $after: String) {
  activities(contactRequestId: $request, status: $status, first: $first, after: $after) {
    totalCount
    edges { cursor node { id title status school { name } company { name } contactRequest { id } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
REQUESTS_WITH_ACTIVITIES = """
query Requests($first: Int) {
  contactRequests(first: $first) {
    edges { node { id activities(first: 2) {
      totalCount
      edges { node { title school { name } company { name } contactRequest { id status } } }
      pageInfo { hasNextPage endCursor }
    } } }
  }
}
"""
NODE = """
query Node($id: ID!) { node(id: $id) { id ... on Activity { title } } }
"""
MAP = """
query Map($country: String, $status: ActivityStatus) {
  campaignMap(countryCode: $country, status: $status) {
    id title status startsOn endsOn format stemTopics schoolName companyName
    location { city countryCode latitude longitude approximate }
  }
}
"""
MAP_INTROSPECTION = """
{ __type(name: "MapActivity") { fields { name } } }
"""
REPORT = """
{
  campaignReport {
    generatedAt
    members { kind countryCode count }
    contactRequests { status count }
    contactRequestsPendingOver14Days
    activities { status count }
    activitiesByCountry { countryCode planned closed studentsReached }
    activitiesByTopic { topic count }
    studentsReached
  }
}
"""


@pytest.fixture
async def pair(client, services):
    return await connected_pair(client, services)


async def create(client, member, request_id, **overrides) -> dict:
    data = await client.execute(CREATE, {"request": request_id, "input": activity_input(**overrides)}, token=member.token)
    return data["createActivity"]


async def make_coordinator(services, member) -> None:
    from persistence.models import Member
    from tests.activity_factories import key

    async with services.database.write() as session:
        row = await session.get(Member, key(member.id))
        row.is_coordinator = True


async def test_create_returns_activity_with_parties(client, pair):
    payload = await create(client, pair.school, pair.request_id)

    activity = payload["activity"]
    assert payload["userErrors"] == []
    assert activity["status"] == "PLANNED"
    assert activity["school"] == {"name": "Lycée Jean Moulin", "kind": "SCHOOL"}
    assert activity["company"] == {"name": "Rhône Robotics", "kind": "COMPANY"}
    assert activity["contactRequest"] == {"id": pair.request_id, "status": "ACCEPTED"}
    assert activity["location"]["city"] == "Lyon"
    assert activity["location"]["approximate"] is False
    assert activity["closedAt"] is None


async def test_create_rejections_are_user_errors(client, services, pair):
    too_long = await create(client, pair.school, pair.request_id, title="x" * 201)
    backwards = await create(client, pair.school, pair.request_id, startsOn="2027-03-10", endsOn="2027-03-01")
    negative = await create(client, pair.school, pair.request_id, expectedStudents=-5)
    bad_id = await create(client, pair.school, "bm9uc2Vuc2U")
    outsider = await active_member(client, services, "outsider@school.example")
    not_party = await create(client, outsider, pair.request_id)

    assert too_long["userErrors"][0]["code"] == "TOO_LONG"
    assert too_long["userErrors"][0]["field"] == ["input", "title"]
    assert backwards["userErrors"][0]["code"] == "INVALID_DATE_RANGE"
    assert backwards["userErrors"][0]["field"] == ["input", "endsOn"]
    assert negative["userErrors"][0]["field"] == ["input", "expectedStudents"]
    assert bad_id["userErrors"][0]["code"] == "NOT_FOUND"
    assert not_party["userErrors"][0]["code"] == "NOT_FOUND"
    for payload in (too_long, backwards, negative, bad_id, not_party):
        assert payload["activity"] is None
    listed = await client.execute(LIST, {}, token=pair.school.token)
    assert listed["activities"]["totalCount"] == 0


async def test_anonymous_create_is_unauthenticated(client, pair):
    body = await client.post(CREATE, {"request": pair.request_id, "input": activity_input()})

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_edit_close_delete_through_api(client, services, pair):
    first = (await create(client, pair.school, pair.request_id))["activity"]
    second = (await create(client, pair.company, pair.request_id, title="Solar cars"))["activity"]

    edited = (
        await client.execute(
            EDIT,
            {"id": first["id"], "input": activity_input(title="Sensors", location={"city": "Grenoble", "countryCode": "FR"})},
            token=pair.company.token,
        )
    )["editActivity"]
    closed = (
        await client.execute(CLOSE, {"id": first["id"], "reached": 31, "summary": "Great day"}, token=pair.school.token)
    )["closeActivity"]
    edit_closed = (await client.execute(EDIT, {"id": first["id"], "input": activity_input()}, token=pair.school.token))[
        "editActivity"
    ]
    delete_closed = (await client.execute(DELETE, {"id": first["id"]}, token=pair.school.token))["deleteActivity"]
    deleted = (await client.execute(DELETE, {"id": second["id"]}, token=pair.school.token))["deleteActivity"]

    assert edited["activity"]["title"] == "Sensors"
    assert edited["activity"]["location"]["city"] == "Grenoble"
    assert edited["activity"]["location"]["latitude"] == pytest.approx(45.17, abs=0.02)
    assert closed["activity"]["status"] == "CLOSED"
    assert closed["activity"]["studentsReached"] == 31
    assert edit_closed["userErrors"] == [
        {"field": ["id"], "code": "ACTIVITY_CLOSED", "message": edit_closed["userErrors"][0]["message"]}
    ]
    assert delete_closed["userErrors"][0]["code"] == "ACTIVITY_CLOSED"
    assert delete_closed["deletedId"] is None
    assert deleted == {"deletedId": second["id"], "userErrors": []}
    assert len(await outbox(services, "campaign-office@pgbs.example", "activity_closed")) == 1


async def test_activities_visible_to_parties_and_coordinators(client, services, pair):
    activity = (await create(client, pair.school, pair.request_id))["activity"]
    outsider = await active_member(client, services, "outsider@company.example", kind="COMPANY")
    coordinator = await active_member(client, services, "office@pgbs.example", kind="COMPANY")
    await make_coordinator(services, coordinator)

    for member in (pair.school, pair.company, coordinator):
        node = await client.execute(NODE, {"id": activity["id"]}, token=member.token)
        listed = await client.execute(LIST, {}, token=member.token)
        assert node["node"]["title"] == "Robots in the physics lab"
        assert listed["activities"]["totalCount"] == 1
    hidden = await client.execute(NODE, {"id": activity["id"]}, token=outsider.token)
    anonymous = await client.execute(NODE, {"id": activity["id"]})
    outsider_list = await client.execute(LIST, {"request": pair.request_id}, token=outsider.token)
    assert hidden["node"] is None
    assert anonymous["node"] is None
    assert outsider_list["activities"]["totalCount"] == 0
    by_coordinator = await client.execute(
        EDIT, {"id": activity["id"], "input": activity_input(title="Hijacked")}, token=coordinator.token
    )
    assert by_coordinator["editActivity"]["userErrors"][0]["code"] == "NOT_ALLOWED"


async def test_activities_connection_pages_and_filters(client, services, pair):
    ids = [(await create(client, pair.school, pair.request_id, title=f"Visit {n}"))["activity"]["id"] for n in range(5)]
    await client.execute(CLOSE, {"id": ids[0]}, token=pair.school.token)

    first_page = (await client.execute(LIST, {"first": 2}, token=pair.school.token))["activities"]
    second_page = (
        await client.execute(LIST, {"first": 2, "after": first_page["pageInfo"]["endCursor"]}, token=pair.school.token)
    )["activities"]
    last_page = (
        await client.execute(LIST, {"first": 2, "after": second_page["pageInfo"]["endCursor"]}, token=pair.school.token)
    )["activities"]
    closed = (await client.execute(LIST, {"status": "CLOSED"}, token=pair.school.token))["activities"]
    by_request = (await client.execute(LIST, {"request": pair.request_id}, token=pair.company.token))["activities"]

    titles = [edge["node"]["title"] for page in (first_page, second_page, last_page) for edge in page["edges"]]
    assert titles == ["Visit 4", "Visit 3", "Visit 2", "Visit 1", "Visit 0"]
    assert first_page["totalCount"] == 5
    assert first_page["pageInfo"]["hasNextPage"] is True
    assert last_page["pageInfo"]["hasNextPage"] is False
    assert [edge["node"]["id"] for edge in closed["edges"]] == [ids[0]]
    assert by_request["totalCount"] == 5
    too_many = await client.post(LIST, {"first": 101}, token=pair.school.token)
    assert too_many["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"


async def count_queries(services, call) -> int:
    """Run `call` and return how many SQL statements it sent."""
    with counted_statements(services) as statements:
        await call
    return len(statements)


async def test_contact_request_activities_batched(client, services, pair):
    for number in range(3):
        company = await active_member(client, services, f"partner{number}@company.example", kind="COMPANY")
        request_id = await send_request(client, pair.school, company)
        await accept_request(client, company, request_id)
        for visit in range(3):
            await create(client, pair.school, request_id, title=f"Visit {number}.{visit}")

    one = await count_queries(
        services, client.execute(REQUESTS_WITH_ACTIVITIES, {"first": 1}, token=pair.school.token)
    )
    data = await client.execute(REQUESTS_WITH_ACTIVITIES, {"first": 4}, token=pair.school.token)
    four = await count_queries(
        services, client.execute(REQUESTS_WITH_ACTIVITIES, {"first": 4}, token=pair.school.token)
    )

    nodes = [edge["node"] for edge in data["contactRequests"]["edges"]]
    assert [node["activities"]["totalCount"] for node in nodes] == [3, 3, 3, 0]
    assert [edge["node"]["title"] for edge in nodes[0]["activities"]["edges"]] == ["Visit 2.2", "Visit 2.1"]
    assert nodes[0]["activities"]["pageInfo"]["hasNextPage"] is True
    assert nodes[0]["activities"]["edges"][0]["node"]["school"]["name"] == "Lycée Jean Moulin"
    assert four == one


async def test_campaign_map_is_public_without_personal_data(client, services, pair):
    precise = {"city": "Lyon", "countryCode": "FR", "latitude": 45.767312, "longitude": 4.834277}
    planned = (await create(client, pair.school, pair.request_id, location=precise))["activity"]
    closed = (await create(client, pair.school, pair.request_id, title="Closed visit"))["activity"]
    await client.execute(CLOSE, {"id": closed["id"], "reached": 12}, token=pair.school.token)
    other = await connected_pair(client, services, prefix="it-", school_name="Liceo Galileo", country="IT", city="Turin")
    await create(client, other.school, other.request_id, title="Turin visit")

    everything = (await client.execute(MAP))["campaignMap"]
    france = (await client.execute(MAP, {"country": "fr"}))["campaignMap"]
    france_closed = (await client.execute(MAP, {"country": "FR", "status": "CLOSED"}))["campaignMap"]
    bad_country = await client.post(MAP, {"country": "France"})
    fields = (await client.execute(MAP_INTROSPECTION))["__type"]["fields"]

    assert len(everything) == 3
    assert {item["title"] for item in france} == {"Robots in the physics lab", "Closed visit"}
    assert [item["id"] for item in france_closed] == [closed["id"]]
    shown = next(item for item in france if item["id"] == planned["id"])
    assert shown["location"] == {"city": "Lyon", "countryCode": "FR", "latitude": 45.77, "longitude": 4.83, "approximate": False}
    assert shown["schoolName"] == "Lycée Jean Moulin"
    assert shown["companyName"] == "Rhône Robotics"
    text = str(everything)
    for private in ("Claire", "Moreau", "Jonas", "Becker", "@"):
        assert private not in text
    assert {field["name"] for field in fields}.isdisjoint({"email", "firstName", "lastName", "description", "summary"})
    assert bad_country["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_campaign_report_for_coordinators_only(client, services, clock, pair):
    await create(client, pair.school, pair.request_id, stemTopics=["ROBOTICS", "PHYSICS"])
    closed = (await create(client, pair.school, pair.request_id, stemTopics=["ROBOTICS"]))["activity"]
    await client.execute(CLOSE, {"id": closed["id"], "reached": 40}, token=pair.school.token)
    coordinator = await active_member(client, services, "office@pgbs.example", kind="COMPANY", country="DE")
    await make_coordinator(services, coordinator)

    anonymous = await client.post(REPORT)
    member = await client.post(REPORT, token=pair.school.token)
    report = (await client.execute(REPORT, token=coordinator.token))["campaignReport"]

    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert member["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert member["data"] is None
    assert {(row["kind"], row["countryCode"], row["count"]) for row in report["members"]} == {
        ("SCHOOL", "FR", 1),
        ("COMPANY", "FR", 1),
        ("COMPANY", "DE", 1),
    }
    assert {row["status"]: row["count"] for row in report["contactRequests"]}["ACCEPTED"] == 1
    assert {row["status"]: row["count"] for row in report["activities"]} == {"PLANNED": 1, "CLOSED": 1}
    assert report["activitiesByCountry"] == [{"countryCode": "FR", "planned": 1, "closed": 1, "studentsReached": 40}]
    assert report["activitiesByTopic"] == [{"topic": "ROBOTICS", "count": 2}, {"topic": "PHYSICS", "count": 1}]
    assert report["studentsReached"] == 40
    assert report["contactRequestsPendingOver14Days"] == 0


async def test_report_counts_requests_pending_over_14_days(client, services, clock, pair):
    from datetime import timedelta

    from sqlalchemy import update

    from persistence.models import ContactRequest

    third = await active_member(client, services, "third@company.example", kind="COMPANY")
    fourth = await active_member(client, services, "fourth@company.example", kind="COMPANY")
    old_id = await send_request(client, pair.school, third)
    await send_request(client, pair.school, fourth)
    from tests.activity_factories import key

    async with services.database.write() as session:
        await session.exec(
            update(ContactRequest)
            .where(ContactRequest.id == key(old_id))
            .values(created_at=clock.now() - timedelta(days=15))
        )
    await make_coordinator(services, pair.company)

    report = (await client.execute(REPORT, token=pair.company.token))["campaignReport"]

    assert {row["status"]: row["count"] for row in report["contactRequests"]}["PENDING"] == 2
    assert report["contactRequestsPendingOver14Days"] == 1


async def test_activities_nested_fields_batched(client, services, pair):
    other_company = await active_member(client, services, "partner@company.example", kind="COMPANY")
    other_request = await send_request(client, pair.school, other_company)
    await accept_request(client, other_company, other_request)
    for number in range(3):
        await create(client, pair.school, pair.request_id, title=f"First pair {number}")
        await create(client, pair.school, other_request, title=f"Second pair {number}")

    one = await count_queries(services, client.execute(LIST, {"first": 1}, token=pair.school.token))
    six = await count_queries(services, client.execute(LIST, {"first": 6}, token=pair.school.token))
    listed = (await client.execute(LIST, {"first": 6}, token=pair.school.token))["activities"]

    assert listed["totalCount"] == 6
    assert {edge["node"]["company"]["name"] for edge in listed["edges"]} == {
        "Rhône Robotics",
        "Company of partner",
    }
    assert six == one
