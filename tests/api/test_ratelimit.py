"""DataFast's rate-limit headers and 429 on the keyed APIs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from footfall.settings import Settings
from tests.support.servers import AppServer


@pytest.fixture
def limited(settings: Settings, city_dbs: dict[str, Path]) -> Iterator[AppServer]:
    with AppServer(settings.replace(api_rate_per_minute=3)) as server:
        yield server


def test_headers_then_429_then_a_new_window(limited: AppServer) -> None:
    server = limited
    _, key = server.add_site("example.com", scopes=("analytics:read",))
    _, other = server.add_site("example.org", scopes=("analytics:read",))
    url, auth = f"{server.url}/api/v1/analytics/overview", {"authorization": f"Bearer {key}"}
    now = server.clock.now_ms()
    reset = now - now % 60_000 + 60_000
    for remaining in (2, 1, 0):
        ok = httpx.get(url, headers=auth)
        assert ok.status_code == 200
        assert (ok.headers["x-ratelimit-limit"], ok.headers["x-ratelimit-remaining"]) == ("3", str(remaining))
        assert ok.headers["x-ratelimit-reset"] == str(reset)
    over = httpx.get(url, headers=auth)
    assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
    body = over.json()
    assert body["status"] == "error" and body["error"]["code"] == 429
    assert (body["limit"], body["remaining"], body["reset"]) == (3, 0, reset)
    # another key has its own window; PostMetric's routes count too
    assert (
        httpx.get(
            f"{server.url}/api/v1/visitor", params={"visitorId": "v"}, headers={"authorization": f"Bearer {other}"}
        ).status_code
        == 200
    )
    server.clock.advance(ms=reset - now)
    assert httpx.get(url, headers=auth).status_code == 200
