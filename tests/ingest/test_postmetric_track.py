"""PostMetric's script endpoints: /api/track (GIF, _pm_vid/_pm_sid cookies, CORS *) and /api/goals/track."""

from __future__ import annotations

import json

import httpx

from tests.support.collect import EVENTS
from tests.support.servers import UA_CHROME_MAC, AppServer


def stored(server: AppServer, site: str) -> list[dict]:
    return server.store.read(lambda tx: tx.all(EVENTS + " WHERE st.id = ? ORDER BY e.id", (site,)))


def test_track_sets_cookies_and_keeps_the_visitor(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    client = httpx.Client(base_url=server.url, headers={"user-agent": UA_CHROME_MAC, "x-forwarded-for": "81.2.69.160"})
    body = {
        "websiteId": site,
        "href": "https://example.com/pricing?utm_source=x",
        "type": "pageview",
        "title": "Pricing",
        "viewport": {"width": 1200, "height": 800},
    }
    first = client.post(f"/api/track?site={site}", content=json.dumps(body), headers={"origin": "https://example.com"})
    assert (
        first.status_code == 200 and first.headers["content-type"] == "image/gif" and first.content.startswith(b"GIF")
    )
    assert first.headers["access-control-allow-origin"] == "*"
    vid, sid = first.cookies["_pm_vid"], first.cookies["_pm_sid"]
    assert len(vid) == 36 and sid.startswith("s")
    exit_link = {
        "href": "https://example.com/pricing",
        "type": "exit_link",
        "extraData": {"exitUrl": "https://github.com/x", "exitLinkText": "GitHub"},
    }
    second = client.post(
        f"/api/track?site={site}", content=json.dumps(exit_link), headers={"cookie": f"_pm_vid={vid}; _pm_sid={sid}"}
    )
    assert second.status_code == 200
    third = client.get(
        "/api/track", params={"site": site, "href": "https://example.com/docs"}, headers={"cookie": f"_pm_vid={vid}"}
    )
    assert third.status_code == 200
    rows = stored(server, site)
    assert [(r["type"], r["path"]) for r in rows] == [
        ("pageview", "/pricing"),
        ("external_link", "/pricing"),
        ("pageview", "/docs"),
    ]
    assert {r["visitor_id"] for r in rows} == {vid} and json.loads(rows[1]["extra"]) == {
        "url": "https://github.com/x",
        "text": "GitHub",
    }
    assert rows[0]["title"] == "Pricing" and rows[0]["viewport_width"] == 1200


def test_goal_pixel(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    client = httpx.Client(base_url=server.url, headers={"user-agent": UA_CHROME_MAC})
    vid = client.post(f"/api/track?site={site}", content=json.dumps({"href": "https://example.com/"})).cookies[
        "_pm_vid"
    ]
    pixel = client.get(
        "/api/goals/track",
        params={"site": site, "event": "Newsletter Signup", "value": "3", "path": "/blog"},
        headers={"cookie": f"_pm_vid={vid}"},
    )
    assert pixel.status_code == 204 and pixel.headers["access-control-allow-origin"] == "*"
    goal = stored(server, site)[-1]
    assert (goal["type"], goal["name"], goal["path"], goal["visitor_id"]) == (
        "custom",
        "newsletter_signup",
        "/blog",
        vid,
    )
    assert json.loads(goal["extra"])["value"] == 3.0
    assert client.get("/api/goals/track", params={"site": site}).status_code == 400
    assert client.post("/api/track", content=b"not json").status_code == 400
