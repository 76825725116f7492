"""Serving the tracker script and building the snippet a site owner pastes."""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SCRIPT_PATHS = ("/js/script.js",)


def script_source() -> bytes:
    return (resources.files("footfall") / "static" / "script.js").read_bytes()


def snippet(base_url: str, site_id: str, domain: str) -> str:
    base = base_url.rstrip("/")
    return f'<script defer data-website-id="{site_id}" data-domain="{domain}" src="{base}/js/script.js"></script>'


def tracker_routes() -> list[Route]:
    body = script_source()

    async def script(request: Request) -> Response:
        return Response(
            body,
            media_type="application/javascript",
            headers={"cache-control": "public, max-age=3600", "access-control-allow-origin": "*"},
        )

    return [Route(path, script, methods=["GET"]) for path in SCRIPT_PATHS]
