"""The browser pages the service serves: the public campaign map and GraphiQL.

Both are built from `web/` by `make web` (Node.js and npm) into a build
folder, which is served under /static. On a machine that has not built them,
the pages return 503 with the command to run, and the rest of the service
works as usual.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

logger = logging.getLogger(__name__)

DEFAULT_BUILD_DIR = Path(__file__).resolve().parent.parent / "web" / "dist"

BUILD_HINT = (
    "Run `make web` in the repository (it needs Node.js 20 or later and npm) to build the "
    "front end into web/dist, then reload this page."
)

# Every script, style, worker, font and data file of the pages comes from the
# service itself; the policy makes the browser reject anything else. Monaco, the
# editor in GraphiQL, sets inline styles, and GraphiQL's fonts are data: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'; "
    "style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)


_reported_missing: set[Path] = set()


def _not_built_page(title: str, status_code: int = 503) -> HTMLResponse:
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title} is not built</title></head><body>"
        f"<h1>{title} is not built</h1><p>{BUILD_HINT}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status_code)


def _page(build_dir: Path, relative: str, title: str, frame_ancestors: str) -> Response:
    path = build_dir / relative
    try:
        html = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if path not in _reported_missing:
            _reported_missing.add(path)
            logger.warning("%s requested but %s is missing; run `make web` (logged once per page)", title, path)
        return _not_built_page(title)
    headers = {"content-security-policy": f"{CONTENT_SECURITY_POLICY}; frame-ancestors {frame_ancestors}"}
    return HTMLResponse(html, headers=headers)


def campaign_map_page(build_dir: Path) -> Response:
    """Return the public campaign map page, which any site may embed in an iframe."""
    return _page(build_dir, "map/index.html", "The campaign map", frame_ancestors="*")


def graphiql_page(build_dir: Path) -> Response:
    """Return the GraphiQL page. It contains a password form, so no other site may frame it."""
    return _page(build_dir, "graphiql/index.html", "GraphiQL", frame_ancestors="'none'")


class BuildFiles(StaticFiles):
    """Static files of the front-end build; 404 with the build command while it is missing."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, check_dir=False)
        self.build_dir = directory

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        # The bundles keep their names from one build to the next, so browsers must
        # revalidate them (a 304 while unchanged) to pick up a new build.
        response = super().file_response(*args, **kwargs)
        response.headers["cache-control"] = "no-cache"
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.build_dir.is_dir():
            response = PlainTextResponse(f"The front end is not built. {BUILD_HINT}", status_code=404)
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def web_routes(build_dir: Path) -> list[Route | Mount]:
    """Routes of the campaign map page and of the built assets under /static."""

    async def campaign_map(request: Request) -> Response:
        return campaign_map_page(build_dir)

    return [
        Route("/map", campaign_map, methods=["GET"]),
        Mount("/static", app=BuildFiles(build_dir), name="static"),
    ]
