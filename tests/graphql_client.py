"""A small GraphQL-over-HTTP client for tests that run against the ASGI app in process."""

from __future__ import annotations

from typing import Any

import httpx


class GraphQLError(AssertionError):
    """Raised by `GraphQLClient.execute` when the response has top-level errors."""


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict:
        """POST a document and return the whole response body (data and errors)."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        assert response.headers["content-type"].startswith("application/"), response.text
        return response.json()

    async def execute(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict:
        """POST a document and return its data; fail the test on any top-level error."""
        body = await self.post(query, variables, token)
        if body.get("errors"):
            raise GraphQLError(f"unexpected GraphQL errors: {body['errors']}")
        return body["data"]
