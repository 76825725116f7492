"""Serving the tracker script and building the snippet a site owner pastes.

The script is built from tracker/src (see tracker/README.md) into static/script.js.
`/js/script.js` reads its settings from the script tag's data- attributes;
`/p/{pixel_id}.js` is the same script with the site's settings written in, so a
pixel needs no attributes (Floqer's `pixel_script`). A site's pixel id is its site id.
`/js/script.cookieless.js` (static/script.cookieless.js) stores nothing in the browser: the
server knows its visitors by a daily salted hash (ingest/cookieless.py).

The scripts go out compressed as the browser asks (brotli, else gzip; each compressed once and
kept), with an ETag (304 when the browser has it), `Vary: Accept-Encoding` and an hour's caching,
so the budgets of tracker/README.md hold without a compressing proxy in front.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Awaitable, Callable
from functools import lru_cache
from importlib import resources

import brotli
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from footfall.model import Site

SCRIPT_PATHS = ("/js/script.js",)
PRESET_SLOT = b'"%%FOOTFALL_PRESET%%"'  # a string literal in the built script (tracker/src/config.js)
HEADERS = {"cache-control": "public, max-age=3600", "access-control-allow-origin": "*", "vary": "Accept-Encoding"}
ENCODINGS = ("br", "gzip")  # the server's preference, when the browser accepts both

SiteLookup = Callable[[str], Awaitable[Site | None]]


def script_source(name: str = "script.js") -> bytes:
    return (resources.files("footfall") / "static" / name).read_bytes()


LOCAL_DOMAINS = ("localhost", "127.0.0.1", "[::1]")  # the tracker runs there only when allowed


def snippet(base_url: str, site_id: str, domain: str) -> str:
    """The script tag for a site; a site on localhost gets `data-allow-localhost` (the tracker
    does not run on a local address otherwise, so a test install would count nothing)."""
    base = base_url.rstrip("/")
    local = ' data-allow-localhost="true"' if domain in LOCAL_DOMAINS else ""
    attributes = f'data-website-id="{site_id}" data-domain="{domain}"{local}'
    return f'<script defer {attributes} src="{base}/js/script.js"></script>'


def pixel_script(base_url: str, site_id: str) -> str:
    return f'<script defer src="{base_url.rstrip("/")}/p/{site_id}.js"></script>'


def with_preset(script: bytes, site: Site) -> bytes:
    """The script with the site's settings in place of the preset slot (attributes still win)."""
    preset = {"website-id": site.id, "domain": site.domain}
    if site.allowed_hostnames:
        preset["allowed-hostnames"] = ",".join(site.allowed_hostnames)
    if site.domain in LOCAL_DOMAINS:
        preset["allow-localhost"] = "true"
    if site.settings.get("device_signals") is False:
        preset["disable-device"] = "true"
    if site.settings.get("consent_required"):
        preset["consent-required"] = "true"
    if site.settings.get("form_capture"):
        preset["form-capture"] = "true"
    literal = json.dumps(json.dumps(preset, separators=(",", ":"))).encode()
    return script.replace(PRESET_SLOT, literal, 1)


@lru_cache(maxsize=4096)  # the plain scripts and each site's pixel (its preset changes the bytes)
def encoded(body: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return bytes(brotli.compress(body, mode=brotli.MODE_TEXT, quality=11))
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=9, mtime=0)
    return body


def accepted(header: str) -> str:
    """The encoding to answer with: brotli or gzip when the browser accepts it (q=0 refuses)."""
    offered = {}
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            offered[name.strip()] = float(q)
        except ValueError:
            continue
    return next((e for e in ENCODINGS if offered.get(e, offered.get("*", 0)) > 0), "identity")


def script_response(request: Request, body: bytes) -> Response:
    encoding = accepted(request.headers.get("accept-encoding", ""))
    tag = '"' + hashlib.sha256(body).hexdigest()[:20] + ("" if encoding == "identity" else "-" + encoding) + '"'
    headers = {**HEADERS, "etag": tag}
    if tag in (t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")):
        return Response(status_code=304, headers=headers)
    if encoding != "identity":
        headers["content-encoding"] = encoding
    return Response(encoded(body, encoding), media_type="application/javascript", headers=headers)


def tracker_routes(sites: SiteLookup) -> list[Route]:
    body = script_source()
    if PRESET_SLOT not in body:
        raise RuntimeError("static/script.js has no preset slot: rebuild it with `npm run build` in tracker/")

    async def script(request: Request) -> Response:
        return script_response(request, body)

    async def pixel(request: Request) -> Response:
        site = await sites(request.path_params["pixel_id"])
        if site is None:
            return PlainTextResponse("// footfall: no site with this pixel id\n", 404)
        return script_response(request, with_preset(body, site))

    cookieless_body = script_source("script.cookieless.js")

    async def cookieless(request: Request) -> Response:
        return script_response(request, cookieless_body)

    return [
        *(Route(path, script, methods=["GET"]) for path in SCRIPT_PATHS),
        Route("/js/script.cookieless.js", cookieless, methods=["GET"]),
        Route("/p/{pixel_id}.js", pixel, methods=["GET"]),
    ]
