"""The PostMetric dialect: `GET /api/v1/visitor`, `POST /api/v1/goal`, `POST /api/v1/payment`
(../shared/specs/postmetric.md; PostMetric's identify is in api/people.py).

Keys and scopes are footfall's (`analytics:read` to read, `goals:write`, `payments:write`), with
PostMetric's messages: 401 `Unauthorized. Invalid or missing API key.`, 400 `visitorId parameter is
required`, `event parameter is required`, `provider, providerPaymentId, and amount are required`.
An unknown visitor reads as 200 with empty arrays, as PostMetric's does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from footfall.api.auth import Authenticator
from footfall.api.bodies import json_object
from footfall.api.conversions import TAGS, add_goal, parse_payment, record_payment
from footfall.api.errors import ApiError
from footfall.clock import Clock, iso_ms
from footfall.ids import VisitorSigner
from footfall.queries.visitors import find_visitor, marks, resolution, visitor_group
from footfall.store.base import Store, Tx

MAX_SESSIONS, MAX_PAGEVIEWS = 100, 1000  # what PostMetric's implementation reads
DIALECT = "postmetric"


def visitor_json(tx: Tx, signer: VisitorSigner, site_id: str, visitor_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "visitorId": visitor_id,
        "sessionCount": 0,
        "pageViewCount": 0,
        "firstVisit": None,
        "lastVisit": None,
        "sessions": [],
        "pageViews": [],
    }
    browser = find_visitor(tx, signer, site_id, visitor_id)
    if browser is None:
        return body
    body["resolution"] = resolution(browser)  # footfall's addition: how this browser was resolved
    nums = visitor_group(tx, browser)[1]
    group = marks(nums)
    sessions = tx.all(
        f"SELECT id, started_at, last_seen, pageviews, device_type, browser, os, country_code FROM sessions "
        f"WHERE visitor_num IN ({group}) ORDER BY started_at DESC, num DESC LIMIT ?",
        (*nums, MAX_SESSIONS),
    )
    pages = tx.all(
        f"SELECT path, title, ts, referrer FROM events WHERE visitor_num IN ({group}) AND type = 'pageview' "
        "ORDER BY ts DESC, id DESC LIMIT ?",
        (*nums, MAX_PAGEVIEWS),
    )
    body |= {
        "sessionCount": len(sessions),  # as PostMetric counts: the sessions returned
        "pageViewCount": len(pages),
        "firstVisit": iso_ms(sessions[-1]["started_at"]) if sessions else None,
        "lastVisit": iso_ms(sessions[0]["last_seen"]) if sessions else None,
        "sessions": [
            {
                "sessionId": s["id"],
                "firstVisitAt": iso_ms(s["started_at"]),
                "lastSeenAt": iso_ms(s["last_seen"]),
                "pageViews": s["pageviews"],
                "duration": (s["last_seen"] - s["started_at"]) // 1000,
                "device": s["device_type"],
                "browser": (s["browser"] or "").lower() or None,
                "os": (s["os"] or "").lower() or None,
                "country": s["country_code"],
            }
            for s in sessions
        ],
        "pageViews": [
            {"path": p["path"], "title": p["title"], "timestamp": iso_ms(p["ts"]), "referrer": p["referrer"]}
            for p in pages
        ],
    }
    return body


def router(store: Store, auth: Authenticator, signer: VisitorSigner, clock: Clock) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["PostMetric"])

    @api.get("/visitor", summary="Get a visitor (PostMetric)")
    async def get_visitor(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "analytics:read", dialect=DIALECT)
        visitor_id = request.query_params.get("visitorId")
        if not visitor_id:
            raise ApiError(400, "visitorId parameter is required", dialect=DIALECT)
        data = await run_in_threadpool(store.read, lambda tx: visitor_json(tx, signer, caller.site.id, visitor_id))
        return {"status": "success", "data": data}

    @api.post("/goal", summary="Track a goal (PostMetric)")
    async def post_goal(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "goals:write", dialect=DIALECT)
        body = await json_object(request)
        name = body.get("event")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "event parameter is required", dialect=DIALECT)
        visitor_id = body.get("visitorId")
        if not isinstance(visitor_id, str) or not visitor_id:
            raise ApiError(400, "visitorId is required to attach the goal to a visitor", dialect=DIALECT)
        extra: dict[str, Any] = {"eventName": TAGS.sub("", name.strip())[:255], "server": True}
        if isinstance(body.get("value"), (int, float)) and not isinstance(body.get("value"), bool):
            extra["value"] = body["value"]
        if isinstance(body.get("path"), str):
            extra["path"] = body["path"][:1024]
        site, now = caller.site, clock.now_ms()
        event = {"name": extra["eventName"], "extra": extra}
        stored = await run_in_threadpool(store.write, lambda tx: add_goal(tx, signer, site, visitor_id, event, now))
        if stored is None:
            raise ApiError(404, "Visitor not found or has no pageviews on this website", dialect=DIALECT)
        return {"status": "success", "data": {"message": "Goal event tracked successfully"}}

    @api.post("/payment", summary="Record a payment (PostMetric)")
    async def post_payment(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "payments:write", dialect=DIALECT)
        body = await json_object(request)
        if not body.get("provider") or not body.get("providerPaymentId") or body.get("amount") is None:
            raise ApiError(400, "provider, providerPaymentId, and amount are required", dialect=DIALECT)
        try:
            payment = parse_payment(
                {
                    "amount": body["amount"],
                    "currency": body.get("currency") or "USD",
                    "transaction_id": body["providerPaymentId"],
                    "datafast_visitor_id": body.get("visitorId"),
                    "email": body.get("customerEmail"),
                    "customer_id": body.get("customerId"),
                },
                clock.now_ms(),
            )
        except ApiError as exc:
            raise ApiError(exc.status, exc.message, dialect=DIALECT) from exc
        site = caller.site
        await run_in_threadpool(store.write, lambda tx: record_payment(tx, signer, site, payment, "api"))
        data = {"paymentId": payment["transaction_id"], "message": "Payment recorded successfully"}
        return {"status": "success", "data": data}

    return api
