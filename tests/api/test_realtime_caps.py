"""[T7] 7: realtime answers stay small however many visitors arrive: the map pages its visitors
(`limit`, `offset`; `count` is all of them), the feed has its last events with goal names, and the
dashboard's realtime page shows one page at a time."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.collect import CLIENT
from tests.support.servers import UA_CHROME_MAC, AppServer


def _arrive(server: AppServer, site: str, n: int) -> None:
    """`n` new visitors, in batches (one request may carry 500 events of different browsers)."""
    events = [{"websiteId": site, "href": f"https://example.com/p{i % 7}", "type": "pageview"} for i in range(n)]

    def send(chunk: list[dict[str, object]]) -> int:
        body = json.dumps({"events": chunk})
        headers = {"user-agent": UA_CHROME_MAC, "content-type": "application/json"}
        return CLIENT.post(server.url + "/api/events/batch", content=body, headers=headers).status_code

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(send, [events[i : i + 500] for i in range(0, n, 500)])) == {202}


def test_the_realtime_map_pages_its_visitors(server: AppServer) -> None:
    site, key = server.add_site("example.com")
    _arrive(server, site, 1200)
    goal = {
        "websiteId": site,
        "href": "https://example.com/buy",
        "type": "custom",
        "extraData": {"eventName": "checkout"},
    }
    CLIENT.post(server.url + "/api/events", json=goal, headers={"user-agent": UA_CHROME_MAC})
    auth = {"authorization": f"Bearer {key}"}
    first = httpx.get(f"{server.url}/api/v1/analytics/realtime/map", params={"websiteId": site}, headers=auth).json()
    data = first["data"]
    assert data["count"] == 1201 and len(data["visitors"]) == 100 and data["pagination"]["hasMore"]
    assert len(data["recentEvents"]) == 50 and data["recentEvents"][0]["name"] == "checkout"
    assert len(json.dumps(first)) < 200_000  # was 5.5 MB for 10,000 visitors
    seen = {v["visitorId"] for v in data["visitors"]}
    offset = 100
    while True:
        page = httpx.get(f"{server.url}/api/v1/analytics/realtime/map", headers=auth,
                         params={"websiteId": site, "limit": 500, "offset": offset}).json()["data"]  # fmt: skip
        seen |= {v["visitorId"] for v in page["visitors"]}
        offset += 500
        if not page["pagination"]["hasMore"]:
            break
    assert len(seen) == 1201  # every visitor on exactly one page
    too_many = httpx.get(f"{server.url}/api/v1/analytics/realtime/map", headers=auth,
                         params={"websiteId": site, "limit": 5000})  # fmt: skip
    assert too_many.status_code == 400
