"""Query parameters every read API shares: a timezone, a `startAt`/`endAt` range and paging.

DataFast's rules: `startAt` and `endAt` come together; a bare day (`YYYY-MM-DD`) is the whole day
in the timezone (`timezone`, else the site's), an ISO time is that moment (in the timezone when it
carries no offset).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from footfall.bounds import INT_MAX


class BadQuery(ValueError):
    """A parameter that cannot be used; the message names it."""


@dataclass
class Window:
    zone: ZoneInfo
    start: int | None  # ms, inclusive; None: no range given
    end: int | None
    limit: int
    offset: int
    same_day: bool


def zone_of(raw: str | None, default: str = "UTC") -> ZoneInfo:
    name = raw or default or "UTC"
    try:
        if len(name) > 64:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise BadQuery("timezone: an IANA name such as Europe/Paris") from exc


def moment(raw: str, zone: ZoneInfo, end: bool = False, name: str = "") -> int:
    """ms since the epoch; a bare day is its first (or, for `end`, last) millisecond in `zone`."""
    name = name or ("endAt" if end else "startAt")
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            if end and day == date.max:  # the calendar's last day has no next one
                return int(datetime.combine(day, time.max, zone).timestamp() * 1000)
            day += timedelta(days=1 if end else 0)
            return int(datetime.combine(day, time(), zone).timestamp() * 1000) - (1 if end else 0)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).timestamp() * 1000)
    except (ValueError, OverflowError) as exc:  # 9999-12-31's next day does not exist
        raise BadQuery(f"{name}: YYYY-MM-DD or an ISO 8601 time between years 1 and 9999") from exc


def integer(raw: str | None, name: str, default: int, low: int, high: int = INT_MAX) -> int:
    """A query parameter's integer between `low` and `high` (at most 2^63-1: what stores keep)."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw[:20])
        if len(raw) > 20:
            raise ValueError(raw)
    except ValueError as exc:
        raise BadQuery(f"{name} must be an integer") from exc
    if value < low or value > high:
        raise BadQuery(f"{name} must be between {low} and {high}")
    return value


def window(q: Any, site_timezone: str, limit_default: int, limit_max: int) -> Window:
    zone = zone_of(q.get("timezone"), site_timezone)
    if bool(q.get("startAt")) != bool(q.get("endAt")):
        raise BadQuery("startAt and endAt must be given together")
    start = end = None
    if q.get("startAt"):
        start, end = moment(q["startAt"], zone), moment(q["endAt"], zone, end=True)
        if start > end:
            raise BadQuery("startAt must be before endAt")
    limit = integer(q.get("limit"), "limit", limit_default, 1, limit_max)
    offset = integer(q.get("offset"), "offset", 0, 0)
    same_day = bool(start is not None and q["startAt"][:10] == q["endAt"][:10])
    return Window(zone, start, end, limit, offset, same_day)
