"""Payment webhooks: Stripe and LemonSqueezy post here, footfall records the payments.

`POST /api/webhooks/stripe/{site_id}` and `/api/webhooks/lemonsqueezy/{site_id}` (or without the
site id, with `websiteId` in the payment's metadata, as PostMetric's). Each site keeps its
signing secrets (`footfall sites set SITE --stripe-secret whsec_... --lemonsqueezy-secret ...`).

- Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>`; v1 is HMAC-SHA256 of `<t>.<raw body>`
  with the endpoint's secret, and `t` must be within 5 minutes of now (Stripe's tolerance, which
  stops replays). `checkout.session.completed` and `payment_intent.succeeded` record a payment
  (one per payment intent, whichever comes first), `charge.refunded` marks it refunded.
- LemonSqueezy: `X-Signature: <hex>`, HMAC-SHA256 of the raw body with the webhook's secret.
  `order_created` records a payment, `subscription_payment_success` a renewal, `order_refunded`
  marks the order refunded.

Attribution as for `POST /api/v1/payments`: the visitor id in the metadata (`datafast_visitor_id`,
`visitorId`; LemonSqueezy's `custom_data`), else the customer's email, else nobody. Other event
types are acknowledged and ignored, so the provider does not retry them.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from footfall import accounts
from footfall.api.conversions import record_payment
from footfall.bounds import MAX_AMOUNT, OutOfBounds, check_json
from footfall.clock import Clock
from footfall.ids import VisitorSigner
from footfall.model import Site
from footfall.store.base import Store, Tx

TOLERANCE_S = 300
# Currencies Stripe counts in whole units (its list of zero-decimal currencies).
ZERO_DECIMAL = frozenset(
    ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]
)
VISITOR_KEYS = ("datafast_visitor_id", "visitorId", "visitor_id", "footfall_visitor_id")


def stripe_signature_ok(header: str | None, body: bytes, secret: str, now_s: int) -> str | None:
    """None when the signature holds, else why not."""
    if not header:
        return "missing Stripe-Signature header"
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    signatures = [v for k, v in parts if k == "v1"]
    if not stamps or not stamps[0].isdigit() or not signatures:
        return "malformed Stripe-Signature header"
    if abs(now_s - int(stamps[0])) > TOLERANCE_S:
        return "timestamp outside the tolerance zone"
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected.encode(), s.encode("utf-8", "replace")) for s in signatures):
        return "no signatures found matching the expected signature for payload"
    return None


def _visitor(meta: Any) -> str | None:
    if not isinstance(meta, dict):
        return None
    return next((str(meta[k]) for k in VISITOR_KEYS if meta.get(k)), None)


def _units(amount: Any, currency: str) -> float:
    """Minor units (as Stripe and LemonSqueezy send them) to major ones; ValueError past the bound."""
    cents = int(amount or 0)
    units = float(cents) if currency.upper() in ZERO_DECIMAL else cents / 100
    if not 0 <= units <= MAX_AMOUNT:
        raise ValueError(f"amount: from 0 to {MAX_AMOUNT:.0e} in major units")
    return units


def _payment(transaction: str, amount: float, currency: str, ts: int, **kw: Any) -> dict[str, Any]:
    return {
        "transaction_id": transaction,
        "amount": amount,
        "currency": currency.upper(),
        "visitor_id": kw.get("visitor_id"),
        "email": kw.get("email"),
        "name": kw.get("name"),
        "customer_id": kw.get("customer_id"),
        "renewal": bool(kw.get("renewal")),
        "refunded": False,
        "free_trial": amount == 0,
        "ts": ts,
    }


def from_stripe(event: dict[str, Any], now: int) -> tuple[str, dict[str, Any] | str | None]:
    """("payment", payment) | ("refund", transaction id) | ("ignored", None)."""
    kind, obj = event.get("type"), (event.get("data") or {}).get("object") or {}
    ts = int(event.get("created") or now // 1000) * 1000
    if kind == "checkout.session.completed":
        details = obj.get("customer_details") or {}
        currency = obj.get("currency") or "usd"
        return "payment", _payment(
            str(obj.get("payment_intent") or obj.get("id")),
            _units(obj.get("amount_total"), currency),
            currency,
            ts,
            visitor_id=_visitor(obj.get("metadata")),
            email=details.get("email") or obj.get("customer_email"),
            name=details.get("name"),
            customer_id=obj.get("customer"),
        )
    if kind == "payment_intent.succeeded":
        currency = obj.get("currency") or "usd"
        return "payment", _payment(
            str(obj.get("id")),
            _units(obj.get("amount_received", obj.get("amount")), currency),
            currency,
            ts,
            visitor_id=_visitor(obj.get("metadata")),
            email=obj.get("receipt_email"),
            customer_id=obj.get("customer"),
        )
    if kind == "charge.refunded":
        return "refund", str(obj.get("payment_intent") or obj.get("id"))
    return "ignored", None


def from_lemonsqueezy(event: dict[str, Any], now: int) -> tuple[str, dict[str, Any] | str | None]:
    meta, data = event.get("meta") or {}, event.get("data") or {}
    kind, attributes = meta.get("event_name"), data.get("attributes") or {}
    currency = attributes.get("currency") or "USD"
    if kind == "order_created":
        return "payment", _payment(
            f"ls_order_{data.get('id')}",
            _units(attributes.get("total"), currency),
            currency,
            now,
            visitor_id=_visitor(meta.get("custom_data")),
            email=attributes.get("user_email"),
            name=attributes.get("user_name"),
            customer_id=str(attributes["customer_id"]) if attributes.get("customer_id") else None,
        )
    if kind == "subscription_payment_success":
        return "payment", _payment(
            f"ls_invoice_{data.get('id')}",
            _units(attributes.get("total"), currency),
            currency,
            now,
            visitor_id=_visitor(meta.get("custom_data")),
            email=attributes.get("user_email"),
            name=attributes.get("user_name"),
            renewal=attributes.get("billing_reason") != "initial",
        )
    if kind == "order_refunded":
        return "refund", f"ls_order_{data.get('id')}"
    return "ignored", None


def apply(tx: Tx, signer: VisitorSigner, site: Site, outcome: tuple[str, Any], source: str) -> str:
    kind, value = outcome
    if kind == "payment":
        return record_payment(tx, signer, site, value, source)
    if kind == "refund":
        tx.execute("UPDATE payments SET refunded = 1 WHERE site_num = ? AND transaction_id = ?", (site.num, value))
        return "refunded"
    return "ignored"


def router(store: Store, signer: VisitorSigner, clock: Clock) -> APIRouter:
    api = APIRouter(prefix="/api/webhooks", tags=["Payment webhooks"])

    async def site_of(site_id: str | None, event: dict[str, Any]) -> Site | None:
        if site_id is None:  # PostMetric's form: the site in the payment's metadata
            obj = (event.get("data") or {}).get("object") or {}
            meta = obj.get("metadata") or (event.get("meta") or {}).get("custom_data") or {}
            site_id = meta.get("websiteId") or meta.get("datafast_website_id")
        if not site_id:
            return None
        return await run_in_threadpool(store.read, lambda tx: accounts.get_site(tx, str(site_id)))

    async def handle(request: Request, provider: str, site_id: str | None) -> JSONResponse:
        body = await request.body()
        try:
            event = msgspec.json.decode(body)
            check_json(event, "body")
        except (msgspec.DecodeError, OutOfBounds, RecursionError):
            return JSONResponse({"error": "body is not JSON"}, 400)
        if not isinstance(event, dict):
            return JSONResponse({"error": "body is not a JSON object"}, 400)
        site = await site_of(site_id, event)
        if site is None:
            return JSONResponse({"error": "unknown site: post to /api/webhooks/<provider>/<site id>"}, 404)
        secret = site.settings.get(f"{provider}_webhook_secret")
        if not secret:
            return JSONResponse({"error": f"no {provider} signing secret for this site (footfall sites set)"}, 400)
        now = clock.now_ms()
        if provider == "stripe":
            problem = stripe_signature_ok(request.headers.get("stripe-signature"), body, secret, now // 1000)
        else:
            expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            given = request.headers.get("x-signature") or ""
            matches = hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))
            problem = None if matches else "invalid X-Signature"
        if problem:
            return JSONResponse({"error": problem}, 400)
        try:  # only a signed body is read further
            outcome = from_stripe(event, now) if provider == "stripe" else from_lemonsqueezy(event, now)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": f"unusable payment: {exc}"}, 400)
        result = await run_in_threadpool(store.write, lambda tx: apply(tx, signer, site, outcome, provider))
        return JSONResponse({"received": True, "result": result})

    @api.post("/stripe", include_in_schema=False)
    async def stripe_any(request: Request) -> JSONResponse:
        return await handle(request, "stripe", None)

    @api.post("/stripe/{site_id}", summary="Stripe webhook")
    async def stripe(site_id: str, request: Request) -> JSONResponse:
        return await handle(request, "stripe", site_id)

    @api.post("/lemonsqueezy", include_in_schema=False)
    async def lemonsqueezy_any(request: Request) -> JSONResponse:
        return await handle(request, "lemonsqueezy", None)

    @api.post("/lemonsqueezy/{site_id}", summary="LemonSqueezy webhook")
    async def lemonsqueezy(site_id: str, request: Request) -> JSONResponse:
        return await handle(request, "lemonsqueezy", site_id)

    return api
