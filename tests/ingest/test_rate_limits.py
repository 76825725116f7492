"""Collect's rate limits, per client address and per site: 429 with Retry-After in each dialect,
the whole request refused (nothing of it stored), nothing accepted before lost, open again in the
next minute."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from footfall.settings import Settings
from tests.support.collect import event, post
from tests.support.geo_dbs import CHANGCHUN_IP, ISP_IP, LONDON_IP, MIT_IP
from tests.support.servers import AppServer


@pytest.fixture
def limited(settings: Settings, city_dbs: dict[str, Path]) -> Iterator[AppServer]:
    tight = settings.replace(collect_rate_per_minute_ip=5, collect_rate_per_minute_site=8)
    with AppServer(tight.replace(geoip_city=str(city_dbs["geoip2"]))) as srv:
        yield srv


def stored(server: AppServer) -> int:
    return int(server.store.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM events")["n"]))


def test_per_address_and_per_site_limits(limited: AppServer) -> None:
    server = limited
    site, _ = server.add_site("example.com")
    server.clock.advance(seconds=60 - server.clock.now_ms() / 1000 % 60)  # the start of a minute
    for _ in range(5):
        assert post(server.url, event(site), ip=LONDON_IP).status_code == 202
    over = post(server.url, event(site), ip=LONDON_IP, headers={"origin": "https://example.com"})
    assert over.status_code == 429 and 1 <= int(over.headers["retry-after"]) <= 60
    assert over.json() == {"status": "error", "error": {"code": 429, "message": over.json()["error"]["message"]}}
    assert "5 events a minute from one address" in over.json()["error"]["message"]
    assert over.headers["access-control-allow-origin"]  # a browser can read it
    gif = httpx.get(f"{server.url}/api/events.gif", params={"websiteId": site, "href": "https://example.com/"},
                    headers={"x-forwarded-for": LONDON_IP, "user-agent": "Mozilla/5.0 Chrome/126.0"})  # fmt: skip
    assert gif.status_code == 429 and gif.headers["content-type"] == "image/gif" and "retry-after" in gif.headers
    track = httpx.post(f"{server.url}/api/track", params={"site": site}, json={"href": "https://example.com/"},
                       headers={"x-forwarded-for": LONDON_IP, "user-agent": "Mozilla/5.0 Chrome/126.0"})  # fmt: skip
    assert track.status_code == 429 and "retry-after" in track.headers
    goal = httpx.get(f"{server.url}/api/goals/track", params={"site": site, "event": "signup"},
                     headers={"x-forwarded-for": LONDON_IP, "user-agent": "Mozilla/5.0 Chrome/126.0"})  # fmt: skip
    assert goal.status_code == 429 and "retry-after" in goal.headers and "from one address" in goal.json()["error"]

    # the site's budget: 8 events a minute, 5 already in; a batch of 3 fits, the next is refused whole
    batch = [event(site, f"https://example.com/{i}") for i in range(3)]
    assert post(server.url, batch, ip=MIT_IP, path="/api/events/batch").status_code == 202
    refused = post(server.url, batch, ip=ISP_IP, path="/api/events/batch")
    assert refused.status_code == 429 and "for this site" in refused.json()["error"]["message"]
    assert stored(server) == 8  # everything acknowledged, nothing of the refused requests
    other, _ = server.add_site("other.example.org")
    assert post(server.url, event(other, "https://other.example.org/"), ip=CHANGCHUN_IP).status_code == 202

    server.clock.advance(seconds=61)  # a new minute
    assert post(server.url, event(site), ip=LONDON_IP).status_code == 202
    assert stored(server) == 10


def test_default_limits_are_configurable_and_can_be_off(settings: Settings) -> None:
    assert settings.collect_rate_per_minute_ip == 12_000 and settings.collect_rate_per_minute_site == 0
    with AppServer(settings.replace(collect_rate_per_minute_ip=0)) as server:
        site, _ = server.add_site("example.com")
        batch = [event(site, f"https://example.com/{i}") for i in range(500)]
        for _ in range(30):  # 15,000 events from one address in a minute
            assert post(server.url, batch, ip=LONDON_IP, path="/api/events/batch").status_code == 202
