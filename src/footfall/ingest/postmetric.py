"""PostMetric's script endpoints: `GET|POST /api/track?site=` (a 1x1 GIF that sets `_pm_vid` and
`_pm_sid`, CORS `*`) and `GET /api/goals/track?site=&event=&value=&path=` (an image-pixel goal,
204, ids from those cookies). Both go through the same collect path as footfall's own events.

PostMetric's body: `{websiteId, domain, href, referrer, viewport, visitorId, sessionId,
adClickIds?, type: pageview|payment|exit_link, path, title, hostname, extraData?}`; an exit link
(`{exitUrl, exitLinkText}`) is footfall's `external_link`. The visitor and session ids come from
the body, else the cookies.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from footfall.ingest.endpoint import GIF, Collector, read_body
from footfall.ingest.payloads import PayloadError, Size, WireEvent

YEAR_S, HALF_HOUR_S = 365 * 86_400, 1_800
TYPES = {"pageview": "pageview", "payment": "payment", "exit_link": "external_link", "custom": "custom"}


def _text(data: dict[str, Any], key: str) -> str | None:
    """A string field of PostMetric's body (absent or empty: None); anything else is refused."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{key}: must be a string")
    return value


def _object(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PayloadError(f"{key}: must be an object")
    return value


def _size(viewport: dict[str, Any] | None) -> Size | None:
    if viewport is None:
        return None
    sizes = [viewport.get(k) for k in ("width", "height")]
    if any(v is not None and (isinstance(v, bool) or not isinstance(v, int)) for v in sizes):
        raise PayloadError("viewport: width and height are integers")
    return Size(*sizes)


def wire_event(data: dict[str, Any], site: str | None, cookies: dict[str, str]) -> WireEvent:
    kind = TYPES.get(str(data.get("type") or "pageview"))
    if kind is None:
        raise PayloadError(f"type: one of {', '.join(TYPES)}")
    extra: dict[str, Any] = _object(data, "extraData") or {}
    if kind == "external_link":
        extra = {
            "url": extra.get("exitUrl") or extra.get("url"),
            "text": extra.get("exitLinkText") or extra.get("text"),
        }
    return WireEvent(
        websiteId=_text(data, "websiteId") or site or "",
        href=_text(data, "href") or "",
        type=kind,
        referrer=_text(data, "referrer"),
        title=_text(data, "title"),
        visitorId=_text(data, "visitorId") or cookies.get("_pm_vid"),
        sessionId=_text(data, "sessionId") or cookies.get("_pm_sid"),
        viewport=_size(_object(data, "viewport")),
        adClickIds=_object(data, "adClickIds"),
        extraData={k: v for k, v in extra.items() if v is not None},
    )


def cors_any(response: Response) -> Response:
    response.headers["access-control-allow-origin"] = "*"
    return response


def routes(collector: Collector) -> list[Route]:
    async def track(request: Request) -> Response:
        if request.method == "OPTIONS":
            return cors_any(Response(status_code=204, headers={"access-control-allow-headers": "content-type"}))
        try:
            if request.method == "POST":
                data = msgspec.json.decode(await read_body(request, collector.max_body))
                if not isinstance(data, dict):
                    raise PayloadError("body must be a JSON object")
            else:
                data = dict(request.query_params)
                data.setdefault("href", request.headers.get("referer") or "")
            wire = wire_event(data, request.query_params.get("site"), dict(request.cookies))
        except (msgspec.DecodeError, PayloadError) as exc:
            return cors_any(JSONResponse({"error": str(exc)}, 400))
        answer = await collector.collect(request, [wire], single=True)
        gif = Response(GIF, status_code=200 if answer.status_code < 300 else answer.status_code, media_type="image/gif")
        gif.headers["cache-control"] = "no-store"
        if "retry-after" in answer.headers:
            gif.headers["retry-after"] = answer.headers["retry-after"]
        ids = json.loads(bytes(answer.body)) if answer.status_code < 300 else {}
        visitor = ids.get("browserId") or ids.get("visitorId")
        secure = request.url.scheme == "https"
        if visitor:
            gif.set_cookie("_pm_vid", visitor, max_age=YEAR_S, samesite="lax", secure=secure)
        if ids.get("sessionId"):
            gif.set_cookie("_pm_sid", ids["sessionId"], max_age=HALF_HOUR_S, samesite="lax", secure=secure)
        return cors_any(gif)

    async def goal(request: Request) -> Response:
        q = request.query_params
        site = await collector.sites.get(q.get("site") or "")
        if site is None or not q.get("event"):
            return cors_any(JSONResponse({"error": "site and event are required"}, 400))
        path = q.get("path") or "/"
        href = request.headers.get("referer") or f"https://{site.domain}{path if path.startswith('/') else '/' + path}"
        extra: dict[str, Any] = {"eventName": q["event"].strip().lower().replace(" ", "_")[:64]}
        try:
            if q.get("value"):
                extra["value"] = float(q["value"])
            wire = wire_event({"type": "custom", "href": href, "extraData": extra}, site.id, dict(request.cookies))
        except (ValueError, PayloadError) as exc:
            return cors_any(JSONResponse({"error": str(exc)}, 400))
        answer = await collector.collect(request, [wire], single=True)
        if answer.status_code >= 300:  # PostMetric's envelope
            message = json.loads(bytes(answer.body))["error"]["message"]
            retry = {"retry-after": answer.headers["retry-after"]} if "retry-after" in answer.headers else None
            return cors_any(JSONResponse({"error": message}, answer.status_code, headers=retry))
        return cors_any(Response(status_code=204))

    return [
        Route("/api/track", track, methods=["GET", "POST", "OPTIONS"]),
        Route("/api/goals/track", goal, methods=["GET"]),
    ]
