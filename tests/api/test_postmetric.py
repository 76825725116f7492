"""PostMetric's API: visitor, goal and payment, with its messages, driven as its docs show."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.support.collect import event, post
from tests.support.servers import AppServer


@pytest.fixture
def site(server: AppServer) -> tuple[str, str]:
    return server.add_site("example.com", scopes=("analytics:read", "goals:write", "payments:write"))


def call(server: AppServer, key: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return httpx.request(method, server.url + path, headers=headers, timeout=10, **kw)


def test_visitor_as_postmetric_shows_it(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    vid = post(server.url, event(site_id, "https://example.com/", title="Home", referrer="https://google.com/")).json()[
        "visitorId"
    ]
    server.clock.advance(seconds=90)
    post(server.url, event(site_id, "https://example.com/pricing", visitorId=vid, title="Pricing"))
    server.clock.advance(minutes=45)  # a second visit
    post(server.url, event(site_id, "https://example.com/docs", visitorId=vid))
    body = call(server, key, "GET", "/api/v1/visitor", params={"visitorId": vid}).json()
    assert body["status"] == "success"
    data = body["data"]
    assert (data["visitorId"], data["sessionCount"], data["pageViewCount"]) == (vid, 2, 3)
    older = data["sessions"][1]
    assert (older["pageViews"], older["duration"], older["device"], older["browser"], older["os"]) == (
        2,
        90,
        "desktop",
        "chrome",
        "mac os x",
    )
    assert older["country"] == "GB" and data["firstVisit"] == older["firstVisitAt"]
    assert [p["path"] for p in data["pageViews"]] == ["/docs", "/pricing", "/"]  # newest first
    assert data["pageViews"][2]["referrer"] == "https://google.com/" and data["pageViews"][2]["title"] == "Home"


def test_unknown_visitor_is_200_with_empty_arrays(server: AppServer, site: tuple[str, str]) -> None:
    _, key = site
    data = call(server, key, "GET", "/api/v1/visitor", params={"visitorId": "visitor_123"}).json()["data"]
    assert data == {
        "visitorId": "visitor_123",
        "sessionCount": 0,
        "pageViewCount": 0,
        "firstVisit": None,
        "lastVisit": None,
        "sessions": [],
        "pageViews": [],
    }


def test_postmetric_errors(server: AppServer, site: tuple[str, str]) -> None:
    _, key = site
    missing = call(server, key, "GET", "/api/v1/visitor")
    assert missing.status_code == 400
    assert missing.json() == {"status": "error", "error": {"code": 400, "message": "visitorId parameter is required"}}
    for bad_key in (None, "ff_nonsense"):
        denied = call(server, bad_key, "GET", "/api/v1/visitor", params={"visitorId": "v"})
        assert denied.status_code == 401
        assert denied.json()["error"]["message"] == "Unauthorized. Invalid or missing API key."
    no_event = call(server, key, "POST", "/api/v1/goal", json={"visitorId": "v"})
    assert no_event.status_code == 400 and no_event.json()["error"]["message"] == "event parameter is required"
    no_amount = call(server, key, "POST", "/api/v1/payment", json={"provider": "stripe", "providerPaymentId": "pi_1"})
    assert no_amount.status_code == 400
    assert no_amount.json()["error"]["message"] == "provider, providerPaymentId, and amount are required"


def test_goal_and_payment(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    vid = post(server.url, event(site_id, "https://example.com/checkout")).json()["visitorId"]
    goal = call(
        server,
        key,
        "POST",
        "/api/v1/goal",
        json={"event": "Upgrade Clicked", "value": 49, "visitorId": vid, "path": "/checkout"},
    )
    assert goal.status_code == 200 and goal.json() == {
        "status": "success",
        "data": {"message": "Goal event tracked successfully"},
    }
    paid = call(
        server,
        key,
        "POST",
        "/api/v1/payment",
        json={
            "provider": "stripe",
            "providerPaymentId": "pi_9",
            "amount": 49,
            "customerEmail": "pat@acme.com",
            "visitorId": vid,
        },
    )
    assert paid.status_code == 200 and paid.json()["data"] == {
        "paymentId": "pi_9",
        "message": "Payment recorded successfully",
    }
    rows = server.store.read(lambda tx: tx.all("SELECT name, extra FROM events WHERE type = 'custom'"))
    assert [r["name"] for r in rows] == ["Upgrade Clicked"]
    assert json.loads(rows[0]["extra"]) == {
        "eventName": "Upgrade Clicked",
        "server": True,
        "value": 49,
        "path": "/checkout",
    }
    payment = server.store.read(lambda tx: tx.one("SELECT amount, currency, email, visitor_num FROM payments"))
    assert (payment["amount"], payment["currency"], payment["email"]) == (49.0, "USD", "pat@acme.com") and payment[
        "visitor_num"
    ]
