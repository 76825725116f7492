"""PostMetric's API: visitor, goal and payment, with its messages, driven as its docs show."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from footfall import pending_goals
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
    assert data["pageViews"][2]["referrer"] == "google.com" and data["pageViews"][2]["title"] == "Home"
    assert data["pageViews"][0]["referrer"] == "direct" and data["pageViews"][0]["title"] == ""


def test_unknown_visitor_is_200_with_empty_arrays(server: AppServer, site: tuple[str, str]) -> None:
    _, key = site
    data = call(server, key, "GET", "/api/v1/visitor", params={"visitorId": "visitor_123"}).json()["data"]
    assert data == {
        "visitorId": "visitor_123",
        "sessionCount": 0,
        "pageViewCount": 0,
        "sessions": [],  # firstVisit and lastVisit are left out, as PostMetric's are (undefined)
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


# PostMetric's field lists (../shared/specs/postmetric.md, its visitor route and models): every
# documented field, with the JSON type a typed client expects. footfall's own additions may follow.
VISITOR_FIELDS = {"visitorId": str, "sessionCount": int, "pageViewCount": int, "firstVisit": str, "lastVisit": str,
                  "sessions": list, "pageViews": list}  # fmt: skip
SESSION_FIELDS = {"sessionId": str, "firstVisitAt": str, "lastSeenAt": str, "pageViews": int, "duration": int,
                  "device": str, "browser": str, "os": str, "country": str}  # fmt: skip
PAGEVIEW_FIELDS = {"path": str, "title": str, "timestamp": str, "referrer": str}


def typed(value: dict[str, Any], fields: dict[str, type]) -> dict[str, str]:
    """The documented fields that are missing or of the wrong JSON type."""
    return {k: type(value.get(k)).__name__ for k, t in fields.items() if not isinstance(value.get(k), t)}


def test_the_visitor_contract_holds_even_for_a_visit_footfall_knows_little_about(
    server: AppServer, site: tuple[str, str]
) -> None:
    site_id, key = site
    bare = event(site_id, "https://example.com/", title=None, referrer=None)  # no title, no referrer
    vid = post(server.url, bare, ip="127.0.0.1").json()["visitorId"]  # an address with no location
    data = call(server, key, "GET", "/api/v1/visitor", params={"visitorId": vid}).json()["data"]
    assert typed(data, VISITOR_FIELDS) == {}
    assert [typed(s, SESSION_FIELDS) for s in data["sessions"]] == [{}]
    assert [typed(p, PAGEVIEW_FIELDS) for p in data["pageViews"]] == [{}]
    assert data["sessions"][0]["country"] == "unknown" and data["pageViews"][0]["referrer"] == "direct"


def goals_of(server: AppServer) -> list[dict[str, Any]]:
    return server.store.read(
        lambda tx: tx.all(
            "SELECT e.name, e.extra, v.id AS visitor_id, s.id AS session_id FROM events e "
            "JOIN visitors v ON v.num = e.visitor_num JOIN sessions s ON s.num = e.session_num "
            "WHERE e.type = 'custom' ORDER BY e.id"
        )
    )


def attach(server: AppServer) -> int:
    return pending_goals.attach(server.store, server.app.state.components.signer, server.clock.now_ms())


def test_a_goal_with_only_a_session_joins_that_visit(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    visit = post(server.url, event(site_id, "https://example.com/pricing")).json()
    sent = call(server, key, "POST", "/api/v1/goal", json={"event": "demo_booked", "sessionId": visit["sessionId"],
                                                          "plan": "pro", "seats": 5})  # fmt: skip
    assert sent.status_code == 200
    [goal] = goals_of(server)
    assert (goal["visitor_id"], goal["session_id"]) == (visit["visitorId"], visit["sessionId"])
    assert json.loads(goal["extra"]) == {"eventName": "demo_booked", "server": True, "plan": "pro", "seats": "5",
                                         "path": "/"}  # fmt: skip


def test_a_goal_for_a_visitor_not_seen_yet_waits_for_its_page_view(server: AppServer, site: tuple[str, str]) -> None:
    """The server's goal raced the browser's first page view: it is kept, counted, and joins the
    visit once the page view arrives (PostMetric's tracker's visitor ids are the browser's own)."""
    site_id, key = site
    browser_id = "6f1c2d3e-4b5a-4978-8a9b-0c1d2e3f4a5b"
    sent = call(server, key, "POST", "/api/v1/goal", json={"event": "signup", "visitorId": browser_id})
    assert sent.status_code == 200 and sent.json()["data"] == {"message": "Goal event tracked successfully"}
    assert attach(server) == 0 and goals_of(server) == []
    analytics = call(server, key, "GET", "/api/v1/analytics/goals").json()["data"]
    assert analytics == [{"goal": "signup", "completions": 1, "visitors": 1}]  # counted while it waits
    post(server.url, event(site_id, "https://example.com/welcome", visitorId=browser_id))
    assert attach(server) == 1
    [goal] = goals_of(server)
    visitor = call(server, key, "GET", "/api/v1/visitor", params={"visitorId": browser_id}).json()["data"]
    assert goal["session_id"] == visitor["sessions"][0]["sessionId"]
    assert call(server, key, "GET", "/api/v1/analytics/goals").json()["data"] == analytics  # counted once


def test_a_goal_that_names_nobody_counts_only_in_the_totals(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    post(server.url, event(site_id, "https://example.com/"))
    assert call(server, key, "POST", "/api/v1/goal", json={"event": "webhook_signup", "value": 10}).status_code == 200
    assert attach(server) == 0 and goals_of(server) == []
    analytics = call(server, key, "GET", "/api/v1/analytics/goals").json()["data"]
    assert analytics == [{"goal": "webhook_signup", "completions": 1, "visitors": 0}]  # no visitor made up


@pytest.mark.parametrize("how", ["sessionId", "metadata.visitorId", "metadata.sessionId"])
def test_payments_are_attributed_by_session_and_metadata(server: AppServer, site: tuple[str, str], how: str) -> None:
    site_id, key = site
    visit = post(server.url, event(site_id, "https://example.com/checkout")).json()
    ids = {"visitorId": visit["visitorId"], "sessionId": visit["sessionId"]}
    where, _, name = how.rpartition(".")
    body: dict[str, Any] = {"provider": "stripe", "providerPaymentId": f"pi_{name}", "amount": 19.5}
    if where:
        body["metadata"] = {name: ids[name]}
    else:
        body[name] = ids[name]
    assert call(server, key, "POST", "/api/v1/payment", json=body).status_code == 200
    row = server.store.read(
        lambda tx: tx.one("SELECT v.id FROM payments p JOIN visitors v ON v.num = p.visitor_num")
    )  # fmt: skip
    assert row is not None and row["id"] == visit["visitorId"]
