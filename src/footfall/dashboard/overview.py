"""The overview page (docs/dashboard.md): totals with their change against the period just before,
who is on the site now, the chart, breakdown panels (pages, entry and exit pages, sources,
campaigns, countries, devices, browsers, systems) and goals with their conversion rates. Every
number comes from the analytics API's own functions (queries/analytics.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from footfall.dashboard.charts import line_chart
from footfall.dashboard.web import Web, with_params
from footfall.queries import analytics as a
from footfall.queries import kept, series
from footfall.queries import realtime as live
from footfall.store.base import Row, Tx

PERIODS = {
    "today": "Today",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "12mo": "Last 12 months",
    "all": "All time",
}
PANELS = (  # breakdowns: (endpoint, heading, filter dimension)
    ("pages", "Top pages", "page"),
    ("entry-pages", "Entry pages", "entry_page"),
    ("exit-pages", "Exit pages", "exit_page"),
    ("referrers", "Referrers", "referrer"),
    ("campaigns", "Campaigns", "utm_source"),
    ("countries", "Countries", "country"),
    ("devices", "Devices", "device"),
    ("browsers", "Browsers", "browser"),
    ("operating-systems", "Operating systems", "os"),
)
CURRENT_MS = 5 * 60_000  # "on the site now": as the analytics API's realtime
RATES = ("bounce_rate", "conversion_rate")  # changes in points; the other totals change in percent


def period_range(period: str, zone: ZoneInfo, now_ms: int) -> tuple[str, str] | None:
    today = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(zone).date()
    days = {"today": 0, "7d": 6, "30d": 29, "90d": 89, "12mo": 364}
    if period not in days:
        return None
    return (today - timedelta(days=days[period])).isoformat(), today.isoformat()


def previous(query: a.Query) -> a.Query | None:
    """The same query over the range of the same length just before (none for all time)."""
    if query.start is None or query.end is None:
        return None
    length = query.end - query.start + 1
    return dataclasses.replace(query, start=query.start - length, end=query.start - 1)


def changes(now: dict[str, Any], before: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Per total, its change against the previous period: {text, direction, before}."""
    out: dict[str, dict[str, Any]] = {}
    if before is None:
        return out
    for name in ("visitors", "sessions", "pageviews", "bounce_rate", "avg_session_duration", "revenue", *RATES):
        was, is_ = float(before[name]), float(now[name])
        direction = "up" if is_ > was else "down" if is_ < was else "same"
        if name in RATES:
            text = f"{is_ - was:+.1f} pts"
        elif was == 0:
            text = "new" if is_ else "0%"
        else:
            text = f"{100 * (is_ - was) / was:+.0f}%"
        out[name] = {"text": text, "direction": direction, "before": before[name]}
    return out


def add_routes(web: Web, api: APIRouter) -> None:
    @api.get("/sites/{site_id}/")
    @web.guarded
    async def overview(request: Request, site_id: str) -> Response:
        page = await web.page_for(request, site_id)
        site = page.here
        given = dict(request.query_params)
        period = given.get("period") or ("custom" if given.get("startAt") else "30d")
        zone = ZoneInfo(site.timezone)
        now = web.clock.now_ms()
        span = period_range(period, zone, now)
        params = {k: v for k, v in given.items() if k.startswith("filter_")}
        if span:
            params |= {"startAt": span[0], "endAt": span[1]}
        elif period == "custom":
            params |= {"startAt": given.get("startAt", ""), "endAt": given.get("endAt", "")}
        try:
            query = a.parse(params, site.timezone)
        except a.BadQuery as exc:
            return web.html("overview.html", page, 400, error=str(exc), period=period, given=given, periods=PERIODS)
        before = previous(query)

        def read(tx: Tx) -> dict[str, Any]:
            totals = a.overview(tx, site.num, query)
            earlier = a.overview(tx, site.num, before) if before is not None else None
            interval = "hour" if query.same_day else "month" if period in ("12mo", "all") else "day"
            series_query = a.parse(params, site.timezone)
            series.default_window(series_query, interval, now)
            rows, _ = series.timeseries(tx, site.num, series_query, interval)
            names = [endpoint for endpoint, _, _ in PANELS]
            # with filters, the range's visits are read once for every panel
            visits = None
            if query.filters:
                visits = kept.read(tx, site.num, *a.span(query), query.filters, names, goals=True)
            panels = []
            for endpoint, heading, dimension in PANELS:
                found = a.any_breakdown(tx, site.num, query, endpoint, visits)
                panels.append((heading, dimension, [panel_row(endpoint, r) for r in found[:10]]))
            goals = a.goals(tx, site.num, query, visits)[:10]
            for g in goals:  # Plausible's conversion rate: the goal's visitors among all the range's
                g["conversion"] = round(100 * g["visitors"] / totals["visitors"], 2) if totals["visitors"] else 0.0
            return {
                "totals": totals,
                "changes": changes(totals, earlier),
                "current": live.active_visitors(tx, site.num, now - CURRENT_MS),
                "rows": rows,
                "panels": panels,
                "goals": goals,
            }

        found = await run_in_threadpool(web.store.read, read)
        chart = line_chart(
            "Visitors and visits",
            [r["name"] for r in found["rows"]],
            {"visitors": [r["visitors"] for r in found["rows"]], "visits": [r["sessions"] for r in found["rows"]]},
        )
        filters = [
            (k.removeprefix("filter_"), v, with_params(given, **{k: None}))
            for k, v in params.items()
            if k.startswith("filter_")
        ]
        compared = None
        if before is not None and before.start is not None and before.end is not None:
            first = datetime.fromtimestamp(before.start / 1000, UTC).astimezone(zone).date()
            last = datetime.fromtimestamp(before.end / 1000, UTC).astimezone(zone).date()
            compared = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
        return web.html(
            "overview.html",
            page,
            error=None,
            period=period,
            given=given,
            periods=PERIODS,
            chart=chart,
            filters=filters,
            compared=compared,
            link=lambda dim, value: with_params(given, **{f"filter_{dim}": f"is:{value}"}),
            **found,
        )


def panel_row(endpoint: str, row: Row) -> dict[str, Any]:
    """A breakdown row as a panel shows it: a label, the filter value, visitors and revenue."""
    code = None
    if endpoint in ("pages", "entry-pages", "exit-pages"):
        label = value = row["path"]
    elif endpoint == "campaigns":
        campaign = row["campaign"]
        value = campaign.get("utm_source") or ""
        parts = (campaign.get("utm_source"), campaign.get("utm_medium"), campaign.get("utm_campaign"))
        label = " / ".join(v for v in parts if v)
        label = label or campaign.get("ref") or campaign.get("source") or campaign.get("via") or "(none)"
    else:
        label = value = row[a.BREAKDOWNS[endpoint][0]] or ""  # the row's field: "device", "operating_system"...
        flag = row.get("image")  # a country's: /flags/<code>.svg; shown as its code (no emoji font needed)
        code = flag.rsplit("/", 1)[1].removesuffix(".svg").upper() if flag else None
    return {
        "label": label or "(none)",
        "value": value,
        "code": code,
        "visitors": row["visitors"],
        "revenue": row.get("revenue", 0),
    }
