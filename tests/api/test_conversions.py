"""DataFast's server-side goals and payments: contract, errors, idempotence, attribution."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.collect import event, post
from tests.support.servers import AppServer


@pytest.fixture
def site(server: AppServer) -> tuple[str, str]:
    return server.add_site("example.com", scopes=("analytics:read", "goals:write", "payments:write", "identify:write"))


def call(server: AppServer, key: str, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, server.url + path, headers={"authorization": f"Bearer {key}"}, timeout=10, **kw)


def visitor(server: AppServer, key: str, vid: str) -> dict[str, Any]:
    response = call(server, key, "GET", f"/api/v1/visitors/{vid}")
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def test_server_goals_join_the_visitors_goals(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    vid = post(server.url, event(site_id, "https://example.com/pricing")).json()["visitorId"]
    server.clock.advance(seconds=5)
    body = {"datafast_visitor_id": vid, "name": "Signed Up", "metadata": {"plan": "<b>pro</b>", "seats": 3}}
    made = call(server, key, "POST", "/api/v1/goals", json=body)
    assert made.status_code == 200, made.text
    [answer] = made.json()["data"]
    assert answer["message"] == "Custom event created successfully" and answer["eventId"]
    row = server.store.read(
        lambda tx: tx.one("SELECT name, extra, path FROM events WHERE request_id = ?", (answer["eventId"],))
    )
    assert row["name"] == "signed_up" and row["path"] == "/pricing"
    assert json.loads(row["extra"]) == {"eventName": "signed_up", "server": True, "plan": "pro", "seats": "3"}
    goals = visitor(server, key, vid)["activity"]["completedGoals"]
    assert [(g["name"], g["origin"]) for g in goals] == [("signed_up", "manual")]
    also = call(server, key, "POST", "/api/v1/goals", json={"visitorId": vid, "name": "trial"})  # the alias
    assert also.status_code == 200
    gone = call(server, key, "DELETE", "/api/v1/goals", params={"datafast_visitor_id": vid, "name": "Signed Up"})
    assert gone.status_code == 200 and gone.json()["data"][0]["goal_name"] == "signed_up"
    assert [g["name"] for g in visitor(server, key, vid)["activity"]["completedGoals"]] == ["trial"]
    again = call(server, key, "DELETE", "/api/v1/goals", params={"datafast_visitor_id": vid, "name": "signed_up"})
    assert again.status_code == 404


def test_a_server_goal_on_a_folded_visit_counts_in_the_analytics(server: AppServer, site: tuple[str, str]) -> None:
    """Goals count from the rollups' visit columns: a goal a server adds to a visit already folded
    (or deletes from it) folds that visit's slot again, with or without filters."""
    site_id, key = site
    vid = post(server.url, event(site_id, "https://example.com/pricing")).json()["visitorId"]
    server.clock.advance(minutes=90)
    assert server.app.state.rollups.fold() > 0

    def goals(**filters: str) -> dict[str, int]:
        rows = call(server, key, "GET", "/api/v1/analytics/goals", params=filters).json()["data"]
        return {r["goal"]: r["completions"] for r in rows}

    assert call(server, key, "POST", "/api/v1/goals", json={"visitorId": vid, "name": "demo"}).status_code == 200
    server.app.state.rollups.fold()
    assert goals() == {"demo": 1} == goals(filter_page="is:/pricing")
    gone = call(server, key, "DELETE", "/api/v1/goals", params={"datafast_visitor_id": vid, "name": "demo"})
    assert gone.status_code == 200
    server.app.state.rollups.fold()
    assert goals() == {} == goals(filter_page="is:/pricing")


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"name": "x"}, 400, "datafast_visitor_id"),
        ({"datafast_visitor_id": "V", "name": ""}, 400, "name is required"),
        ({"datafast_visitor_id": "V", "name": "bad!name"}, 400, "lowercase"),
        ({"datafast_visitor_id": "V", "name": "identify"}, 400, "reserved"),
        ({"datafast_visitor_id": "V", "name": "x" * 65}, 400, "64"),
        ({"datafast_visitor_id": "V", "name": "ok", "metadata": {"Bad Key": "v"}}, 400, "metadata key"),
        ({"datafast_visitor_id": "V", "name": "ok", "metadata": {f"k{i}": "v" for i in range(11)}}, 400, "10 keys"),
        ({"datafast_visitor_id": "V", "name": "ok", "metadata": {"k": "v" * 256}}, 400, "255"),
        ({"datafast_visitor_id": "0190a4b2-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "name": "ok"}, 404, "no pageviews"),
    ],
)
def test_goal_errors(server: AppServer, site: tuple[str, str], body: dict[str, Any], status: int, words: str) -> None:
    site_id, key = site
    vid = post(server.url, event(site_id)).json()["visitorId"]
    if body.get("datafast_visitor_id") == "V":
        body["datafast_visitor_id"] = vid
    response = call(server, key, "POST", "/api/v1/goals", json=body)
    assert response.status_code == status and words in response.json()["error"]["message"]
    assert response.json()["status"] == "error"


def test_payments_are_idempotent_attributed_and_shown_as_goals(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    vid = post(server.url, event(site_id, "https://example.com/checkout")).json()["visitorId"]
    server.clock.advance(seconds=5)
    pay = {
        "amount": 49.0,
        "currency": "usd",
        "transaction_id": "tx_1",
        "datafast_visitor_id": vid,
        "email": "Buyer@Acme.com",
        "name": "Bea Buyer",
    }
    first = call(server, key, "POST", "/api/v1/payments", json=pay)
    assert first.status_code == 200 and first.json() == {
        "message": "Payment recorded and attributed successfully",
        "transaction_id": "tx_1",
    }
    dup = call(server, key, "POST", "/api/v1/payments", json=pay)
    assert dup.status_code == 200 and "duplicate" in dup.json()["message"]
    trial = {"amount": 0, "currency": "EUR", "transaction_id": "tx_2", "datafast_visitor_id": vid}
    renewal = {"amount": 49, "currency": "USD", "transaction_id": "tx_3", "datafast_visitor_id": vid, "renewal": True}
    refund = {"amount": 49, "currency": "USD", "transaction_id": "tx_4", "datafast_visitor_id": vid, "refunded": True}
    for body in (trial, renewal, refund):
        assert call(server, key, "POST", "/api/v1/payments", json=body).status_code == 200
    goals = visitor(server, key, vid)["activity"]["completedGoals"]
    assert [(g["name"], g["type"], g["origin"]) for g in goals] == [
        ("payment", "payment", "payment_provider"),
        ("free_trial", "free_trial", "payment_provider"),
        ("subscription_renewed", "subscription_lifecycle", "payment_provider"),
    ]
    # the customer's email identified the visitor (a payment is a first-party route to a person)
    [person] = call(server, key, "GET", "/api/v1/people").json()["data"]
    assert (
        person["email"] == "buyer@acme.com"
        and person["name"] == "Bea Buyer"
        and person["sources"]["email"] == "payment"
    )
    profile = visitor(server, key, vid)["profile"]  # a person without a user id: userId stays null
    assert profile["userId"] is None and profile["metadata"] == {"email": "buyer@acme.com", "name": "Bea Buyer"}
    rows = server.store.read(
        lambda tx: tx.all("SELECT transaction_id, visitor_num, person_num, free_trial FROM payments ORDER BY num")
    )
    assert [r["transaction_id"] for r in rows] == ["tx_1", "tx_2", "tx_3", "tx_4"] and rows[1]["free_trial"] == 1
    assert all(r["visitor_num"] is not None and r["person_num"] == rows[0]["person_num"] for r in rows)


def test_payment_attribution_falls_back_to_the_email_then_nobody(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    vid = post(server.url, event(site_id)).json()["visitorId"]
    post(
        server.url, event(site_id, type="identify", visitorId=vid, extraData={"user_id": "u1", "email": "kim@acme.com"})
    )
    by_email = call(
        server,
        key,
        "POST",
        "/api/v1/payments",
        json={"amount": 10, "currency": "USD", "transaction_id": "a", "email": "kim@acme.com"},
    )
    assert by_email.json()["message"] == "Payment recorded and attributed successfully"
    nobody = call(
        server, key, "POST", "/api/v1/payments", json={"amount": 10, "currency": "USD", "transaction_id": "b"}
    )
    assert nobody.json()["message"].startswith("Payment recorded successfully (not attributed")
    rows = server.store.read(
        lambda tx: tx.all("SELECT transaction_id, visitor_num, person_num FROM payments ORDER BY num")
    )
    assert rows[0]["person_num"] is not None and rows[0]["visitor_num"] is None
    assert rows[1]["person_num"] is None and rows[1]["visitor_num"] is None
    # in the analytics: the email's payment counts for its person's visitor, nobody's for no visitor
    for params in ({}, {"filter_page": "is:/"}):
        overview = call(server, key, "GET", "/api/v1/analytics/overview", params=params)
        assert overview.status_code == 200, overview.text
        totals = overview.json()["data"][0]
        assert (totals["payments"], totals["revenue"]) == ((2, 20.0) if not params else (1, 10.0)), params


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"currency": "USD", "transaction_id": "t"}, "amount"),
        ({"amount": -1, "currency": "USD", "transaction_id": "t"}, "amount"),
        ({"amount": "10", "currency": "USD", "transaction_id": "t"}, "amount"),
        ({"amount": 10, "currency": "dollars", "transaction_id": "t"}, "currency"),
        ({"amount": 10, "currency": "USD"}, "transaction_id"),
        ({"amount": 10, "currency": "USD", "transaction_id": "t", "renewal": "yes"}, "renewal"),
        ({"amount": 10, "currency": "USD", "transaction_id": "t", "timestamp": "yesterday"}, "timestamp"),
    ],
)
def test_payment_errors(server: AppServer, site: tuple[str, str], body: dict[str, Any], words: str) -> None:
    _, key = site
    response = call(server, key, "POST", "/api/v1/payments", json=body)
    assert response.status_code == 400 and words in response.json()["error"]["message"]


def test_delete_payments_and_scopes(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    vid = post(server.url, event(site_id)).json()["visitorId"]
    for tx_id in ("p1", "p2"):
        call(
            server,
            key,
            "POST",
            "/api/v1/payments",
            json={"amount": 5, "currency": "USD", "transaction_id": tx_id, "datafast_visitor_id": vid},
        )
    one = call(server, key, "DELETE", "/api/v1/payments", params={"tx_id": "p1", "datafast_visitor_id": "ignored"})
    assert one.status_code == 200 and one.json()["data"][0]["message"] == "Deleted 1 payment"
    assert call(server, key, "DELETE", "/api/v1/payments", params={"transaction_id": "p1"}).status_code == 404
    rest = call(server, key, "DELETE", "/api/v1/payments", params={"datafast_visitor_id": vid})
    assert rest.status_code == 200 and rest.json()["data"][0]["datafast_visitor_id"] == vid
    assert call(server, key, "DELETE", "/api/v1/payments").status_code == 400
    reader = server.add_site("other.example.com")[1]  # analytics:read only
    denied = call(
        server, reader, "POST", "/api/v1/payments", json={"amount": 1, "currency": "USD", "transaction_id": "x"}
    )
    assert denied.status_code == 403 and "payments:write" in denied.json()["error"]["message"]


def test_a_merge_takes_the_payments_along(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    a = post(server.url, event(site_id)).json()["visitorId"]
    b = post(server.url, event(site_id)).json()["visitorId"]
    post(server.url, event(site_id, type="identify", visitorId=a, extraData={"user_id": "old"}))
    post(server.url, event(site_id, type="identify", visitorId=b, extraData={"user_id": "new"}))
    call(
        server,
        key,
        "POST",
        "/api/v1/payments",
        json={"amount": 5, "currency": "USD", "transaction_id": "m1", "datafast_visitor_id": a},
    )
    found = {p["userId"]: p["id"] for p in call(server, key, "GET", "/api/v1/people").json()["data"]}
    merged = call(server, key, "POST", f"/api/v1/people/{found['new']}/merge", json={"personId": found["old"]})
    assert merged.status_code == 200
    kept = server.store.read(lambda tx: tx.one("SELECT num FROM people WHERE id = ?", (found["new"],)))
    paid = server.store.read(lambda tx: tx.one("SELECT person_num FROM payments WHERE transaction_id = 'm1'"))
    assert paid["person_num"] == kept["num"]


def test_delete_goals_by_time_range(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    vid = post(server.url, event(site_id)).json()["visitorId"]
    call(server, key, "POST", "/api/v1/goals", json={"datafast_visitor_id": vid, "name": "old"})
    server.clock.advance(minutes=60 * 24 * 3)
    post(server.url, event(site_id, visitorId=vid))
    call(server, key, "POST", "/api/v1/goals", json={"datafast_visitor_id": vid, "name": "new"})
    today = datetime.fromtimestamp(server.clock.now_ms() / 1000, UTC).date()
    earlier = (today - timedelta(days=5)).isoformat()
    yesterday = (today - timedelta(days=1)).isoformat()
    gone = call(server, key, "DELETE", "/api/v1/goals", params={"startAt": earlier, "endAt": yesterday})
    assert gone.status_code == 200 and gone.json()["data"][0]["message"] == "Deleted 1 goal"
    assert [g["name"] for g in visitor(server, key, vid)["activity"]["completedGoals"]] == ["new"]
    bad = call(server, key, "DELETE", "/api/v1/goals", params={"startAt": "soon"})
    assert bad.status_code == 400 and "startAt" in bad.json()["error"]["message"]
