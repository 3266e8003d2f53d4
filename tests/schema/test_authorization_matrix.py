"""Who may run which operation and reach which object: one table, every actor, both databases.

Each row is one way into the API (a mutation, a root query, or a nested field
reached through `node`) and states, for every actor, the outcome the rules
promise:

- UNAUTHENTICATED or FORBIDDEN: a top-level error with that extensions.code;
- a userErrors code such as NOT_FOUND or PROFILE_INCOMPLETE (several joined by "+");
- OK: the operation succeeded, or the object or value is there;
- NULL: the object or value is null (FALSE for a Boolean result);
- LISTED / ABSENT: whether a connection or list holds the world's object.

The world is built once per database through the API. Rows whose success
changes state (accepting, closing, deleting) give the actors who succeed an
object of their own, so no cell changes what a later cell of the row sees.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from domain import accounts
from domain.services import Services
from schema import build_schema
from tests.activity_factories import accept_request, activity_input, send_request
from tests.factories import PASSWORD, TestMember, active_member, register, verified_member
from tests.graphql_client import GraphQLClient

ANONYMOUS = "anonymous"
INCOMPLETE = "incomplete profile"
UNVERIFIED = "unverified"
UNRELATED = "unrelated member"
SCHOOL = "school party"
COMPANY = "company party"
COORDINATOR = "coordinator"
ACTORS = (ANONYMOUS, INCOMPLETE, UNVERIFIED, UNRELATED, SCHOOL, COMPANY, COORDINATOR)
SIGNED_IN = ACTORS[1:]

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { token userErrors { code } }
}
"""
CREATE_ACTIVITY = """
mutation Create($request: ID!, $input: ActivityInput!) {
  createActivity(contactRequestId: $request, input: $input) { activity { id } userErrors { code message } }
}
"""
INVITE = """
mutation Invite($input: InvitationInput!) {
  inviteContact(input: $input) { invitation { id } userErrors { code message } }
}
"""


@dataclass
class World:
    """Members in every state, an accepted contact request between `school` and `company`, and its objects."""

    client: GraphQLClient
    services: Services
    members: dict[str, TestMember]
    incomplete: TestMember
    bystander_school: TestMember
    bystander_company: TestMember
    accepted_request: str  # school -> company, accepted
    pending_request: str  # school -> bystander_company, pending
    activity: str  # planned under the accepted request
    activity_title: str
    invitation: str  # sent by the school party
    spares: int = 0

    def token(self, actor: str) -> str | None:
        member = self.members.get(actor)
        return member.token if member else None

    async def spare_member(self, kind: str) -> TestMember:
        """A new member with a complete profile, for a cell that needs a fresh counterpart."""
        self.spares += 1
        return await active_member(
            self.client, self.services, f"spare{self.spares}@{kind.lower()}.example", kind=kind
        )

    async def new_activity(self) -> str:
        data = await self.client.execute(
            CREATE_ACTIVITY,
            {"request": self.accepted_request, "input": activity_input(title="Spare visit")},
            token=self.members[SCHOOL].token,
        )
        assert data["createActivity"]["userErrors"] == []
        return data["createActivity"]["activity"]["id"]


async def build_world(client: GraphQLClient, services: Services) -> World:
    school = await active_member(client, services, "teacher@school.example", kind="SCHOOL")
    company = await active_member(client, services, "engineer@company.example", kind="COMPANY")
    unrelated = await active_member(client, services, "other@company.example", kind="COMPANY")
    coordinator = await active_member(client, services, "coordinator@office.example", kind="SCHOOL")
    await accounts.create_coordinator(services, coordinator.email)
    incomplete = await verified_member(client, services, "halfway@school.example")

    # A member may sign in before verifying the address; the profile gate still applies.
    assert (await register(client, "unverified@school.example"))["userErrors"] == []
    login = await client.execute(LOGIN, {"email": "unverified@school.example", "password": PASSWORD})
    token = login["login"]["token"]
    viewer = await client.execute("query { viewer { id } }", token=token)
    unverified = TestMember(id=viewer["viewer"]["id"], email="unverified@school.example", token=token)

    bystander_school = await active_member(client, services, "bystander@school.example", kind="SCHOOL")
    bystander_company = await active_member(client, services, "bystander@company.example", kind="COMPANY")

    accepted_request = await send_request(client, school, company)
    await accept_request(client, company, accepted_request)
    pending_request = await send_request(client, school, bystander_company)

    title = "Robots in the physics lab"
    created = await client.execute(
        CREATE_ACTIVITY, {"request": accepted_request, "input": activity_input(title=title)}, token=school.token
    )
    assert created["createActivity"]["userErrors"] == []
    invited = await client.execute(
        INVITE,
        {"input": {"kind": "COMPANY", "firstName": "Nina", "lastName": "Olsen", "email": "nina@outside.example"}},
        token=school.token,
    )
    assert invited["inviteContact"]["userErrors"] == []

    return World(
        client=client,
        services=services,
        members={
            INCOMPLETE: incomplete,
            UNVERIFIED: unverified,
            UNRELATED: unrelated,
            SCHOOL: school,
            COMPANY: company,
            COORDINATOR: coordinator,
        },
        incomplete=incomplete,
        bystander_school=bystander_school,
        bystander_company=bystander_company,
        accepted_request=accepted_request,
        pending_request=pending_request,
        activity=created["createActivity"]["activity"]["id"],
        activity_title=title,
        invitation=invited["inviteContact"]["invitation"]["id"],
    )


# Reading a response: each function turns the data of a response into an outcome string.
Picker = Callable[[dict, World, str], str]
Variables = Callable[[World, str], Awaitable[dict[str, Any]]]


def dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if data is None:
            return None
        data = data[key]
    return data


def payload(name: str) -> Picker:
    """OK when the mutation payload has no userErrors, else their codes."""

    def pick(data: dict, world: World, actor: str) -> str:
        errors = data[name]["userErrors"]
        return "+".join(sorted(error["code"] for error in errors)) if errors else "OK"

    return pick


def value(*path: str, expected: Callable[[World, str], Any] | None = None) -> Picker:
    """NULL (or FALSE) when the value at `path` is null (false); OK when it is there and, if given, as expected."""

    def pick(data: dict, world: World, actor: str) -> str:
        found = dig(data, path)
        if found is None:
            return "NULL"
        if found is False:
            return "FALSE"
        if expected is not None and found != expected(world, actor):
            return f"WRONG VALUE {found!r}"
        return "OK"

    return pick


def listed(*path: str, target: Callable[[World, str], str]) -> Picker:
    """LISTED when the list at `path` (edges of a connection, or a plain list) holds the target id."""

    def pick(data: dict, world: World, actor: str) -> str:
        found = dig(data, path)
        if found is None:
            return "NULL"
        ids = [item["node"]["id"] if "node" in item else item["id"] for item in found]
        return "LISTED" if target(world, actor) in ids else "ABSENT"

    return pick


def listed_email(*path: str, target: Callable[[World, str], TestMember]) -> Picker:
    """The e-mail of the target member as it appears in a list of users: OK (correct), NULL, or ABSENT."""

    def pick(data: dict, world: World, actor: str) -> str:
        member = target(world, actor)
        for edge in dig(data, path):
            if edge["node"]["id"] == member.id:
                email = edge["node"]["email"]
                if email is None:
                    return "NULL"
                return "OK" if email == member.email else f"WRONG VALUE {email!r}"
        return "ABSENT"

    return pick


def fixed(variables: dict[str, Any] | Callable[[World], dict[str, Any]] | None = None) -> Variables:
    """The same variables for every actor."""

    async def build(world: World, actor: str) -> dict[str, Any]:
        if callable(variables):
            return variables(world)
        return variables or {}

    return build


def per_actor(build_for: Callable[[World, str], dict[str, Any]]) -> Variables:
    async def build(world: World, actor: str) -> dict[str, Any]:
        return build_for(world, actor)

    return build


@dataclass(frozen=True)
class Row:
    operation: str  # how the cell is named in messages
    covers: str  # the root field of Query or Mutation the row runs
    document: str
    variables: Variables
    pick: Picker
    expected: dict[str, str]
    # A different bearer token for an actor, e.g. a second session for logout.
    token: Callable[[World, str], Awaitable[str | None]] | None = None


def outcomes(default: str, **overrides: str) -> dict[str, str]:
    """Expected outcomes: `default` for every signed-in actor, UNAUTHENTICATED for anonymous, then overrides."""
    table = {ANONYMOUS: "UNAUTHENTICATED", **{actor: default for actor in SIGNED_IN}}
    keys = {
        "anonymous": ANONYMOUS,
        "incomplete": INCOMPLETE,
        "unverified": UNVERIFIED,
        "unrelated": UNRELATED,
        "school": SCHOOL,
        "company": COMPANY,
        "coordinator": COORDINATOR,
    }
    for name, outcome in overrides.items():
        table[keys[name]] = outcome
    return table


GATED = {"incomplete": "PROFILE_INCOMPLETE", "unverified": "EMAIL_NOT_VERIFIED"}
SEARCH_GATED = {"incomplete": "FORBIDDEN", "unverified": "FORBIDDEN"}
PARTIES_ONLY = {"school": "OK", "company": "OK", "coordinator": "OK"}


def school_id(world: World, actor: str) -> str:
    return world.members[SCHOOL].id


def accepted_request(world: World, actor: str) -> str:
    return world.accepted_request


def activity_id(world: World, actor: str) -> str:
    return world.activity


def node_variables(attribute: str) -> Variables:
    return fixed(lambda world: {"id": getattr(world, attribute)})


NODE_USER = """
query Node($id: ID!) {
  node(id: $id) { id ... on User { email calendarFeedUrl contactRequest { id } } }
}
"""
NODE_REQUEST = """
query Node($id: ID!) {
  node(id: $id) {
    id
    ... on ContactRequest { sender { id email } recipient { id email } activities { edges { node { id } } } }
  }
}
"""
NODE_ACTIVITY = """
query Node($id: ID!) {
  node(id: $id) { id ... on Activity { contactRequest { id sender { id } } } }
}
"""
NODE_INVITATION = "query Node($id: ID!) { node(id: $id) { id ... on Invitation { email } } }"
VIEWER = "query { viewer { id calendarFeedUrl } }"
SEARCH = "query { search(first: 100) { edges { node { id email } } } }"
CONTACT_REQUESTS = "query { contactRequests(first: 100) { edges { node { id } } } }"
ACTIVITIES = """
query Activities($request: ID) {
  activities(contactRequestId: $request, first: 100) { edges { node { id } } }
}
"""
CAMPAIGN_MAP = "query { campaignMap { id title } }"
CAMPAIGN_REPORT = "query { campaignReport { studentsReached } }"
EXPORT = "query { exportMyData }"


def counterpart(world: World, actor: str) -> TestMember:
    """The member of the other side that `actor` finds in search."""
    if actor in (UNRELATED, COMPANY):
        return world.members[SCHOOL]
    return world.members[COMPANY]


QUERY_ROWS = [
    Row("viewer", "viewer", VIEWER, fixed(), value("viewer"), outcomes("OK", anonymous="NULL")),
    Row(
        "viewer.calendarFeedUrl", "viewer", VIEWER, fixed(), value("viewer", "calendarFeedUrl"),
        outcomes("OK", anonymous="NULL"),
    ),
    Row(
        "node(User: complete profile)", "node", NODE_USER, fixed(lambda world: {"id": world.members[SCHOOL].id}),
        value("node", "id"), outcomes("OK", anonymous="NULL", incomplete="NULL", unverified="NULL"),
    ),
    Row(
        "node(User: incomplete profile)", "node", NODE_USER, fixed(lambda world: {"id": world.incomplete.id}),
        value("node", "id"), outcomes("NULL", anonymous="NULL", incomplete="OK", coordinator="OK"),
    ),
    Row(
        "node(User).email of the school party", "node", NODE_USER,
        fixed(lambda world: {"id": world.members[SCHOOL].id}),
        value("node", "email", expected=lambda world, actor: world.members[SCHOOL].email),
        # The company received the school's request, so the address is visible to it.
        outcomes("NULL", anonymous="NULL", school="OK", company="OK", coordinator="OK"),
    ),
    Row(
        "node(User).email of the company party", "node", NODE_USER,
        fixed(lambda world: {"id": world.members[COMPANY].id}),
        value("node", "email", expected=lambda world, actor: world.members[COMPANY].email),
        # The company accepted the school's request, so its address is visible to the school.
        outcomes("NULL", anonymous="NULL", school="OK", company="OK", coordinator="OK"),
    ),
    Row(
        "node(User).calendarFeedUrl of the school party", "node", NODE_USER,
        fixed(lambda world: {"id": world.members[SCHOOL].id}), value("node", "calendarFeedUrl"),
        outcomes("NULL", anonymous="NULL", school="OK"),
    ),
    Row(
        "node(User).contactRequest of the company party", "node", NODE_USER,
        fixed(lambda world: {"id": world.members[COMPANY].id}),
        value("node", "contactRequest", "id", expected=accepted_request),
        # Null for the company itself: the field is the request between the viewer and this member.
        outcomes("NULL", anonymous="NULL", school="OK"),
    ),
    Row(
        "node(ContactRequest)", "node", NODE_REQUEST, node_variables("accepted_request"), value("node", "id"),
        outcomes("NULL", anonymous="NULL", **PARTIES_ONLY),
    ),
    Row(
        "ContactRequest.sender", "node", NODE_REQUEST, node_variables("accepted_request"),
        value("node", "sender", "id", expected=school_id), outcomes("NULL", anonymous="NULL", **PARTIES_ONLY),
    ),
    Row(
        "ContactRequest.recipient.email", "node", NODE_REQUEST, node_variables("accepted_request"),
        value("node", "recipient", "email", expected=lambda world, actor: world.members[COMPANY].email),
        outcomes("NULL", anonymous="NULL", **PARTIES_ONLY),
    ),
    Row(
        "ContactRequest.activities", "node", NODE_REQUEST, node_variables("accepted_request"),
        listed("node", "activities", "edges", target=activity_id),
        outcomes("NULL", anonymous="NULL", school="LISTED", company="LISTED", coordinator="LISTED"),
    ),
    Row(
        "node(Activity)", "node", NODE_ACTIVITY, node_variables("activity"), value("node", "id"),
        outcomes("NULL", anonymous="NULL", **PARTIES_ONLY),
    ),
    Row(
        "Activity.contactRequest", "node", NODE_ACTIVITY, node_variables("activity"),
        value("node", "contactRequest", "id", expected=accepted_request),
        outcomes("NULL", anonymous="NULL", **PARTIES_ONLY),
    ),
    Row(
        "node(Invitation)", "node", NODE_INVITATION, node_variables("invitation"),
        value("node", "email", expected=lambda world, actor: "nina@outside.example"),
        outcomes("NULL", anonymous="NULL", school="OK", coordinator="OK"),
    ),
    Row(
        "search", "search", SEARCH, fixed(),
        listed("search", "edges", target=lambda world, actor: counterpart(world, actor).id),
        outcomes("LISTED", **SEARCH_GATED),
    ),
    Row(
        "search: User.email", "search", SEARCH, fixed(),
        listed_email("search", "edges", target=counterpart),
        outcomes("OK", unrelated="NULL", **SEARCH_GATED),
    ),
    Row(
        "contactRequests", "contactRequests", CONTACT_REQUESTS, fixed(),
        listed("contactRequests", "edges", target=accepted_request),
        outcomes("ABSENT", school="LISTED", company="LISTED"),
    ),
    Row(
        "activities", "activities", ACTIVITIES, fixed({"request": None}),
        listed("activities", "edges", target=activity_id),
        outcomes("ABSENT", school="LISTED", company="LISTED", coordinator="LISTED"),
    ),
    Row(
        "activities(contactRequestId:)", "activities", ACTIVITIES,
        fixed(lambda world: {"request": world.accepted_request}),
        listed("activities", "edges", target=activity_id),
        outcomes("ABSENT", school="LISTED", company="LISTED", coordinator="LISTED"),
    ),
    Row(
        "campaignMap", "campaignMap", CAMPAIGN_MAP, fixed(), listed("campaignMap", target=activity_id),
        outcomes("LISTED", anonymous="LISTED"),
    ),
    Row(
        "campaignReport", "campaignReport", CAMPAIGN_REPORT, fixed(), value("campaignReport"),
        outcomes("FORBIDDEN", coordinator="OK"),
    ),
    Row("exportMyData", "exportMyData", EXPORT, fixed(), value("exportMyData"), outcomes("OK")),
]


def mutation(name: str, arguments: str, selection: str = "userErrors { code message }") -> str:
    """A document that runs one mutation; `arguments` is "name: Type" pairs separated by semicolons."""
    pairs = [part.split(":", 1) for part in arguments.split(";") if part.strip()]
    declared = ", ".join(f"${key.strip()}: {kind.strip()}" for key, kind in pairs)
    passed = ", ".join(f"{key.strip()}: ${key.strip()}" for key, _ in pairs)
    head = f"mutation Run({declared})" if declared else "mutation Run"
    call = f"{name}({passed})" if passed else name
    body = f"{call} {{ {selection} }}" if selection else call
    return f"{head} {{ {body} }}"


async def second_session(world: World, actor: str) -> str | None:
    """A new session of the actor, so that logging it out leaves the actor's main token working."""
    member = world.members.get(actor)
    if member is None:
        return None
    data = await world.client.execute(LOGIN, {"email": member.email, "password": PASSWORD})
    return data["login"]["token"]


def invitation_input(world: World, actor: str) -> dict[str, Any]:
    slug = actor.replace(" ", "-")
    return {"input": {"kind": "SCHOOL", "firstName": "Ola", "lastName": "Berg", "email": f"{slug}@invitee.example"}}


def contact_target(world: World, actor: str) -> dict[str, Any]:
    """The recipient for sendContactRequest: a member of the other side."""
    recipient = {
        SCHOOL: world.members[COMPANY],
        COMPANY: world.members[SCHOOL],
        UNRELATED: world.bystander_school,
    }.get(actor, world.bystander_company)
    return {"recipientId": recipient.id, "message": "Would your class like a visit?"}


def answer_target(own: str) -> Variables:
    """The pending request for accept or decline: a new one to the company party, the shared one for others."""

    async def build(world: World, actor: str) -> dict[str, Any]:
        if actor == COMPANY:
            sender = await world.spare_member("SCHOOL")
            request_id = await send_request(world.client, sender, world.members[COMPANY])
            return {"id": request_id, "message": f"{own} by the recipient"}
        return {"id": world.pending_request, "message": None}

    return build


async def withdraw_target(world: World, actor: str) -> dict[str, Any]:
    """A new pending request of the school party for itself; the shared pending one for everyone else."""
    if actor == SCHOOL:
        recipient = await world.spare_member("COMPANY")
        return {"id": await send_request(world.client, world.members[SCHOOL], recipient)}
    return {"id": world.pending_request}


def own_activity_for_parties(extra: dict[str, Any] | None = None) -> Variables:
    """A new activity for each party, which the cell may close or delete; the world's activity for others."""

    async def build(world: World, actor: str) -> dict[str, Any]:
        target = await world.new_activity() if actor in (SCHOOL, COMPANY) else world.activity
        return {"id": target, **(extra or {})}

    return build


ACTIVITY_GATED = {**GATED, "unrelated": "NOT_FOUND", "school": "OK", "company": "OK", "coordinator": "NOT_ALLOWED"}

MUTATION_ROWS = [
    Row(
        "register", "register", mutation("register", "input: RegisterInput!", "token userErrors { code }"),
        per_actor(lambda world, actor: {"input": {
            "email": f"{actor.replace(' ', '-')}@new.example", "password": PASSWORD,
            "firstName": "New", "lastName": "Member",
        }}),
        payload("register"), outcomes("OK", anonymous="OK"),
    ),
    Row(
        "login", "login", mutation("login", "email: String!; password: String!", "userErrors { code }"),
        fixed(lambda world: {"email": world.bystander_school.email, "password": PASSWORD}),
        payload("login"), outcomes("OK", anonymous="OK"),
    ),
    Row(
        "logout", "logout", mutation("logout", "", ""), fixed(), value("logout"),
        outcomes("OK", anonymous="FALSE"), token=second_session,
    ),
    Row(
        "verifyEmail (unknown token)", "verifyEmail", mutation("verifyEmail", "token: String!", "userErrors { code }"),
        fixed({"token": "not-a-token"}), payload("verifyEmail"),
        outcomes("INVALID_TOKEN", anonymous="INVALID_TOKEN"),
    ),
    Row(
        "requestPasswordReset", "requestPasswordReset", mutation("requestPasswordReset", "email: String!", ""),
        fixed({"email": "nobody@nowhere.example"}), value("requestPasswordReset"), outcomes("OK", anonymous="OK"),
    ),
    Row(
        "resetPassword (unknown token)", "resetPassword",
        mutation("resetPassword", "token: String!; newPassword: String!", "userErrors { code }"),
        fixed({"token": "not-a-token", "newPassword": "another long password"}), payload("resetPassword"),
        outcomes("INVALID_TOKEN", anonymous="INVALID_TOKEN"),
    ),
    Row(
        "updateProfile", "updateProfile", mutation("updateProfile", "input: ProfileInput!"),
        fixed({"input": {"lastName": "Unchanged"}}), payload("updateProfile"), outcomes("OK"),
    ),
    Row(
        "updateActivityProfile", "updateActivityProfile",
        mutation("updateActivityProfile", "input: ActivityProfileInput!"),
        fixed({"input": {
            "countryCode": "FR", "stemTopics": ["PHYSICS"], "activityLengths": ["HALF_DAY"],
            "ageGroups": ["AGES_13_15"], "availability": [],
        }}),
        payload("updateActivityProfile"), outcomes("OK"),
    ),
    Row(
        "sendContactRequest", "sendContactRequest",
        mutation("sendContactRequest", "recipientId: ID!; message: String!"),
        per_actor(contact_target), payload("sendContactRequest"),
        # The two parties already have an accepted request with each other.
        outcomes("OK", school="ALREADY_CONNECTED", company="ALREADY_CONNECTED", **GATED),
    ),
    Row(
        "acceptContactRequest", "acceptContactRequest",
        mutation("acceptContactRequest", "id: ID!; message: String"),
        answer_target("Accepted"), payload("acceptContactRequest"),
        # The shared pending request was sent by the school party to a bystander.
        outcomes("NOT_FOUND", school="NOT_ALLOWED", company="OK", coordinator="NOT_ALLOWED"),
    ),
    Row(
        "declineContactRequest", "declineContactRequest",
        mutation("declineContactRequest", "id: ID!; message: String"),
        answer_target("Declined"), payload("declineContactRequest"),
        outcomes("NOT_FOUND", school="NOT_ALLOWED", company="OK", coordinator="NOT_ALLOWED"),
    ),
    Row(
        "withdrawContactRequest", "withdrawContactRequest", mutation("withdrawContactRequest", "id: ID!"),
        withdraw_target, payload("withdrawContactRequest"),
        outcomes("NOT_FOUND", school="OK", coordinator="NOT_ALLOWED"),
    ),
    Row(
        "inviteContact", "inviteContact", mutation("inviteContact", "input: InvitationInput!"),
        per_actor(invitation_input), payload("inviteContact"), outcomes("OK", **GATED),
    ),
    Row(
        "createActivity", "createActivity", mutation("createActivity", "contactRequestId: ID!; input: ActivityInput!"),
        fixed(lambda world: {"contactRequestId": world.accepted_request, "input": activity_input()}),
        payload("createActivity"), outcomes("OK", **ACTIVITY_GATED),
    ),
    Row(
        "editActivity", "editActivity", mutation("editActivity", "id: ID!; input: ActivityInput!"),
        fixed(lambda world: {"id": world.activity, "input": activity_input(title=world.activity_title)}),
        payload("editActivity"), outcomes("OK", **ACTIVITY_GATED),
    ),
    Row(
        "closeActivity", "closeActivity", mutation("closeActivity", "id: ID!; studentsReached: Int"),
        own_activity_for_parties({"studentsReached": 20}), payload("closeActivity"),
        outcomes("OK", **ACTIVITY_GATED),
    ),
    Row(
        "deleteActivity", "deleteActivity", mutation("deleteActivity", "id: ID!"),
        own_activity_for_parties(), payload("deleteActivity"), outcomes("OK", **ACTIVITY_GATED),
    ),
    Row(
        # A wrong password: the cell shows who may call it without erasing the actor.
        "deleteAccount (wrong password)", "deleteAccount", mutation("deleteAccount", "password: String!"),
        fixed({"password": "not the password"}), payload("deleteAccount"), outcomes("INVALID_CREDENTIALS"),
    ),
    Row(
        "setSearchVisibility", "setSearchVisibility", mutation("setSearchVisibility", "visible: Boolean!"),
        fixed({"visible": True}), payload("setSearchVisibility"), outcomes("OK"),
    ),
    Row(
        "updateEmailPreferences", "updateEmailPreferences",
        mutation("updateEmailPreferences", "input: EmailPreferencesInput!"),
        fixed({"input": {"reminders": True}}), payload("updateEmailPreferences"), outcomes("OK"),
    ),
    Row(
        "resetCalendarFeed", "resetCalendarFeed", mutation("resetCalendarFeed", ""),
        fixed(), payload("resetCalendarFeed"), outcomes("OK"),
    ),
]


def observe(body: dict, row: Row, world: World, actor: str) -> str:
    """Turn a response into the outcome string the table uses."""
    if body.get("errors"):
        codes = {(error.get("extensions") or {}).get("code") for error in body["errors"]}
        if len(codes) == 1 and codes <= {"UNAUTHENTICATED", "FORBIDDEN"}:
            return codes.pop()
        return f"UNEXPECTED ERRORS {body['errors']}"
    return row.pick(body["data"], world, actor)


async def run_rows(world: World, rows: list[Row]) -> list[str]:
    """Run every cell of `rows`; return one message per cell whose outcome differs from the table."""
    failures = []
    for row in rows:
        for actor in ACTORS:
            variables = await row.variables(world, actor)
            token = await row.token(world, actor) if row.token else world.token(actor)
            body = await world.client.post(row.document, variables, token=token)
            observed = observe(body, row, world, actor)
            if observed != row.expected[actor]:
                failures.append(f"{actor} × {row.operation}: expected {row.expected[actor]}, got {observed}")
    return failures


def test_table_covers_every_operation():
    graphql_schema = build_schema()._schema
    queries = set(graphql_schema.query_type.fields)
    mutations = set(graphql_schema.mutation_type.fields)

    covered_queries = {row.covers for row in QUERY_ROWS}
    covered_mutations = {row.covers for row in MUTATION_ROWS}

    assert queries - covered_queries == set(), "query fields without a row in the authorization matrix"
    assert mutations - covered_mutations == set(), "mutations without a row in the authorization matrix"
    assert covered_queries - queries == set(), "rows for query fields the schema no longer has"
    assert covered_mutations - mutations == set(), "rows for mutations the schema no longer has"


def test_every_row_names_every_actor():
    for row in QUERY_ROWS + MUTATION_ROWS:
        assert set(row.expected) == set(ACTORS), row.operation


async def test_authorization_matrix(client, services):
    world = await build_world(client, services)

    # Queries first: the mutation cells add requests and activities that some query cells would see.
    failures = await run_rows(world, QUERY_ROWS)
    failures += await run_rows(world, MUTATION_ROWS)

    assert failures == [], "cells that differ from the table:\n" + "\n".join(failures)
