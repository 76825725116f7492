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
    try:
        return ZoneInfo(raw or default or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadQuery("timezone: an IANA name such as Europe/Paris") from exc


def moment(raw: str, zone: ZoneInfo, end: bool = False, name: str = "") -> int:
    """ms since the epoch; a bare day is its first (or, for `end`, last) millisecond in `zone`."""
    name = name or ("endAt" if end else "startAt")
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw) + timedelta(days=1 if end else 0)
            return int(datetime.combine(day, time(), zone).timestamp() * 1000) - (1 if end else 0)
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadQuery(f"{name}: YYYY-MM-DD or an ISO 8601 time") from exc
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).timestamp() * 1000)


def integer(raw: str | None, name: str, default: int, low: int, high: int | None = None) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadQuery(f"{name} must be an integer") from exc
    if value < low or (high is not None and value > high):
        raise BadQuery(f"{name} must be between {low} and {high}" if high is not None else f"{name} must be >= {low}")
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
