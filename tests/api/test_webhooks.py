"""Stripe and LemonSqueezy webhooks, signed as the providers sign them, posted to the real server."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from footfall import accounts
from tests.support.collect import event, post
from tests.support.servers import AppServer

STRIPE_SECRET = "whsec_test_secret"
LS_SECRET = "lemon-secret"


@pytest.fixture
def site(server: AppServer) -> tuple[str, str]:
    site_id, key = server.add_site("example.com", scopes=("analytics:read",))
    secrets = {"stripe_webhook_secret": STRIPE_SECRET, "lemonsqueezy_webhook_secret": LS_SECRET}
    server.store.write(lambda tx: accounts.update_site_settings(tx, site_id, secrets))
    return site_id, key


def stripe_post(
    server: AppServer, path: str, payload: dict[str, Any], *, secret: str = STRIPE_SECRET, age_s: int = 0
) -> httpx.Response:
    body = json.dumps(payload).encode()
    t = str(server.clock.now_ms() // 1000 - age_s)
    signature = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return httpx.post(
        server.url + path,
        content=body,
        headers={"Stripe-Signature": f"t={t},v1={signature}", "content-type": "application/json"},
    )


def ls_post(server: AppServer, path: str, payload: dict[str, Any], secret: str = LS_SECRET) -> httpx.Response:
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return httpx.post(
        server.url + path, content=body, headers={"X-Signature": signature, "content-type": "application/json"}
    )


def payments(server: AppServer) -> list[dict[str, Any]]:
    return server.store.read(lambda tx: tx.all("SELECT * FROM payments ORDER BY num"))


def test_stripe_checkout_then_intent_then_refund(server: AppServer, site: tuple[str, str]) -> None:
    site_id, _ = site
    vid = post(server.url, event(site_id)).json()["visitorId"]
    checkout = {
        "id": "evt_1",
        "type": "checkout.session.completed",
        "created": server.clock.now_ms() // 1000,
        "data": {
            "object": {
                "id": "cs_1",
                "payment_intent": "pi_1",
                "amount_total": 4900,
                "currency": "usd",
                "customer_details": {"email": "Pay@Acme.com", "name": "Pat"},
                "metadata": {"datafast_visitor_id": vid},
            }
        },
    }
    ok = stripe_post(server, f"/api/webhooks/stripe/{site_id}", checkout)
    assert ok.status_code == 200 and ok.json() == {"received": True, "result": "attributed"}
    intent = {
        "id": "evt_2",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_1", "amount_received": 4900, "currency": "usd", "metadata": {}}},
    }
    assert stripe_post(server, f"/api/webhooks/stripe/{site_id}", intent).json()["result"] == "duplicate"
    [paid] = payments(server)
    assert (paid["transaction_id"], paid["amount"], paid["currency"], paid["email"], paid["source"]) == (
        "pi_1",
        49.0,
        "USD",
        "pay@acme.com",
        "stripe",
    )
    assert paid["visitor_num"] is not None and paid["refunded"] == 0
    refund = {"id": "evt_3", "type": "charge.refunded", "data": {"object": {"id": "ch_1", "payment_intent": "pi_1"}}}
    assert stripe_post(server, f"/api/webhooks/stripe/{site_id}", refund).json()["result"] == "refunded"
    assert payments(server)[0]["refunded"] == 1
    yen = {
        "id": "evt_4",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {"id": "pi_2", "amount_received": 500, "currency": "jpy", "metadata": {"websiteId": site_id}}
        },
    }
    assert stripe_post(server, "/api/webhooks/stripe", yen).json()["result"] == "unattributed"  # the site from metadata
    assert payments(server)[1]["amount"] == 500.0  # a zero-decimal currency
    ignored = stripe_post(
        server, f"/api/webhooks/stripe/{site_id}", {"id": "evt_5", "type": "customer.created", "data": {"object": {}}}
    )
    assert ignored.json()["result"] == "ignored"


def test_stripe_signatures_are_checked(server: AppServer, site: tuple[str, str]) -> None:
    site_id, _ = site
    payload = {
        "id": "evt",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_x", "amount_received": 100, "currency": "usd"}},
    }
    wrong = stripe_post(server, f"/api/webhooks/stripe/{site_id}", payload, secret="whsec_other")
    assert wrong.status_code == 400 and "signature" in wrong.json()["error"]
    stale = stripe_post(server, f"/api/webhooks/stripe/{site_id}", payload, age_s=301)
    assert stale.status_code == 400 and "tolerance" in stale.json()["error"]
    unsigned = httpx.post(f"{server.url}/api/webhooks/stripe/{site_id}", json=payload)
    assert unsigned.status_code == 400 and "Stripe-Signature" in unsigned.json()["error"]
    other, _ = server.add_site("no-secret.example.com")
    assert stripe_post(server, f"/api/webhooks/stripe/{other}", payload).status_code == 400
    assert stripe_post(server, "/api/webhooks/stripe/nosuchsite", payload).status_code == 404
    assert payments(server) == []


def test_lemonsqueezy_order_renewal_refund(server: AppServer, site: tuple[str, str]) -> None:
    site_id, _ = site
    vid = post(server.url, event(site_id)).json()["visitorId"]
    order = {
        "meta": {"event_name": "order_created", "custom_data": {"visitorId": vid}},
        "data": {
            "id": "77",
            "attributes": {"total": 1999, "currency": "EUR", "user_email": "lee@globex.io", "user_name": "Lee"},
        },
    }
    assert ls_post(server, f"/api/webhooks/lemonsqueezy/{site_id}", order).json()["result"] == "attributed"
    renewal = {
        "meta": {"event_name": "subscription_payment_success", "custom_data": {"visitorId": vid}},
        "data": {"id": "901", "attributes": {"total": 1999, "currency": "EUR", "billing_reason": "renewal"}},
    }
    assert ls_post(server, f"/api/webhooks/lemonsqueezy/{site_id}", renewal).status_code == 200
    refund = {"meta": {"event_name": "order_refunded"}, "data": {"id": "77", "attributes": {}}}
    assert ls_post(server, f"/api/webhooks/lemonsqueezy/{site_id}", refund).json()["result"] == "refunded"
    rows = payments(server)
    assert [(r["transaction_id"], r["amount"], r["renewal"], r["refunded"]) for r in rows] == [
        ("ls_order_77", 19.99, 0, 1),
        ("ls_invoice_901", 19.99, 1, 0),
    ]
    bad = ls_post(server, f"/api/webhooks/lemonsqueezy/{site_id}", order, secret="wrong")
    assert bad.status_code == 400 and "X-Signature" in bad.json()["error"]
