"""DataFast's server-side goals and payments: `POST`/`DELETE /api/v1/goals`,
`POST`/`DELETE /api/v1/payments` (../shared/specs/datafast.md; docs/api.md).

A server-side goal is a custom event in the visitor's latest visit (the visitor needs a page
view). A payment is a row of `payments`, idempotent on its transaction id, attributed to the
visitor named by `datafast_visitor_id`, else to the person the customer's email names, else to
nobody; its email also identifies the visitor's person (a first-party route, docs/people.md).
Payments show as goals in the visitor's `completedGoals`: `payment`, `free_trial` or
`subscription_renewed` (origin `payment_provider`).
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from footfall import ids
from footfall.api.auth import Authenticator
from footfall.api.bodies import json_object
from footfall.api.errors import ApiError
from footfall.api.people import identify
from footfall.bounds import MAX_AMOUNT
from footfall.clock import Clock, iso_ms
from footfall.identity.claims import Claim
from footfall.ids import VisitorSigner
from footfall.ingest.payloads import GOAL_NAME
from footfall.model import Site
from footfall.queries import ranges
from footfall.queries.visitors import find_visitor, latest_visit, marks, visitor_group
from footfall.rollups import forget_slots, forget_visits
from footfall.store.base import Row, Store, Tx, dumps

PARAM_KEY = re.compile(r"^[a-z0-9_-]{1,64}$")
TAGS = re.compile(r"<[^>]*>")
CURRENCY = re.compile(r"^[A-Za-z]{3}$")
UTC_ZONE = ZoneInfo("UTC")


def goal_name(raw: Any) -> str:
    """DataFast's rule: lowercased, spaces to `_`, a-z 0-9 _ - :, at most 64; `identify` is reserved."""
    if not isinstance(raw, str) or not raw.strip():
        raise ApiError(400, "name is required")
    name = raw.strip().lower().replace(" ", "_")
    if not GOAL_NAME.match(name):
        raise ApiError(400, "name: lowercase a-z, 0-9, _, -, : only, at most 64 characters")
    if name == "identify":
        raise ApiError(400, "name: 'identify' is reserved")
    return name


def goal_metadata(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ApiError(400, "metadata must be an object")
    if len(raw) > 10:
        raise ApiError(400, "metadata: at most 10 keys")
    clean: dict[str, str] = {}
    for key, value in raw.items():
        if not PARAM_KEY.match(key):
            raise ApiError(400, f"metadata key {key!r}: lowercase a-z, 0-9, _, - only, at most 64 characters")
        if isinstance(value, (dict, list)) or value is None:
            raise ApiError(400, f"metadata.{key}: a string or a number")
        text = TAGS.sub("", str(value))
        if len(text) > 255:
            raise ApiError(400, f"metadata.{key}: at most 255 characters")
        clean[key] = text
    return clean


def parse_time(raw: Any, field: str) -> int | None:
    """An ISO time (UTC without an offset) or a day, in ms; None when not given."""
    if raw in (None, ""):
        return None
    try:
        return ranges.moment(str(raw), UTC_ZONE, end=field == "endAt", name=field)
    except ranges.BadQuery as exc:
        raise ApiError(400, str(exc)) from exc


def delete_matching(
    tx: Tx, signer: VisitorSigner, site: Site, table: str, visitor_id: str | None, conditions: dict[str, Any]
) -> int:
    """Deletes the site's rows of `table` (events or payments) of a visitor (with every browser of
    it) that meet `conditions` (`clause: value`; a None value leaves its `?` clause out, a clause
    without `?` always applies). Answers how many went."""
    where, params = ["site_num = ?"], list[Any]([site.num])
    if visitor_id:
        browser = find_visitor(tx, signer, site.id, visitor_id)
        if browser is None:
            return 0
        nums = visitor_group(tx, browser)[1]
        where.append(f"visitor_num IN ({marks(nums)})")
        params += nums
    for clause, value in conditions.items():
        if "?" not in clause:
            where.append(clause)
        elif value is not None:
            where.append(clause)
            params.append(value)
    found = tx.one(f"SELECT COUNT(*) AS n FROM {table} WHERE {' AND '.join(where)}", params)
    if table == "events" and found and found["n"]:  # their visits' folded slots are folded again
        forget_visits(tx, f"num IN (SELECT session_num FROM events WHERE {' AND '.join(where)})", params)
    tx.execute(f"DELETE FROM {table} WHERE {' AND '.join(where)}", params)
    return int(found["n"]) if found else 0


def add_goal(tx: Tx, signer: VisitorSigner, site: Site, visitor_id: str, event: dict[str, Any], now: int) -> str | None:
    found = latest_visit(tx, signer, site.id, site.num, visitor_id)
    return None if found is None else insert_goal(tx, site, found[1], event, now)


def insert_goal(tx: Tx, site: Site, session: Row, event: dict[str, Any], ts: int) -> str:
    """A server-side goal, `{name, extra}`, as a custom event of `session` (a visit with a page
    view) on the page the visitor saw last in it."""
    page = tx.one(  # through the visitor's index within the visit's span (session_num has none)
        "SELECT href, hostname, path FROM events WHERE visitor_num = ? AND ts >= ? AND ts <= ? AND session_num = ? "
        "AND type = 'pageview' ORDER BY ts DESC LIMIT 1",
        (session["visitor_num"], session["started_at"], session["last_seen"], session["num"]),
    )
    assert page is not None
    request_id = ids.request_id(ts)
    tx.execute(
        "INSERT INTO events (request_id, site_num, visitor_num, session_num, ts, type, name, href, hostname, path, "
        "user_agent, extra) VALUES (?, ?, ?, ?, ?, 'custom', ?, ?, ?, ?, '', ?)",
        (
            request_id,
            site.num,
            session["visitor_num"],
            session["num"],
            ts,
            event["name"],
            page["href"],
            page["hostname"],
            page["path"],
            dumps(event["extra"]),
        ),
    )
    # the visit's page activity (last_seen, its duration) is the visitor's, not the server's call
    tx.execute("UPDATE sessions SET events = events + 1 WHERE num = ?", (session["num"],))
    forget_slots(tx, {site.num: {session["started_at"]}})  # a folded visit has one more goal: folded again
    return request_id


def router(store: Store, auth: Authenticator, signer: VisitorSigner, clock: Clock) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["DataFast"])

    @api.post("/goals", summary="Record a goal (server-side)")
    async def post_goal(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "goals:write")
        body = await json_object(request)
        visitor_id = body.get("datafast_visitor_id") or body.get("visitorId")
        if not isinstance(visitor_id, str) or not visitor_id:
            raise ApiError(400, "datafast_visitor_id is required")
        name = goal_name(body.get("name"))
        extra: dict[str, Any] = {"eventName": name, "server": True, **goal_metadata(body.get("metadata"))}
        if isinstance(body.get("description"), str):
            extra["description"] = TAGS.sub("", body["description"])[:255]
        site, now = caller.site, clock.now_ms()
        event = {"name": name, "extra": extra}
        event_id = await run_in_threadpool(store.write, lambda tx: add_goal(tx, signer, site, visitor_id, event, now))
        if event_id is None:
            raise ApiError(404, "Visitor not found or has no pageviews on this website")
        return {"status": "success", "data": [{"message": "Custom event created successfully", "eventId": event_id}]}

    @api.delete("/goals", summary="Delete goals")
    async def delete_goals(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "goals:write")
        q = request.query_params
        start, end = parse_time(q.get("startAt"), "startAt"), parse_time(q.get("endAt"), "endAt")
        visitor_id, raw_name = q.get("datafast_visitor_id"), q.get("name")
        if not (visitor_id or raw_name or start or end):
            raise ApiError(400, "give datafast_visitor_id, name, or a time range (startAt, endAt)")
        name = goal_name(raw_name) if raw_name else None
        site = caller.site

        conditions = {"type = 'custom'": None, "name = ?": name, "ts >= ?": start, "ts <= ?": end}
        deleted = await run_in_threadpool(
            store.write, lambda tx: delete_matching(tx, signer, site, "events", visitor_id, conditions)
        )
        if not deleted:
            raise ApiError(404, "No matching goals found")
        time_range = {"start": iso_ms(start), "end": iso_ms(end)}
        message = f"Deleted {deleted} goal{'s' if deleted != 1 else ''}"
        return {"status": "success", "data": [{"message": message, "goal_name": name, "timeRange": time_range}]}

    @api.post("/payments", summary="Record a payment")
    async def post_payment(request: Request) -> JSONResponse:
        caller = await auth.site_caller(request, "payments:write")
        payment = parse_payment(await json_object(request), clock.now_ms())
        site = caller.site
        outcome = await run_in_threadpool(store.write, lambda tx: record_payment(tx, signer, site, payment, "api"))
        messages = {
            "attributed": "Payment recorded and attributed successfully",
            "unattributed": "Payment recorded successfully (not attributed to a visitor)",
            "duplicate": "Payment already recorded (duplicate transaction_id)",
        }
        return JSONResponse({"message": messages[outcome], "transaction_id": payment["transaction_id"]})

    @api.delete("/payments", summary="Delete payments")
    async def delete_payments(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "payments:write")
        q = request.query_params
        tx_id = q.get("transaction_id") or q.get("tx_id")
        start, end = parse_time(q.get("startAt"), "startAt"), parse_time(q.get("endAt"), "endAt")
        visitor_id = q.get("datafast_visitor_id")
        if not (tx_id or visitor_id or start or end):
            raise ApiError(400, "give transaction_id, datafast_visitor_id, or a time range (startAt, endAt)")
        site = caller.site

        # a transaction id takes priority: the other parameters are then ignored
        conditions = {"transaction_id = ?": tx_id} if tx_id else {"ts >= ?": start, "ts <= ?": end}
        who = None if tx_id else visitor_id
        deleted = await run_in_threadpool(
            store.write, lambda tx: delete_matching(tx, signer, site, "payments", who, conditions)
        )
        if not deleted:
            raise ApiError(404, "Transaction not found" if tx_id else "No matching payments found")
        row: dict[str, Any] = {"message": f"Deleted {deleted} payment{'s' if deleted != 1 else ''}"}
        if visitor_id and not tx_id:
            row["datafast_visitor_id"] = visitor_id
        row["timeRange"] = {"start": iso_ms(start), "end": iso_ms(end)}
        return {"status": "success", "data": [row]}

    return api


def parse_payment(body: dict[str, Any], now: int) -> dict[str, Any]:
    """DataFast's payment body, validated."""
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not 0 <= amount <= MAX_AMOUNT:
        raise ApiError(400, f"amount is required: from 0 to {MAX_AMOUNT:.0e} in major units (0 is a free trial)")
    currency = body.get("currency")
    if not isinstance(currency, str) or not CURRENCY.match(currency):
        raise ApiError(400, "currency is required: an ISO 4217 code such as USD")
    transaction = body.get("transaction_id")
    if not isinstance(transaction, (str, int)) or not str(transaction).strip() or len(str(transaction)) > 255:
        raise ApiError(400, "transaction_id is required (at most 255 characters)")
    flags = {}
    for key in ("renewal", "refunded", "is_free_trial"):
        value = body.get(key)
        if value is not None and not isinstance(value, bool):
            raise ApiError(400, f"{key} must be true or false")
        flags[key] = value
    visitor_id = body.get("datafast_visitor_id")
    if visitor_id is not None and (not isinstance(visitor_id, str) or len(visitor_id) > 128):
        raise ApiError(400, "datafast_visitor_id must be a visitor id")
    email = body.get("email") or body.get("customer_email")
    return {
        "transaction_id": str(transaction).strip(),
        "amount": float(amount),
        "currency": currency.upper(),
        "visitor_id": visitor_id or None,
        "email": email if isinstance(email, str) else None,
        "name": next((body[k] for k in ("name", "customer_name") if isinstance(body.get(k), str)), None),
        "customer_id": str(body["customer_id"]) if body.get("customer_id") is not None else None,
        "renewal": bool(flags["renewal"]),
        "refunded": bool(flags["refunded"]),
        "free_trial": flags["is_free_trial"] if flags["is_free_trial"] is not None else amount == 0,
        "ts": parse_time(body.get("timestamp"), "timestamp") or now,
    }


def record_payment(tx: Tx, signer: VisitorSigner, site: Site, p: dict[str, Any], source: str) -> str:
    """attributed | unattributed | duplicate."""
    if tx.one(
        "SELECT 1 AS one FROM payments WHERE site_num = ? AND transaction_id = ?", (site.num, p["transaction_id"])
    ):
        return "duplicate"
    claim = Claim.from_properties(site.num, p["ts"], "payment", {"email": p["email"], "name": p["name"]})
    person = identify(tx, signer, site, p["visitor_id"], claim) if claim.email else None
    browser = find_visitor(tx, signer, site.id, p["visitor_id"]) if p["visitor_id"] else None
    visitor_num = browser["num"] if browser else None
    person_num = person["num"] if person else None
    if browser is not None and person_num is None:
        root, _ = visitor_group(tx, browser)
        person_num = root["person_num"]
    tx.execute(
        "INSERT INTO payments (site_num, transaction_id, ts, amount, currency, visitor_num, person_num, email, name, "
        "customer_id, renewal, refunded, free_trial, source, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            site.num,
            p["transaction_id"],
            p["ts"],
            p["amount"],
            p["currency"],
            visitor_num,
            person_num,
            claim.email,
            p["name"],
            p["customer_id"],
            int(p["renewal"]),
            int(p["refunded"]),
            int(p["free_trial"]),
            source,
            p["ts"],
        ),
    )
    return "attributed" if visitor_num is not None or person_num is not None else "unattributed"


def payment_goals(tx: Tx, nums: list[int]) -> list[dict[str, Any]]:
    """The payments attributed to a visitor's browsers as DataFast's automatic goals (refunded
    ones are not goals)."""
    rows = tx.all(
        f"SELECT ts, renewal, free_trial FROM payments WHERE refunded = 0 AND visitor_num IN ({marks(nums)}) "
        "ORDER BY ts",
        nums,
    )
    goals = []
    for r in rows:
        if r["free_trial"]:
            name, kind = "free_trial", "free_trial"
        elif r["renewal"]:
            name, kind = "subscription_renewed", "subscription_lifecycle"
        else:
            name, kind = "payment", "payment"
        goals.append({"name": name, "origin": "payment_provider", "type": kind, "timestamp": iso_ms(r["ts"])})
    return goals
