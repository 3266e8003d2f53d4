"""`search` through the GraphQL API: authentication, the profile gate, paging and input errors."""

from __future__ import annotations

from datetime import date

from tests.factories import PASSWORD, active_member, register, verified_member
from tests.search_data import add_member

LOGIN = """
mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { token } }
"""
SEARCH = """
query Search($filter: SearchFilter, $first: Int, $after: String) {
  search(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id firstName lastName email role subjects
        organisation { name kind countryCode city }
        activityProfile { countryCode stemTopics description availability { from until } }
      }
    }
  }
}
"""


def names(data: dict) -> list[str]:
    return [edge["node"]["lastName"] for edge in data["search"]["edges"]]


async def school_viewer(client, services):
    return await active_member(
        client, services, "claire@school.example", kind="SCHOOL", role="Physics teacher", first_name="Claire",
        last_name="Moreau",
    )


async def test_search_anonymous_is_unauthenticated(client):
    body = await client.post(SEARCH)

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_search_unverified_viewer_is_forbidden(client, services):
    await register(client, "late@school.example")
    signed_in = await client.execute(LOGIN, {"email": "late@school.example", "password": PASSWORD})

    body = await client.post(SEARCH, token=signed_in["login"]["token"])

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "Verify your e-mail address" in body["errors"][0]["message"]


async def test_search_incomplete_profile_is_forbidden(client, services):
    member = await verified_member(client, services, "new@school.example")

    body = await client.post(SEARCH, token=member.token)

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "Complete your profile" in body["errors"][0]["message"]


async def test_search_lists_other_side_with_nested_fields(client, services):
    viewer = await school_viewer(client, services)
    await active_member(client, services, "teacher@school.example", kind="SCHOOL")
    await add_member(
        services, "Jonas Becker", kind="COMPANY", country="DE", city="Köln", organisation="Rheinwerk Robotics",
        role="Software engineer", subjects=("COMPUTER_SCIENCE",),
        profile={
            "topics": ["ROBOTICS"], "lengths": ["HALF_DAY"], "ages": ["AGES_13_15"],
            "availability": [(date(2030, 1, 10), date(2030, 2, 10))], "description": "Robots in the classroom",
        },
    )

    data = await client.execute(SEARCH, {"filter": {"text": "robot koln"}}, token=viewer.token)

    assert data["search"]["totalCount"] == 1
    node = data["search"]["edges"][0]["node"]
    assert node["firstName"] == "Jonas"
    assert node["email"] is None  # no contact request between the two
    assert node["organisation"] == {"name": "Rheinwerk Robotics", "kind": "COMPANY", "countryCode": "DE", "city": "Köln"}
    assert node["activityProfile"]["stemTopics"] == ["ROBOTICS"]
    assert node["activityProfile"]["availability"] == [{"from": "2030-01-10", "until": "2030-02-10"}]


async def test_search_pages_with_cursors(client, services):
    viewer = await school_viewer(client, services)
    for index in range(5):
        await add_member(services, f"Member M{index}", joined_days=index)

    first = (await client.execute(SEARCH, {"first": 2}, token=viewer.token))["search"]
    second = (await client.execute(SEARCH, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=viewer.token))[
        "search"
    ]
    last = (await client.execute(SEARCH, {"first": 2, "after": second["edges"][-1]["cursor"]}, token=viewer.token))[
        "search"
    ]

    assert names({"search": first}) == ["M4", "M3"]
    assert names({"search": second}) == ["M2", "M1"]
    assert names({"search": last}) == ["M0"]
    assert [page["totalCount"] for page in (first, second, last)] == [5, 5, 5]
    assert first["pageInfo"]["hasNextPage"] is True
    assert last["pageInfo"] == {"hasNextPage": False, "endCursor": last["edges"][-1]["cursor"]}


async def test_search_first_defaults_to_twenty(client, services):
    viewer = await school_viewer(client, services)
    for index in range(21):
        await add_member(services, f"Member M{index}", joined_days=index)

    data = await client.execute(SEARCH, token=viewer.token)

    assert len(data["search"]["edges"]) == 20
    assert data["search"]["totalCount"] == 21
    assert data["search"]["pageInfo"]["hasNextPage"] is True


async def test_search_first_over_limit(client, services):
    viewer = await school_viewer(client, services)

    body = await client.post(SEARCH, {"first": 101}, token=viewer.token)

    assert body["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"


async def test_search_hostile_text_is_plain_text(client, services):
    viewer = await school_viewer(client, services)
    await add_member(services, "Marie Curie", role="Physicist", subjects=("PHYSICS",))
    texts = ['"', "'", "*", "phys*", "NOT marie", "marie OR 1=1", "); DROP TABLE member; --", "a:b", "^marie",
             "marie \U0001F680", "\\", "%_", "x" * 500, "phys " * 100, "mar\x00ie", "'':*&|!<->", "\u200b"]

    found = {}
    for text in texts:
        data = await client.execute(SEARCH, {"filter": {"text": text}}, token=viewer.token)
        found[text] = names(data)

    assert found["phys*"] == ["Curie"]
    assert found["^marie"] == ["Curie"]
    assert found["marie \U0001F680"] == ["Curie"]
    assert found["phys " * 100] == ["Curie"]
    assert found['"'] == ["Curie"]  # no words: like no text
    assert found["x" * 500] == []
    assert found["NOT marie"] == []
    assert found["mar\x00ie"] == []  # two words, "mar" and "ie"
    assert found["'':*&|!<->"] == ["Curie"]


async def test_search_text_over_limit_is_bad_input(client, services):
    viewer = await school_viewer(client, services)

    body = await client.post(SEARCH, {"filter": {"text": "x" * 1001}}, token=viewer.token)

    error = body["errors"][0]
    assert body["data"] is None
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["problems"] == [
        {"code": "TOO_LONG", "field": ["filter", "text"], "message": error["message"]}
    ]
    assert "1001 characters; the maximum is 1000" in error["message"]


async def test_search_bad_filter_lists_problems(client, services):
    viewer = await school_viewer(client, services)
    search_filter = {"countryCodes": ["FR", "ZZ"], "availableFrom": "2027-06-01", "availableUntil": "2027-05-01"}

    body = await client.post(SEARCH, {"filter": search_filter}, token=viewer.token)

    problems = body["errors"][0]["extensions"]["problems"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert [(problem["code"], problem["field"]) for problem in problems] == [
        ("INVALID_COUNTRY", ["filter", "countryCodes", "1"]),
        ("INVALID_DATE_RANGE", ["filter", "availableFrom"]),
    ]


async def test_search_rejects_foreign_cursor(client, services):
    viewer = await school_viewer(client, services)

    garbage = await client.post(SEARCH, {"after": "not a cursor"}, token=viewer.token)
    # A well-formed cursor of another list: the JSON position [1].
    foreign = await client.post(SEARCH, {"after": "WzFd"}, token=viewer.token)

    assert garbage["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert foreign["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert foreign["errors"][0]["extensions"]["problems"][0]["field"] == ["after"]


async def test_search_hidden_member_disappears(client, services):
    viewer = await school_viewer(client, services)
    await add_member(services, "Marie Curie", role="Physicist", subjects=("PHYSICS",))
    await add_member(services, "Niels Bohr", role="Physicist", subjects=("PHYSICS",), search_visible=False)

    data = await client.execute(SEARCH, {"filter": {"text": "physicist"}}, token=viewer.token)

    assert names(data) == ["Curie"]


async def test_search_filters_through_api(client, services):
    viewer = await school_viewer(client, services)
    available = {"topics": ["SPACE"], "ages": ["AGES_10_12"], "lengths": ["FULL_DAY"],
                 "availability": [(date(2030, 3, 1), date(2030, 3, 31))]}
    await add_member(services, "Marie Curie", country="PL", profile=available)
    await add_member(services, "Nikola Tesla", country="PL", profile={**available, "ages": ["AGES_16_19"]})
    await add_member(services, "Ada Lovelace", country="GB", profile=available)
    search_filter = {
        "countryCodes": ["PL"], "stemTopics": ["SPACE"], "ageGroups": ["AGES_10_12", "AGES_6_9"],
        "activityLengths": ["FULL_DAY"], "availableFrom": "2030-03-31",
    }

    data = await client.execute(SEARCH, {"filter": search_filter}, token=viewer.token)

    assert names(data) == ["Curie"]


SEND_REQUEST = """
mutation Send($recipientId: ID!, $message: String!) {
  sendContactRequest(recipientId: $recipientId, message: $message) { contactRequest { id } userErrors { code } }
}
"""
SEARCH_WITH_REQUESTS = """
query { search { edges { node { lastName email contactRequest { id status direction } } } } }
"""


async def test_search_result_shows_request_and_email(client, services):
    viewer = await school_viewer(client, services)
    writer = await active_member(client, services, "writer@company.example", kind="COMPANY", last_name="Writer")
    asked = await active_member(client, services, "asked@company.example", kind="COMPANY", last_name="Asked")
    await active_member(client, services, "stranger@company.example", kind="COMPANY", last_name="Stranger")
    received = await client.execute(
        SEND_REQUEST, {"recipientId": viewer.id, "message": "Shall we plan a visit?"}, token=writer.token
    )
    sent = await client.execute(
        SEND_REQUEST, {"recipientId": asked.id, "message": "Would you visit our class?"}, token=viewer.token
    )

    data = await client.execute(SEARCH_WITH_REQUESTS, token=viewer.token)

    nodes = {edge["node"]["lastName"]: edge["node"] for edge in data["search"]["edges"]}
    assert set(nodes) == {"Writer", "Asked", "Stranger"}
    # The owner sent the viewer a request, so the privacy rule shows the address.
    assert nodes["Writer"]["email"] == "writer@company.example"
    assert nodes["Writer"]["contactRequest"] == {
        "id": received["sendContactRequest"]["contactRequest"]["id"], "status": "PENDING", "direction": "RECEIVED",
    }
    # The viewer's own request is not accepted yet, so the address stays hidden.
    assert nodes["Asked"]["email"] is None
    assert nodes["Asked"]["contactRequest"] == {
        "id": sent["sendContactRequest"]["contactRequest"]["id"], "status": "PENDING", "direction": "SENT",
    }
    assert nodes["Stranger"]["email"] is None
    assert nodes["Stranger"]["contactRequest"] is None
