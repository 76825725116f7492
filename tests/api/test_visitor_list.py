"""DataFast's GET /api/v1/visitors: range, filters, pagination, errors; on both stores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.support.collect import event, post
from tests.support.geo_dbs import LONDON_IP, TOKYO_IP
from tests.support.servers import UA_CHROME_MAC, UA_IPHONE, AppServer


@pytest.fixture
def site(server: AppServer) -> tuple[str, str]:
    return server.add_site("example.com", scopes=("analytics:read", "payments:write"))


def listed(server: AppServer, key: str, **params: Any) -> list[str]:
    response = httpx.get(f"{server.url}/api/v1/visitors", params=params, headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return [row["visitorId"] for row in response.json()["data"]]


@pytest.fixture
def population(server: AppServer, site: tuple[str, str]) -> dict[str, str]:
    """Three visitors a minute apart: a London Chrome user from Google on /pricing who signs up,
    a Tokyo iPhone user from a newsletter on /blog/post-1, and a direct London visitor who pays."""
    site_id, key = site
    start = server.clock.now_ms()
    a = post(
        server.url, event(site_id, "https://example.com/pricing", referrer="https://www.google.com/"), ip=LONDON_IP
    ).json()["visitorId"]
    post(
        server.url,
        event(site_id, "https://example.com/", type="custom", visitorId=a, extraData={"eventName": "signup"}),
    )
    server.clock.advance(minutes=1)
    b = post(
        server.url,
        event(site_id, "https://example.com/blog/post-1?utm_source=newsletter&utm_term=spring"),
        ip=TOKYO_IP,
        ua=UA_IPHONE,
    ).json()["visitorId"]
    server.clock.advance(minutes=1)
    c = post(server.url, event(site_id, "https://example.com/"), ip=LONDON_IP, ua=UA_CHROME_MAC).json()["visitorId"]
    httpx.post(
        f"{server.url}/api/v1/payments",
        json={"amount": 9, "currency": "USD", "transaction_id": "t1", "datafast_visitor_id": c},
        headers={"authorization": f"Bearer {key}"},
    )
    return {"a": a, "b": b, "c": c, "start": str(start)}


def test_filters(server: AppServer, site: tuple[str, str], population: dict[str, str]) -> None:
    _, key = site
    a, b, c = population["a"], population["b"], population["c"]
    assert listed(server, key) == [c, b, a]  # latest activity first
    cases = [
        ({"country": "GB"}, [c, a]),
        ({"country": "japan"}, [b]),
        ({"city": "London"}, [c, a]),
        ({"browser": "mobile safari"}, [b]),
        ({"os": "ios,android"}, [b]),
        ({"device": "desktop"}, [c, a]),
        ({"referrer": "google"}, [a]),
        ({"utm_source": "newsletter"}, [b]),
        ({"utm_term": "spring"}, [b]),
        ({"utm_term": "autumn"}, []),
        ({"hostname": "example.com"}, [c, b, a]),
        ({"visitedPage": "/pricing,/nope"}, [a]),
        ({"page": "/"}, [c]),
        ({"pageContains": "post"}, [b]),
        ({"completedGoal": "signup"}, [a]),
        ({"isCustomer": "true"}, [c]),
        ({"hasRevenue": "false"}, [b, a]),
        ({"country": "GB", "device": "desktop", "visitedPage": "/"}, [c]),
    ]
    for params, expected in cases:
        assert listed(server, key, **params) == expected, params


def test_range_pagination_and_rows(server: AppServer, site: tuple[str, str], population: dict[str, str]) -> None:
    _, key = site
    a, b, c = population["a"], population["b"], population["c"]
    first = httpx.get(
        f"{server.url}/api/v1/visitors", params={"limit": 2}, headers={"authorization": f"Bearer {key}"}
    ).json()
    assert [r["visitorId"] for r in first["data"]] == [c, b] and first["pagination"] == {
        "offset": 0,
        "limit": 2,
        "hasMore": True,
    }
    rest = httpx.get(
        f"{server.url}/api/v1/visitors", params={"limit": 2, "offset": 2}, headers={"authorization": f"Bearer {key}"}
    ).json()
    assert [r["visitorId"] for r in rest["data"]] == [a] and rest["pagination"]["hasMore"] is False
    row = first["data"][1]
    assert row["currentUrl"] == "example.com/blog/post-1" and row["identity"]["country"] == "Japan"
    assert row["acquisition"]["utm_source"] == "newsletter" and row["lastSeenAt"].endswith("Z")
    start = int(population["start"])
    day = datetime.fromtimestamp(start / 1000, UTC).date().isoformat()
    assert listed(server, key, startAt=day, endAt=day) == [c, b, a]
    assert listed(server, key, startAt="2001-01-01", endAt="2001-01-02") == []


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"startAt": "2026-01-01"}, "together"),
        ({"startAt": "2026-02-01", "endAt": "2026-01-01"}, "before"),
        ({"startAt": "yesterday", "endAt": "today"}, "YYYY-MM-DD"),
        ({"limit": "251"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"country": ",".join(f"c{i}" for i in range(51))}, "50"),
        ({"completedGoal": "signup", "isCustomer": "true"}, "combined"),
        ({"isCustomer": "maybe"}, "true or false"),
    ],
)
def test_errors(server: AppServer, site: tuple[str, str], params: dict[str, str], words: str) -> None:
    _, key = site
    response = httpx.get(f"{server.url}/api/v1/visitors", params=params, headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 400 and words in response.json()["error"]["message"]
