"""Helpers to post events the way the tracker and server-side senders do."""

from __future__ import annotations

from typing import Any

import httpx

from footfall.queries.visitors import SESSION_CONTEXT
from tests.support.geo_dbs import LONDON_IP
from tests.support.servers import UA_CHROME_MAC


def event(site: str, href: str = "https://example.com/", **fields: Any) -> dict[str, Any]:
    return {"websiteId": site, "href": href, "type": "pageview", **fields}


# one client for every helper call: httpx.post() would build a client (and its TLS context) each
# time, about 30 ms, which dominated tests that send hundreds of events
CLIENT = httpx.Client(timeout=10)


def post(
    url: str,
    body: Any,
    *,
    ua: str = UA_CHROME_MAC,
    ip: str = LONDON_IP,
    headers: dict[str, str] | None = None,
    path: str = "/api/events",
) -> httpx.Response:
    return CLIENT.post(url + path, json=body, headers={"user-agent": ua, "x-forwarded-for": ip, **(headers or {})})


# Events with their visitor's and session's public ids (rows refer to each other by integer keys),
# and the device, place and source their session keeps.
EVENTS = (
    "SELECT e.*, v.id AS visitor_id, s.id AS session_id, st.id AS site_id, " + SESSION_CONTEXT + " FROM events e "
    "JOIN visitors v ON v.num = e.visitor_num JOIN sessions s ON s.num = e.session_num "
    "JOIN sites st ON st.num = e.site_num"
)
