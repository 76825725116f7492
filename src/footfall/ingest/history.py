"""Events with their own time (docs/import.md): what an import key's batch and `footfall import`
send beside the browser's fields, checked, and the pipeline they go through.

- `timestamp`: ISO 8601 (with `Z` or an offset; without one, UTC) or Unix milliseconds. Refused
  when it is later than the server's clock by more than `FUTURE_SKEW_MS`, or older than the site's
  retention (`retention_days`), which would purge it at once.
- `ip` and `userAgent`: the visitor's, for geo, network and browser (the sender is a server).
- `ffKnown`: another tool's account of browser, OS, device type and location, used where footfall
  has no user agent or address to read them from (Umami's export has neither).

History goes through the live pipeline's steps but those that judge a live browser: no automation
evidence, no pace (`too_fast` measures a browser's speed as it browses, not a log's density), and
a missing user agent is not a bot (a shop's export or another tool's records rarely keep one; a
user agent that is there is judged as live).
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pycountry

from footfall import ids
from footfall.enrich.bots import is_bot
from footfall.ingest import pipeline
from footfall.ingest.payloads import Known, PayloadError, WireEvent, to_event
from footfall.model import Site

FUTURE_SKEW_MS = 5 * 60_000
DAY_MS = 86_400_000
DEVICE_TYPES = {"desktop", "laptop", "mobile", "tablet", "tv", "console", "wearable"}


def event_time(raw: str | int | None, where: str = "") -> int | None:
    """The event's own time in Unix milliseconds, or None when not given."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise PayloadError(f"{where}timestamp: ISO 8601 or Unix milliseconds")
    if isinstance(raw, int):
        if not 0 <= raw < 10**14:
            raise PayloadError(f"{where}timestamp: Unix milliseconds between 1970 and the year 5138")
        return raw
    text = raw.strip()
    if text.isdigit():
        return event_time(int(text), where)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise PayloadError(f"{where}timestamp: {raw[:40]!r} is neither ISO 8601 nor Unix milliseconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def time_problem(ts: int, now: int, site: Site | None) -> str | None:
    """Why an event of time `ts` cannot be taken now, or None."""
    if ts > now + FUTURE_SKEW_MS:
        return "timestamp: in the future (more than 5 minutes ahead of the server's clock)"
    days = (site.settings.get("retention_days") if site else None) or 0
    if isinstance(days, int) and days > 0 and ts < now - days * DAY_MS:
        return f"timestamp: older than the site's retention ({days} days), so it would be purged at once"
    return None


def put_known(c: pipeline.Candidate) -> None:
    """Fill what footfall could not read itself from another tool's account of it."""
    known: Known | None = c.known
    if known is None:
        return
    e = c.event
    if not e.browser and known.browser:
        e.browser = known.browser[:64]
    if not e.os and known.os:
        e.os = known.os[:64]
    if not e.device_type and known.deviceType and known.deviceType.lower() in DEVICE_TYPES:
        e.device_type = known.deviceType.lower()
    if not e.country_code and known.country and len(known.country) == 2:
        found = pycountry.countries.get(alpha_2=known.country.upper())
        if found is not None:
            e.country_code, e.country = found.alpha_2, found.name
            e.region = e.region or (known.region or "")[:64] or None
            e.city = e.city or (known.city or "")[:128] or None


def drop_bot_if_named(c: pipeline.Candidate) -> str | None:
    """A user agent that is there is judged as live; none is not a bot (docs/import.md)."""
    return "bot" if c.request.user_agent.strip() and is_bot(c.request.user_agent) else None


def _steps() -> tuple[tuple[str, pipeline.Step], ...]:
    steps: list[tuple[str, pipeline.Step]] = []
    for name, step in pipeline.STEPS:
        if name == "drop_bot":
            steps.append(("drop_bot_if_named", drop_bot_if_named))
        elif name not in ("drop_automated", "drop_too_fast"):
            steps.append((name, step))
        if name == "put_geo":
            steps.append(("put_known", put_known))
    return tuple(steps)


STEPS = _steps()


def candidate(
    wire: WireEvent, now: int, site: Site | None, context: pipeline.Context, where: str = ""
) -> pipeline.Candidate:
    """An event with its own time, address and browser, ready for `STEPS`; PayloadError naming the
    field when it cannot be taken."""
    ts = event_time(wire.timestamp, where)
    ts = now if ts is None else ts
    if (problem := time_problem(ts, now, site)) is not None:
        raise PayloadError(where + problem)
    event = to_event(wire, ts, where)
    event.request_id = ids.request_id(now)  # when the server took it: tells history from live traffic
    ip = None
    if wire.ip:
        try:
            ip = str(ipaddress.ip_address(wire.ip.strip()))
        except ValueError:
            raise PayloadError(f"{where}ip: {wire.ip[:64]!r} is not an IP address") from None
    info = pipeline.RequestInfo(ip=ip, user_agent=(wire.userAgent or "")[:512])
    return pipeline.Candidate(event, site, info, context, None, known=wire.ffKnown)


HISTORY_FIELDS = ("timestamp", "ip", "userAgent", "ffKnown")


def carries_history(wire: WireEvent) -> bool:
    return any(getattr(wire, name) is not None for name in HISTORY_FIELDS)
