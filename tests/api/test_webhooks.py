"""Stripe, LemonSqueezy, Polar and Paddle webhooks, signed as the providers sign them, posted to the
real server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import standardwebhooks

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


POLAR_SECRET = "polar_whs_3xQkT0eZr1yB9mWcV2nL8pHs"  # Polar's secrets are used as their bytes
PADDLE_SECRET = "pdl_ntfset_01hv8wxyz_AbCdEfGhIjKlMnOpQrStUvWxYz"


@pytest.fixture
def billed(server: AppServer) -> str:
    site_id, _ = server.add_site("shop.example.com")
    secrets = {"polar_webhook_secret": POLAR_SECRET, "paddle_webhook_secret": PADDLE_SECRET}
    server.store.write(lambda tx: accounts.update_site_settings(tx, site_id, secrets))
    return site_id


def polar_post(server: AppServer, site: str, payload: dict[str, Any], *, secret: str = POLAR_SECRET,
               age_s: int = 0, msg_id: str = "msg_1") -> httpx.Response:  # fmt: skip
    """Signed with the Standard Webhooks library, keyed as Polar keys it (the secret's bytes)."""
    body = json.dumps(payload)
    sent_at = datetime.now(UTC) - timedelta(seconds=age_s)
    signature = standardwebhooks.Webhook(base64.b64encode(secret.encode()).decode()).sign(msg_id, sent_at, body)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(sent_at.timestamp())),
               "webhook-signature": signature, "content-type": "application/json"}  # fmt: skip
    return httpx.post(f"{server.url}/api/webhooks/polar/{site}", content=body.encode(), headers=headers)


def polar_order(kind: str, order_id: str, **fields: Any) -> dict[str, Any]:
    order = {"id": order_id, "created_at": "2026-12-01T10:00:00Z", "status": "paid", "paid": True,
             "total_amount": 4900, "currency": "usd", "billing_reason": "purchase", "refunded_amount": 0,
             "customer_id": "cus_1", "customer": {"id": "cus_1", "email": "ana@initech.com", "name": "Ana"},
             "metadata": {}} | fields  # fmt: skip
    return {"type": kind, "timestamp": "2026-12-01T10:00:01Z", "data": order}


def test_polar_orders_renewals_and_refunds(server: AppServer, billed: str) -> None:
    vid = post(server.url, event(billed, "https://shop.example.com/")).json()["visitorId"]
    paid = polar_order("order.paid", "o1", metadata={"datafast_visitor_id": vid})
    assert polar_post(server, billed, paid).json()["result"] == "attributed"
    assert polar_post(server, billed, paid, msg_id="msg_2").json()["result"] == "duplicate"  # retried: once
    created = polar_order("order.created", "o1", metadata={"datafast_visitor_id": vid})
    assert polar_post(server, billed, created).json()["result"] == "duplicate"  # the same order, announced twice
    cycle = polar_order("order.paid", "o2", billing_reason="subscription_cycle", total_amount=4900)
    assert polar_post(server, billed, cycle).json()["result"] == "attributed"  # by the customer's email
    partial = polar_order("order.refunded", "o1", status="partially_refunded", refunded_amount=900)
    assert polar_post(server, billed, partial).json()["result"] == "ignored"
    whole = polar_order("order.refunded", "o1", status="refunded", refunded_amount=4900)
    assert polar_post(server, billed, whole).json()["result"] == "refunded"
    rows = payments(server)
    assert [(r["transaction_id"], r["amount"], r["currency"], r["renewal"], r["refunded"]) for r in rows] == [
        ("polar_order_o1", 49.0, "USD", 0, 1),
        ("polar_order_o2", 49.0, "USD", 1, 0),
    ]
    assert rows[0]["visitor_num"] is not None and rows[0]["email"] == "ana@initech.com"


def test_polar_signatures_are_checked(server: AppServer, billed: str) -> None:
    paid = polar_order("order.paid", "o9")
    forged = polar_post(server, billed, paid, secret="polar_whs_someone_else")
    assert forged.status_code == 400 and "signature" in forged.json()["error"].lower()
    stale = polar_post(server, billed, paid, age_s=600)
    assert stale.status_code == 400 and "timestamp" in stale.json()["error"].lower()
    unsigned = httpx.post(f"{server.url}/api/webhooks/polar/{billed}", json=paid)
    assert unsigned.status_code == 400 and payments(server) == []


def paddle_post(server: AppServer, site: str, payload: dict[str, Any], *, secret: str = PADDLE_SECRET,
                age_s: int = 0) -> httpx.Response:  # fmt: skip
    """Signed as Paddle Billing signs: h1 = HMAC-SHA256(secret, "<ts>:<raw body>")."""
    body = json.dumps(payload).encode()
    ts = str(server.clock.now_ms() // 1000 - age_s)
    h1 = hmac.new(secret.encode(), ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"Paddle-Signature": f"ts={ts};h1={h1}", "content-type": "application/json"}
    return httpx.post(f"{server.url}/api/webhooks/paddle/{site}", content=body, headers=headers)


def paddle_transaction(txn: str, **fields: Any) -> dict[str, Any]:
    data = {"id": txn, "status": "completed", "currency_code": "EUR", "customer_id": "ctm_1", "origin": "web",
            "billed_at": "2026-12-01T10:00:00Z", "custom_data": {},
            "details": {"totals": {"total": "2500", "grand_total": "2500"}}} | fields  # fmt: skip
    return {"event_id": f"evt_{txn}", "event_type": "transaction.completed", "occurred_at": "2026-12-01T10:00:01Z",
            "data": data}  # fmt: skip


def test_paddle_transactions_renewals_and_refunds(server: AppServer, billed: str) -> None:
    vid = post(server.url, event(billed, "https://shop.example.com/")).json()["visitorId"]
    first = paddle_transaction("txn_1", custom_data={"datafast_visitor_id": vid})
    assert paddle_post(server, billed, first).json()["result"] == "attributed"
    assert paddle_post(server, billed, first).json()["result"] == "duplicate"
    renewal = paddle_transaction("txn_2", origin="subscription_recurring")
    assert paddle_post(server, billed, renewal).json()["result"] == "unattributed"  # Paddle sends no email
    refund = {"id": "adj_1", "action": "refund", "type": "partial", "status": "approved", "transaction_id": "txn_1"}
    adjustment: dict[str, Any] = {"event_type": "adjustment.created", "data": refund}
    assert paddle_post(server, billed, adjustment).json()["result"] == "ignored"
    adjustment["event_type"], adjustment["data"]["status"] = "adjustment.created", "pending_approval"
    adjustment["data"]["type"] = "full"
    assert paddle_post(server, billed, adjustment).json()["result"] == "ignored"  # not refunded yet
    adjustment["event_type"], adjustment["data"]["status"] = "adjustment.updated", "approved"
    assert paddle_post(server, billed, adjustment).json()["result"] == "refunded"
    rows = payments(server)
    assert [(r["transaction_id"], r["amount"], r["currency"], r["renewal"], r["refunded"]) for r in rows] == [
        ("paddle_txn_1", 25.0, "EUR", 0, 1),
        ("paddle_txn_2", 25.0, "EUR", 1, 0),
    ]
    forged = paddle_post(server, billed, first, secret="pdl_ntfset_other")
    assert forged.status_code == 400 and "signature" in forged.json()["error"]
    stale = paddle_post(server, billed, paddle_transaction("txn_3"), age_s=900)
    assert stale.status_code == 400 and "tolerance" in stale.json()["error"]
    assert len(payments(server)) == 2
