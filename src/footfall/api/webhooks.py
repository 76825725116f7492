"""Payment webhooks: Stripe, LemonSqueezy, Polar and Paddle post here, footfall records the payments.

`POST /api/webhooks/<provider>/{site_id}` (or, for Stripe and LemonSqueezy, without the site id,
with `websiteId` in the payment's metadata, as PostMetric's). Each site keeps its signing secrets
(`footfall sites set SITE --stripe-secret whsec_... --lemonsqueezy-secret ... --polar-secret ...
--paddle-secret ...`). How each provider signs and what each event records:
api/payment_providers.py. Payments are idempotent on the provider's id (a retried or duplicated
delivery records nothing twice); a refund marks its payment refunded.
"""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from footfall import accounts
from footfall.api.conversions import record_payment
from footfall.api.payment_providers import (
    from_lemonsqueezy,
    from_paddle,
    from_polar,
    from_stripe,
    lemonsqueezy_signature_ok,
    paddle_signature_ok,
    polar_signature_ok,
    stripe_signature_ok,
)
from footfall.bounds import OutOfBounds, check_json
from footfall.clock import Clock
from footfall.ids import VisitorSigner
from footfall.model import Site
from footfall.store.base import Store, Tx

READERS = {"stripe": from_stripe, "lemonsqueezy": from_lemonsqueezy, "polar": from_polar, "paddle": from_paddle}


def signature_problem(provider: str, request: Request, body: bytes, secret: str, now_s: int) -> str | None:
    h = request.headers
    if provider == "stripe":
        return stripe_signature_ok(h.get("stripe-signature"), body, secret, now_s)
    if provider == "lemonsqueezy":
        return lemonsqueezy_signature_ok(h.get("x-signature"), body, secret)
    if provider == "polar":
        return polar_signature_ok({k.lower(): v for k, v in h.items()}, body, secret)
    return paddle_signature_ok(h.get("paddle-signature"), body, secret, now_s)


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
        problem = signature_problem(provider, request, body, secret, now // 1000)
        if problem:
            return JSONResponse({"error": problem}, 400)
        try:  # only a signed body is read further
            outcome = READERS[provider](event, now)
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

    @api.post("/polar/{site_id}", summary="Polar webhook")
    async def polar(site_id: str, request: Request) -> JSONResponse:
        return await handle(request, "polar", site_id)

    @api.post("/paddle/{site_id}", summary="Paddle webhook")
    async def paddle(site_id: str, request: Request) -> JSONResponse:
        return await handle(request, "paddle", site_id)

    return api
