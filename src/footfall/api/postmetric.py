"""The PostMetric dialect: `GET /api/v1/visitor`, `POST /api/v1/goal`, `POST /api/v1/payment`
(../shared/specs/postmetric.md; PostMetric's identify is in api/people.py).

Keys and scopes are footfall's (`analytics:read` to read, `goals:write`, `payments:write`), with
PostMetric's messages: 401 `Unauthorized. Invalid or missing API key.`, 400 `visitorId parameter is
required`, `event parameter is required`, `provider, providerPaymentId, and amount are required`.
An unknown visitor reads as 200 with empty arrays, as PostMetric's does.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from footfall import pending_goals
from footfall.api.auth import Authenticator
from footfall.api.bodies import json_object
from footfall.api.conversions import PARAM_KEY, TAGS, insert_goal, parse_payment, record_payment
from footfall.api.errors import ApiError
from footfall.clock import Clock, iso_ms
from footfall.ids import VisitorSigner
from footfall.queries.visitors import find_visitor, marks, resolution, visitor_group
from footfall.store.base import Row, Store, Tx, loads

MAX_SESSIONS, MAX_PAGEVIEWS = 100, 1000  # what PostMetric's implementation reads
UNKNOWN = "unknown"  # PostMetric's session fields are required strings: what footfall could not tell
DIALECT = "postmetric"


def visitor_json(tx: Tx, signer: VisitorSigner, site_id: str, visitor_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "visitorId": visitor_id,
        "sessionCount": 0,
        "pageViewCount": 0,
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
        f"SELECT path, title, ts, referrer, params FROM events WHERE visitor_num IN ({group}) AND type = 'pageview' "
        "ORDER BY ts DESC, id DESC LIMIT ?",
        (*nums, MAX_PAGEVIEWS),
    )
    body |= {
        "sessionCount": len(sessions),  # as PostMetric counts: the sessions returned
        "pageViewCount": len(pages),
        "sessions": [
            {
                "sessionId": s["id"],
                "firstVisitAt": iso_ms(s["started_at"]),
                "lastSeenAt": iso_ms(s["last_seen"]),
                "pageViews": s["pageviews"],
                "duration": (s["last_seen"] - s["started_at"]) // 1000,
                "device": s["device_type"] or UNKNOWN,
                "browser": (s["browser"] or UNKNOWN).lower(),
                "os": (s["os"] or UNKNOWN).lower(),
                "country": s["country_code"] or UNKNOWN,
            }
            for s in sessions
        ],
        "pageViews": [
            {"path": p["path"], "title": p["title"] or "", "timestamp": iso_ms(p["ts"]), "referrer": referrer(p)}
            for p in pages
        ],
    }
    if sessions:  # PostMetric leaves both out when it has no session (its values are undefined)
        body["firstVisit"] = iso_ms(sessions[-1]["started_at"])
        body["lastVisit"] = iso_ms(sessions[0]["last_seen"])
    return body


def referrer(page: Row) -> str:
    """PostMetric's tracker's referrer: utm_source, ref or via, else the referring host, else "direct"."""
    params = loads(page["params"])
    for key in ("utm_source", "ref", "via"):
        if params.get(key):
            return str(params[key])
    return urlsplit(page["referrer"] or "").hostname or "direct"


GOAL_FIELDS = ("event", "value", "visitorId", "sessionId", "path")


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def custom_data(body: dict[str, Any]) -> dict[str, str]:
    """PostMetric's goal parameters: the body's other keys, lowercased, the first 10 that match
    `[a-z0-9_-]{1,64}`, values as strings of at most 255 characters (others are skipped, as there)."""
    found: dict[str, str] = {}
    for key, value in body.items():
        if len(found) >= 10:
            break
        if key in GOAL_FIELDS or not isinstance(key, str) or not PARAM_KEY.match(key.lower()):
            continue
        shown = "" if value is None else value if isinstance(value, str) else json.dumps(value)
        found[key.lower()] = TAGS.sub("", shown)[:255]
    return found


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
        extra: dict[str, Any] = {"eventName": TAGS.sub("", name.strip())[:255], "server": True}
        extra |= custom_data(body)
        if isinstance(body.get("value"), (int, float)) and not isinstance(body.get("value"), bool):
            extra["value"] = body["value"]
        extra["path"] = body["path"][:1024] if isinstance(body.get("path"), str) else "/"
        who, visit = body.get("visitorId"), body.get("sessionId")
        visitor_key = who[:128] if isinstance(who, str) and who else None
        session_key = visit[:128] if isinstance(visit, str) and visit else None
        site, now = caller.site, clock.now_ms()
        goal = {"name": extra["eventName"], "extra": extra}

        def track(tx: Tx) -> None:
            found = pending_goals.visit_of(tx, signer, site, visitor_key, session_key)
            if found is not None:
                insert_goal(tx, site, found, goal, now)
            else:  # PostMetric records it all the same; it joins its visit when that arrives
                pending_goals.hold(tx, site, now, goal["name"], extra, visitor_key, session_key)

        await run_in_threadpool(store.write, track)
        return {"status": "success", "data": {"message": "Goal event tracked successfully"}}

    @api.post("/payment", summary="Record a payment (PostMetric)")
    async def post_payment(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "payments:write", dialect=DIALECT)
        body = await json_object(request)
        if not body.get("provider") or not body.get("providerPaymentId") or body.get("amount") is None:
            raise ApiError(400, "provider, providerPaymentId, and amount are required", dialect=DIALECT)
        meta: dict[str, Any] = body["metadata"] if isinstance(body.get("metadata"), dict) else {}
        session_key = text(body.get("sessionId")) or text(meta.get("sessionId"))
        try:
            payment = parse_payment(
                {
                    "amount": body["amount"],
                    "currency": body.get("currency") or "USD",
                    "transaction_id": body["providerPaymentId"],
                    "datafast_visitor_id": text(body.get("visitorId")) or text(meta.get("visitorId")),
                    "email": body.get("customerEmail"),
                    "customer_id": body.get("customerId"),
                },
                clock.now_ms(),
            )
        except ApiError as exc:
            raise ApiError(exc.status, exc.message, dialect=DIALECT) from exc
        site = caller.site

        def record(tx: Tx) -> str:
            if payment["visitor_id"] is None and session_key:  # PostMetric links by the visit as well
                row = tx.one(
                    "SELECT v.id FROM sessions s JOIN visitors v ON v.num = s.visitor_num "
                    "WHERE s.id = ? AND s.site_num = ?",
                    (session_key, site.num),
                )
                payment["visitor_id"] = row["id"] if row else None
            return record_payment(tx, signer, site, payment, "api")

        await run_in_threadpool(store.write, record)
        data = {"paymentId": payment["transaction_id"], "message": "Payment recorded successfully"}
        return {"status": "success", "data": data}

    return api
