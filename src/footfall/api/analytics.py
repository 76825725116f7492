"""DataFast's analytics routes under `/api/v1/analytics/` (queries/analytics.py has the definitions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from footfall import filtered, site_metadata
from footfall.api.auth import Authenticator
from footfall.api.errors import ApiError
from footfall.clock import Clock
from footfall.queries import analytics as a
from footfall.queries import realtime as live
from footfall.queries import series
from footfall.queries.ranges import BadQuery, integer
from footfall.store.base import Store, Tx

OVERVIEW_FIELDS = (
    "visitors",
    "sessions",
    "bounce_rate",
    "avg_session_duration",
    "currency",
    "revenue",
    "payments",
    "revenue_per_visitor",
    "conversion_rate",
)
TIMESERIES_FIELDS = ("name", "visitors", "sessions", "revenue", "payments", "conversion_rate")
REALTIME_MS = 5 * 60_000
DAY_MS = 86_400_000
MAP_MS = 10 * 60_000


def utc_day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def _fields(raw: str | None, known: tuple[str, ...]) -> list[str]:
    if not raw:
        return list(known)
    wanted = [f.strip() for f in raw.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise ApiError(400, f"unknown fields: {', '.join(unknown)}; known: {', '.join(known)}")
    return wanted


def router(store: Store, auth: Authenticator, clock: Clock) -> APIRouter:
    api = APIRouter(prefix="/api/v1/analytics", tags=["DataFast analytics"])

    async def setup(request: Request) -> tuple[Any, a.Query]:
        caller = await auth.site_caller(request, "analytics:read")
        try:
            return caller, a.parse(request.query_params, caller.site.timezone)
        except a.BadQuery as exc:
            raise ApiError(400, str(exc)) from exc

    @api.get("/overview", summary="Overview")
    async def overview(request: Request) -> dict[str, Any]:
        caller, query = await setup(request)
        fields = _fields(request.query_params.get("fields"), OVERVIEW_FIELDS)
        t = await run_in_threadpool(store.read, lambda tx: a.overview(tx, caller.site.num, query))
        return {"status": "success", "data": [{f: t[f] for f in fields}]}

    @api.get("/timeseries", summary="Time series")
    async def timeseries(request: Request) -> dict[str, Any]:
        caller, query = await setup(request)
        interval = request.query_params.get("interval")
        if interval not in series.INTERVALS:
            raise ApiError(400, f"interval is required: one of {', '.join(series.INTERVALS)}")
        if query.same_day:
            interval = "hour"  # a single day is shown by the hour, as DataFast does
        fields = _fields(request.query_params.get("fields"), TIMESERIES_FIELDS)
        series.default_window(query, interval, clock.now_ms())
        try:
            rows, counts = await run_in_threadpool(
                store.read, lambda tx: series.timeseries(tx, caller.site.num, query, interval)
            )
        except a.BadQuery as exc:  # more points than a series may have
            raise ApiError(400, str(exc)) from exc
        kept = [
            {f: r[f] for f in fields} | {"timestamp": r["timestamp"], "revenueBreakdown": r["revenueBreakdown"]}
            for r in rows
        ]
        page = kept[query.offset : query.offset + query.limit]
        t = a.totals(counts.total(), counts.payments, counts.currency)
        breakdown = {k: a.money(sum(r["revenueBreakdown"][k] for r in rows)) for k in ("new", "renewal", "refund")}
        return {
            "status": "success",
            "fields": fields,
            "interval": interval,
            "timezone": str(query.zone),
            "currency": counts.currency,
            "totals": {f: t[f] for f in fields if f != "name"} | {"revenueBreakdown": breakdown},
            "data": page,
            "pagination": {"limit": query.limit, "offset": query.offset, "total": len(kept)},
        }

    @api.get("/realtime", summary="Visitors in the last 5 minutes")
    async def realtime(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "analytics:read")
        since = clock.now_ms() - REALTIME_MS
        count = await run_in_threadpool(store.read, lambda tx: live.active_visitors(tx, caller.site.num, since))
        return {"status": "success", "data": [{"visitors": count}]}

    @api.get("/realtime/map", summary="Who is on the site: the last 10 minutes")
    async def realtime_map(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "analytics:read")
        now = clock.now_ms()
        q = request.query_params
        try:  # a page of the visitors (footfall's addition: a busy site has thousands at once)
            limit = integer(q.get("limit"), "limit", live.MAP_LIMIT, 1, live.MAP_LIMIT_MAX)
            offset = integer(q.get("offset"), "offset", 0, 0)
        except BadQuery as exc:
            raise ApiError(400, str(exc)) from exc
        data = await run_in_threadpool(
            store.read, lambda tx: live.realtime_map(tx, caller.site.num, now, MAP_MS, limit, offset)
        )
        return {"status": "success", "data": data}

    @api.get("/metadata", summary="Website metadata")
    async def metadata(request: Request) -> dict[str, Any]:
        caller = await auth.site_caller(request, "analytics:read")
        named = request.query_params.get("fields")
        fields = _fields(named, site_metadata.FIELDS)
        site = caller.site

        def currency(tx: Tx) -> str | None:  # the site's payments' most used, until the owner sets one
            row = tx.one(
                "SELECT currency, COUNT(*) AS n FROM payments WHERE site_num = ? "
                "GROUP BY currency ORDER BY n DESC, currency LIMIT 1",
                (site.num,),
            )
            return str(row["currency"]) if row else None

        used = await run_in_threadpool(store.read, currency) if "currency" in fields else None
        return {"status": "success", "data": [site_metadata.metadata(site, used, fields, bool(named))]}

    @api.get("/filtered", summary="Filtered traffic: what was not counted, and why")
    async def filtered_traffic(request: Request) -> dict[str, Any]:
        """footfall's addition (docs/bots.md): per UTC day, reason and user-agent family, with
        samples; `startAt`/`endAt` as every route here, the last 30 days without them."""
        caller, query = await setup(request)
        now = clock.now_ms()
        end = query.end if query.end is not None else now
        start = query.start if query.start is not None else end - 29 * DAY_MS
        first, last = utc_day(start), utc_day(end)
        rows = await run_in_threadpool(store.read, lambda tx: filtered.read(tx, caller.site.id, first, last))
        page = rows[query.offset : query.offset + query.limit]
        return {
            "status": "success",
            "range": {"from": first, "to": last},
            "totals": filtered.totals(rows),
            "data": page,
            "pagination": {"limit": query.limit, "offset": query.offset, "total": len(rows)},
        }

    @api.get("/{breakdown}", summary="Breakdown")
    async def breakdown(breakdown: str, request: Request) -> dict[str, Any]:
        if breakdown not in (*a.BREAKDOWNS, "pages", "entry-pages", "exit-pages", "campaigns", "goals"):
            raise ApiError(404, f"no analytics endpoint {breakdown!r}")
        caller, query = await setup(request)

        def go(tx: Tx) -> list[dict[str, Any]]:
            if breakdown == "goals":
                return a.goals(tx, caller.site.num, query)
            return a.any_breakdown(tx, caller.site.num, query, breakdown)

        rows = await run_in_threadpool(store.read, go)
        if breakdown == "countries":
            base = str(request.base_url).rstrip("/")
            for row in rows:
                row["image"] = base + row["image"] if row["image"] else None
        return {
            "status": "success",
            "data": rows[query.offset : query.offset + query.limit],
            "pagination": {"limit": query.limit, "offset": query.offset, "total": len(rows)},
        }

    return api
