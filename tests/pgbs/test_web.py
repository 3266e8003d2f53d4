"""The routes of the browser pages, with and without a front-end build, through the ASGI app."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from pgbs.app import build_services, create_app
from pgbs.settings import Settings

HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def fake_build(tmp_path: Path) -> Path:
    """A build folder with stand-in pages, so that these tests do not need Node.js."""
    build = tmp_path / "dist"
    (build / "map").mkdir(parents=True)
    (build / "graphiql").mkdir()
    (build / "map" / "index.html").write_text("<!doctype html><title>map page</title>")
    (build / "map" / "map.js").write_text("console.log('map');")
    (build / "graphiql" / "index.html").write_text("<!doctype html><title>graphiql page</title>")
    return build


async def http_client(settings: Settings, build: Path) -> AsyncIterator[httpx.AsyncClient]:
    services = build_services(dataclasses.replace(settings, web_build_dir=str(build)))
    application = create_app(services=services)
    try:
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield http
    finally:
        await services.database.dispose()


@pytest.fixture
async def built(settings: Settings, fake_build: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for http in http_client(settings, fake_build):
        yield http


@pytest.fixture
async def not_built(settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for http in http_client(settings, tmp_path / "missing"):
        yield http


async def test_map_page_served_from_build(built: httpx.AsyncClient) -> None:
    response = await built.get("/map?country=FR")

    assert response.status_code == 200
    assert "map page" in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors *" in policy
    assert "x-frame-options" not in response.headers


async def test_graphiql_page_replaces_strawberry_page(built: httpx.AsyncClient) -> None:
    response = await built.get("/graphql", headers=HTML)

    assert response.status_code == 200
    assert "graphiql page" in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_static_assets_served(built: httpx.AsyncClient) -> None:
    response = await built.get("/static/map/map.js")

    assert response.status_code == 200
    assert response.text == "console.log('map');"
    assert response.headers["cache-control"] == "no-cache"
    unchanged = await built.get("/static/map/map.js", headers={"if-none-match": response.headers["etag"]})
    assert unchanged.status_code == 304
    assert (await built.get("/static/map/absent.js")).status_code == 404


async def test_map_page_without_build_says_make_web(not_built: httpx.AsyncClient) -> None:
    response = await not_built.get("/map")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "make web" in response.text


async def test_graphiql_without_build_says_make_web(not_built: httpx.AsyncClient) -> None:
    response = await not_built.get("/graphql", headers=HTML)

    assert response.status_code == 503
    assert "make web" in response.text
    assert "cdn" not in response.text.lower()


async def test_static_without_build_says_make_web(not_built: httpx.AsyncClient) -> None:
    response = await not_built.get("/static/map/map.js")

    assert response.status_code == 404
    assert "make web" in response.text


async def test_api_works_without_build(not_built: httpx.AsyncClient) -> None:
    response = await not_built.post("/graphql", json={"query": "{ viewer { id } }"})

    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}
    health = await not_built.get("/healthz")
    assert health.status_code == 200
