"""Time series (DataFast's `/analytics/timeseries`, the overview's chart): buckets of hours, days,
weeks (from Monday) or months in the query's timezone, each counted as queries/analytics.py
counts a range."""

from __future__ import annotations

import bisect
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from footfall.queries.analytics import Counts, Query, count, money, totals
from footfall.queries.ranges import BadQuery
from footfall.store.base import Row, Tx

INTERVALS = ("hour", "day", "week", "month")


def bucket_start(ms: int, interval: str, zone: ZoneInfo) -> datetime:
    moment = datetime.fromtimestamp(ms / 1000, zone)
    if interval == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "day":
        return day
    if interval == "week":  # weeks start on Monday
        return datetime.combine(day.date() - timedelta(days=day.weekday()), time(), zone)
    return datetime.combine(day.date().replace(day=1), time(), zone)


def label(start: datetime, interval: str) -> str:
    if interval == "hour":
        return start.strftime("%d %b %H:00")
    if interval == "month":
        return start.strftime("%b %Y")
    return start.strftime("%d %b")


def next_bucket(start: datetime, interval: str, zone: ZoneInfo) -> datetime:
    if interval == "hour":
        return datetime.fromtimestamp(start.timestamp() + 3600, zone)
    if interval in ("day", "week"):
        return datetime.combine(start.date() + timedelta(days=1 if interval == "day" else 7), time(), zone)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return datetime.combine(date(year, month, 1), time(), zone)


def default_window(query: Query, interval: str, now: int) -> None:
    """DataFast's: hour -> the last 24 hours, day and week -> 30 days, month -> 12 months."""
    if query.start is not None:
        return
    span = {"hour": 1, "day": 30, "week": 30, "month": 365}[interval]
    query.start, query.end = now - span * 86_400_000 + 1, now


MAX_POINTS = 10_000  # a year of hours; an hourly series over centuries is refused, not computed
APPROX_MS = {"hour": 3_600_000, "day": 86_400_000, "week": 7 * 86_400_000, "month": 28 * 86_400_000}


def buckets(query: Query, interval: str) -> list[datetime]:
    """The starts of the buckets that meet the range (the first may start before it)."""
    assert query.start is not None and query.end is not None
    if (query.end - query.start) // APPROX_MS[interval] > MAX_POINTS:
        raise BadQuery(f"interval: more than {MAX_POINTS} points of {interval} for this range; use a longer one")
    starts, cursor = [], bucket_start(query.start, interval, query.zone)
    while cursor.timestamp() * 1000 <= query.end:
        starts.append(cursor)
        try:
            cursor = next_bucket(cursor, interval, query.zone)
        except (ValueError, OverflowError):  # the calendar ends (9999-12-31)
            break
    return starts


def timeseries(tx: Tx, site_num: int, query: Query, interval: str) -> tuple[list[dict[str, Any]], Counts]:
    """The rows, one per bucket, and the counts (for the totals)."""
    assert query.start is not None and query.end is not None
    starts = buckets(query, interval)
    bounds = [query.start, *(int(b.timestamp() * 1000) for b in starts[1:]), query.end + 1]
    counts = count(tx, site_num, query, bounds)
    payments_by: list[list[Row]] = [[] for _ in starts]
    for p in counts.payments:
        payments_by[bisect.bisect_right(bounds, p["ts"]) - 1].append(p)
    rows = []
    for start, tally, bucket_payments in zip(starts, counts.buckets, payments_by, strict=True):
        t = totals(tally, bucket_payments, counts.currency)
        rows.append(
            {
                "name": label(start, interval),
                "timestamp": start.isoformat(),
                "visitors": t["visitors"],
                "sessions": t["sessions"],
                "revenue": t["revenue"],
                "payments": t["payments"],
                "conversion_rate": t["conversion_rate"],
                "revenueBreakdown": {
                    "new": money(sum(p["amount"] for p in bucket_payments if not p["renewal"])),
                    "renewal": money(sum(p["amount"] for p in bucket_payments if p["renewal"])),
                    "refund": 0.0,
                },
            }
        )
    return rows, counts
