"""GraphQL over HTTP through the ASGI app: media types, status codes, methods, body rules."""

from __future__ import annotations

import json

import pytest

from tests.conftest import count_rows
from tests.factories import verified_member

VIEWER = "{ viewer { id } }"
INVALID = "{ viewer { notAField } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"
REGISTER = """
mutation {
  register(input: {email: "cross-site@example.org", password: "correct horse battery",
                   firstName: "Cross", lastName: "Site"}) { userErrors { code } }
}
"""


def codes(body: dict) -> list[str | None]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


async def test_graphql_response_json_when_accepted(client):
    response = await client.http.post("/graphql", json={"query": VIEWER}, headers={"accept": GRAPHQL_RESPONSE})

    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.json() == {"data": {"viewer": None}}


async def test_graphql_response_json_validation_error_is_400(client):
    response = await client.http.post("/graphql", json={"query": INVALID}, headers={"accept": GRAPHQL_RESPONSE})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in response.json()
    assert response.json()["errors"]


async def test_graphql_response_json_parse_error_is_400(client):
    response = await client.http.post("/graphql", json={"query": "{ viewer {"}, headers={"accept": GRAPHQL_RESPONSE})

    assert response.status_code == 400
    assert "Syntax Error" in response.json()["errors"][0]["message"]


async def test_graphql_response_json_variable_error_is_400(client):
    query = "query($id: ID!) { node(id: $id) { id } }"

    response = await client.http.post(
        "/graphql", json={"query": query, "variables": {"id": {"not": "an id"}}}, headers={"accept": GRAPHQL_RESPONSE}
    )

    assert response.status_code == 400
    assert "data" not in response.json()


async def test_graphql_response_json_field_error_is_200(client):
    # An UNAUTHENTICATED error is raised while a field resolves: the operation ran.
    mutation = 'mutation { updateProfile(input: {role: "Teacher"}) { user { id } } }'

    response = await client.http.post("/graphql", json={"query": mutation}, headers={"accept": GRAPHQL_RESPONSE})

    assert response.status_code == 200
    assert "data" in response.json()
    assert codes(response.json()) == ["UNAUTHENTICATED"]


async def test_application_json_validation_error_is_200(client):
    response = await client.http.post("/graphql", json={"query": INVALID}, headers={"accept": "application/json"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json()["errors"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        (f"text/html;q=0.9, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
    ],
)
async def test_accept_header_picks_media_type(client, accept, expected):
    headers = {"accept": accept} if accept is not None else {}
    request = client.http.build_request("POST", "/graphql", json={"query": VIEWER}, headers=headers)
    if accept is None:
        del request.headers["accept"]

    response = await client.http.send(request)

    assert response.status_code == 200
    assert response.headers["content-type"] == f"{expected}; charset=utf-8"


@pytest.mark.parametrize("accept", ["text/csv", "application/xml", f"{GRAPHQL_RESPONSE};q=0"])
async def test_unsupported_accept_is_406(client, accept):
    response = await client.http.post("/graphql", json={"query": VIEWER}, headers={"accept": accept})

    assert response.status_code == 406
    assert codes(response.json()) == ["NOT_ACCEPTABLE"]


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", json.dumps({"query": REGISTER})),
        ("application/x-www-form-urlencoded", "query=" + REGISTER),
        ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="query"\r\n\r\nq\r\n--x--'),
        ("application/json; charset=latin-1", json.dumps({"query": REGISTER})),
    ],
)
async def test_non_json_post_is_415(client, services, content_type, content):
    response = await client.http.post("/graphql", content=content, headers={"content-type": content_type})

    assert response.status_code == 415
    assert codes(response.json()) == ["UNSUPPORTED_MEDIA_TYPE"]
    assert await count_rows(services, "member") == 0


async def test_post_without_content_type_is_415(client):
    request = client.http.build_request("POST", "/graphql", content=json.dumps({"query": VIEWER}))
    request.headers.pop("content-type", None)

    response = await client.http.send(request)

    assert response.status_code == 415


async def test_get_mutation_is_405(client, services):
    response = await client.http.get("/graphql", params={"query": REGISTER}, headers={"accept": "application/json"})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response.json()) == ["METHOD_NOT_ALLOWED"]
    assert await count_rows(services, "member") == 0


async def test_query_over_get_runs(client):
    response = await client.http.get("/graphql", params={"query": VIEWER}, headers={"accept": "application/json"})

    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


async def test_other_methods_are_405(client):
    response = await client.http.put("/graphql", json={"query": VIEWER})

    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


async def test_batched_request_is_400(client, services):
    batch = [{"query": REGISTER}, {"query": VIEWER}]

    response = await client.http.post("/graphql", json=batch)

    assert response.status_code == 400
    assert codes(response.json()) == ["BATCHING_NOT_SUPPORTED"]
    assert await count_rows(services, "member") == 0


async def test_invalid_json_body_is_400(client):
    response = await client.http.post("/graphql", content=b"{not json", headers={"content-type": "application/json"})

    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_REQUEST"]


async def test_body_over_limit_is_413(client, services):
    padding = " " * services.settings.max_body_bytes
    content = json.dumps({"query": VIEWER + padding})

    response = await client.http.post("/graphql", content=content, headers={"content-type": "application/json"})

    assert response.status_code == 413
    assert codes(response.json()) == ["REQUEST_TOO_LARGE"]


async def test_chunked_body_over_limit_is_413(client, services):
    chunk = b" " * 65_536
    chunks_needed = services.settings.max_body_bytes // len(chunk) + 2

    async def body():
        yield b'{"query": "{ viewer { id } }"'
        for _ in range(chunks_needed):
            yield chunk
        yield b"}"

    response = await client.http.post("/graphql", content=body(), headers={"content-type": "application/json"})

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert codes(response.json()) == ["REQUEST_TOO_LARGE"]


async def test_chunked_body_within_limit_runs(client):
    async def body():
        yield b'{"query": '
        yield json.dumps(VIEWER).encode()
        yield b"}"

    response = await client.http.post("/graphql", content=body(), headers={"content-type": "application/json"})

    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}


async def test_response_carries_non_ascii_text_as_utf8(client, services):
    member = await verified_member(client, services, "zoe@example.org", first_name="Zoë", last_name="Łukasik-Jönsson")

    response = await client.http.post(
        "/graphql",
        json={"query": "{ viewer { firstName lastName } }"},
        headers={"authorization": f"Bearer {member.token}"},
    )

    assert response.headers["content-type"] == "application/json; charset=utf-8"
    # The characters themselves, not \u escapes, and the body reads back to the same names.
    assert "Zoë".encode() in response.content
    assert "Łukasik-Jönsson".encode() in response.content
    assert json.loads(response.content.decode("utf-8")) == {
        "data": {"viewer": {"firstName": "Zoë", "lastName": "Łukasik-Jönsson"}}
    }
