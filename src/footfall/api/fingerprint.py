"""Fingerprint Server API v3, as footfall speaks it: `GET`/`DELETE /visitors/{visitor_id}`,
`GET`/`PUT /events/{request_id}`, `GET /events/search`.

Schemas from Fingerprint's v3 OpenAPI (../shared/specs/fingerprint-v3.md); the official Python SDK
(`fingerprint-pro-server-api-sdk` 8.x) is the client the tests use. Auth: `Auth-API-Key` header or
`api_key` query (and the legacy `Auth-Token` / `token`), a footfall key with the `fingerprint:read`
scope (`fingerprint:write` to change or delete); a site key reaches its site's visitors, an account
key any site of its account. Errors: `GET /visitors` uses Fingerprint's plain form
`{"error": "..."}`, the others the structured `{"error": {"code", "message"}}`. Each key may make 5
requests a second with bursts of 15 (Fingerprint's default account limits; FOOTFALL_FINGERPRINT_RATE and _BURST); beyond
that, 429 with `Retry-After`. The buckets live in each server process.

A visit is an identification request (docs/identity.md). A visitor's visits are those of all its
browsers (a browser matched by device signals is an alias of the visitor). Per visit: browser details
parsed from the stored user agent, the location of the stored IP (the configured city database, at
read time), `incognito` from the reported quota and heap limit (`incognito()`), `firstSeenAt` /
`lastSeenAt`: `subscription` is this visitor on its site (when it was first seen there; the
identification before this visit), `global` the same (footfall links nothing across sites, so the
visitor's whole known history is on its site).
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from footfall import accounts
from footfall.accounts import ApiKey
from footfall.bounds import INT_MAX, INT_MIN
from footfall.clock import Clock, iso_ms
from footfall.enrich.geo import GeoLookup
from footfall.enrich.networks import HostingNetworks
from footfall.enrich.user_agent import parse_agent
from footfall.ids import is_uuid
from footfall.queries.visitors import browsers_of, erase_visitor, marks, visitor_group
from footfall.store.base import Row, Store, Tx, dumps, loads

SCAN_DEFAULT = 100
SCAN_MAX = 500
RATE_PER_SECOND = 5.0
BURST = 15.0


def plain(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status, headers=headers)


def structured(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


FORBIDDEN = "Forbidden (HTTP 403)"


@dataclass
class RateLimiter:
    """A token bucket per key: `rate` a second, up to `burst` at once."""

    rate: float = RATE_PER_SECOND
    burst: float = BURST
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def wait(self, key: str, now: float | None = None) -> float:
        """0 when the request may go (a token is taken), else the seconds until one is free."""
        now = time.monotonic() if now is None else now
        tokens, then = self.buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            return 0.0
        self.buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate


def api_key_of(request: Request) -> str | None:
    h, q = request.headers, request.query_params
    return h.get("auth-api-key") or q.get("api_key") or h.get("auth-token") or q.get("token") or None


def iso_seconds(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def browser_details(user_agent: str) -> dict[str, str]:
    """All seven strings are required: unknown names are "Other" (uap-core's word), versions empty;
    `device` is the model of a phone, tablet, TV or console and "Other" for desktops, as Fingerprint's."""
    a = parse_agent(user_agent)
    version = a.browser_version or ""
    return {
        "browserName": a.browser or "Other",
        "browserMajorVersion": version.split(".")[0],
        "browserFullVersion": version,
        "os": a.os or "Other",
        "osVersion": a.os_version or "",
        "device": (a.device_model if a.device_type not in (None, "desktop") else None) or "Other",
        "userAgent": user_agent,
    }


def ip_location(geo: GeoLookup, ip: str | None) -> dict[str, Any] | None:
    loc = geo.lookup(ip)
    out: dict[str, Any] = {}
    if loc.accuracy_radius is not None:
        out["accuracyRadius"] = loc.accuracy_radius
    if loc.latitude is not None and loc.longitude is not None:
        out["latitude"], out["longitude"] = loc.latitude, loc.longitude
    if loc.postal_code:
        out["postalCode"] = loc.postal_code
    if loc.timezone:
        out["timezone"] = loc.timezone
    if loc.city:
        out["city"] = {"name": loc.city}
    if loc.country_code:
        out["country"] = {"code": loc.country_code, "name": loc.country or loc.country_code}
    return out or None


def visit(row: Row, first_seen: int, previous: int | None, look: Lookups) -> dict[str, Any]:
    body: dict[str, Any] = {
        "requestId": row["request_id"],
        "browserDetails": browser_details(row["user_agent"]),
        "incognito": incognito(row),
        "ip": row["ip"] or "",
        "timestamp": row["ts"],
        "time": iso_seconds(row["ts"]),
        "url": row["url"],
        "tag": loads(row["tag"]),
        "confidence": {"score": row["confidence"]},
        "visitorFound": bool(row["visitor_found"]),
        # footfall links nothing across sites, so a visitor's whole known history is its site's
        "firstSeenAt": {"global": iso_ms(first_seen), "subscription": iso_ms(first_seen)},
        "lastSeenAt": {"global": iso_ms(previous), "subscription": iso_ms(previous)},
    }
    location = ip_location(look.geo, row["ip"])
    if location:
        body["ipLocation"] = location
    if row["linked_id"] is not None:
        body["linkedId"] = row["linked_id"]
    return body


@dataclass(frozen=True)
class VisitsQuery:
    request_id: str | None
    linked_id: str | None
    limit: int
    pagination_key: str | None
    before: int | None


def whole(raw: str) -> int:
    """A query's integer within 64 bits (what the stores keep); ValueError otherwise."""
    value = int(raw[:21])
    if len(raw) > 21 or not INT_MIN <= value <= INT_MAX:
        raise ValueError(raw)
    return value


def parse_query(request: Request) -> VisitsQuery | None:
    """None when a parameter is malformed. Unknown parameters (the SDK's `ii`) are ignored."""
    q = request.query_params
    try:
        limit = whole(q.get("limit", str(SCAN_DEFAULT)))
        before = whole(q["before"]) if q.get("before") else None
    except ValueError:
        return None
    if limit < 0:
        return None
    return VisitsQuery(q.get("request_id"), q.get("linked_id"), min(limit, SCAN_MAX), q.get("paginationKey"), before)


def visits(tx: Tx, key: ApiKey, visitor_id: str, query: VisitsQuery, look: Lookups) -> dict[str, Any]:
    """Newest first. `limit` rows are scanned, then filtered; the pagination fields say where the
    scan stopped, and appear only while more rows remain (Fingerprint's documented behaviour)."""
    empty = {"visitorId": visitor_id, "visits": []}
    owned = _owned_visitor(tx, key, visitor_id)
    if owned is None:
        return empty
    visitor, nums = owned
    where, params = f"visitor_num IN ({marks(nums)})", list[Any](nums)
    if query.pagination_key:
        anchor = tx.one(
            f"SELECT ts FROM identifications WHERE request_id = ? AND {where}", (query.pagination_key, *nums)
        )
        if anchor is None:
            return empty
        where += " AND (ts < ? OR (ts = ? AND request_id < ?))"
        params += [anchor["ts"], anchor["ts"], query.pagination_key]
    if query.before is not None:
        where += " AND ts < ?"
        params.append(query.before)
    scanned = tx.all(
        f"SELECT * FROM identifications WHERE {where} ORDER BY ts DESC, request_id DESC LIMIT ?",
        (*params, query.limit + 1),
    )
    more = len(scanned) > query.limit
    shown = []
    for i, row in enumerate(scanned[: query.limit]):
        if _wanted(row, query):  # the visit before this one: the next row scanned, else a look-up
            previous = scanned[i + 1]["ts"] if i + 1 < len(scanned) else _previous(tx, nums, row)
            shown.append(visit(row, visitor["first_seen"], previous, look))
    scanned = scanned[: query.limit]
    body: dict[str, Any] = {"visitorId": visitor["id"], "visits": shown}
    if more and scanned:
        body["lastTimestamp"] = scanned[-1]["ts"]
        body["paginationKey"] = scanned[-1]["request_id"]
    return body


def _wanted(row: Row, query: VisitsQuery) -> bool:
    return (query.request_id is None or row["request_id"] == query.request_id) and (
        query.linked_id is None or row["linked_id"] == query.linked_id
    )


def _previous(tx: Tx, nums: list[int], row: Row) -> int | None:
    """The visitor's identification before `row` (any of its browsers)."""
    before = tx.one(
        f"SELECT ts FROM identifications WHERE visitor_num IN ({marks(nums)}) "
        "AND (ts < ? OR (ts = ? AND request_id < ?)) ORDER BY ts DESC, request_id DESC LIMIT 1",
        (*nums, row["ts"], row["ts"], row["request_id"]),
    )
    return before["ts"] if before else None


def routes(
    store: Store,
    geo: GeoLookup,
    clock: Clock,
    limiter: RateLimiter | None = None,
    hosting: HostingNetworks | None = None,
) -> list[Route]:
    limiter = limiter or RateLimiter()
    look = Lookups(geo, hosting or HostingNetworks())

    async def caller(request: Request, scope: str, plain_errors: bool = False) -> ApiKey | Response:
        token = api_key_of(request)
        key = await run_in_threadpool(store.read, lambda tx: accounts.find_key(tx, token)) if token else None
        if key is None or not key.allows(scope):
            if plain_errors:
                return plain(403, FORBIDDEN)
            if token is None:
                return structured(403, "TokenRequired", "secret key is required")
            if key is None:
                return structured(403, "TokenNotFound", "secret key is not found")
            return structured(403, "FeatureNotEnabled", "feature not enabled")
        wait = limiter.wait(key.id)
        if wait:
            retry = {"retry-after": str(max(1, math.ceil(wait)))}
            too_many = "too many requests"
            return plain(429, too_many, retry) if plain_errors else structured(429, "TooManyRequests", too_many, retry)
        return key

    async def get_visits(request: Request) -> Response:
        key = await caller(request, "fingerprint:read", plain_errors=True)
        if isinstance(key, Response):
            return key
        query = parse_query(request)
        visitor_id = request.path_params["visitor_id"]
        if query is None or not visitor_id:
            return plain(400, "bad request")
        body = await run_in_threadpool(store.read, lambda tx: visits(tx, key, visitor_id, query, look))
        return JSONResponse(body)

    async def delete_visitor(request: Request) -> Response:
        key = await caller(request, "fingerprint:write")
        if isinstance(key, Response):
            return key
        visitor_id = request.path_params["visitor_id"]
        if not is_uuid(visitor_id):
            return structured(400, "RequestCannotBeParsed", "invalid visitor id")
        now = clock.now_ms()
        deleted = await run_in_threadpool(store.write, lambda tx: delete_visitor_data(tx, key, visitor_id, now))
        await run_in_threadpool(store.scrub)
        return Response(status_code=200) if deleted else structured(404, "VisitorNotFound", "visitor not found")

    async def get_event(request: Request) -> Response:
        key = await caller(request, "fingerprint:read")
        if isinstance(key, Response):
            return key
        request_id = request.path_params["request_id"]
        body = await run_in_threadpool(store.read, lambda tx: event_body(tx, key, request_id, look))
        if body is None:
            return structured(404, "RequestNotFound", "request id is not found")
        return JSONResponse(body)

    async def update_event(request: Request) -> Response:
        key = await caller(request, "fingerprint:write")
        if isinstance(key, Response):
            return key
        try:
            changes = UPDATE.decode(await request.body())
        except msgspec.DecodeError:
            return structured(400, "RequestCannotBeParsed", "request body is not valid")
        request_id = request.path_params["request_id"]
        updated = await run_in_threadpool(store.write, lambda tx: update_identification(tx, key, request_id, changes))
        return Response(status_code=200) if updated else structured(404, "RequestNotFound", "request id is not found")

    async def search(request: Request) -> Response:
        key = await caller(request, "fingerprint:read")
        if isinstance(key, Response):
            return key
        query = parse_search(request.query_params, clock.now_ms())
        if isinstance(query, str):
            return structured(400, "RequestCannotBeParsed", query)
        body = await run_in_threadpool(store.read, lambda tx: search_events(tx, key, query, look))
        return JSONResponse(body)

    return [
        Route("/events/search", search, methods=["GET"]),
        Route("/visitors/{visitor_id}", get_visits, methods=["GET"]),
        Route("/visitors/{visitor_id}", delete_visitor, methods=["DELETE"]),
        Route("/events/{request_id}", get_event, methods=["GET"]),
        Route("/events/{request_id}", update_event, methods=["PUT"]),
    ]


class EventUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """PUT /events/{request_id}: Fingerprint's EventsUpdateRequest."""

    linkedId: str | None = None  # noqa: N815 - Fingerprint's name
    tag: dict[str, Any] | None = None
    suspect: bool | None = None


UPDATE = msgspec.json.Decoder(EventUpdate)


def _reaches(key: ApiKey, row: Row | None) -> Row | None:
    """`row` (with `account_id` and `site_id`) when it is on a site this key reaches, else None."""
    if row is None or row["account_id"] != key.account_id or key.site_id not in (None, row["site_id"]):
        return None
    return row


# An identification with the visitor it counts for (an alias's root: docs/identity.md) and its site.
IDENTIFICATION_ROWS = (
    "SELECT i.*, COALESCE(r.id, v.id) AS visitor_id, COALESCE(r.first_seen, v.first_seen) AS first_seen, "
    "COALESCE(v.alias_of, v.num) AS root_num, s.id AS site_id, s.account_id FROM identifications i "
    "JOIN visitors v ON v.num = i.visitor_num LEFT JOIN visitors r ON r.num = v.alias_of "
    "JOIN sites s ON s.num = i.site_num"
)


def _owned(tx: Tx, key: ApiKey, request_id: str) -> Row | None:
    """The identification, if it belongs to a site this key reaches."""
    return _reaches(key, tx.one(f"{IDENTIFICATION_ROWS} WHERE i.request_id = ?", (request_id,)))


def _owned_visitor(tx: Tx, key: ApiKey, visitor_id: str) -> tuple[Row, list[int]] | None:
    """The visitor (an alias's root) and the nums of its browsers, if on a site this key reaches."""
    browser = _reaches(
        key,
        tx.one(
            "SELECT v.*, s.account_id FROM visitors v JOIN sites s ON s.id = v.site_id WHERE v.id = ?",
            (visitor_id.lower(),),
        ),
    )
    return None if browser is None else visitor_group(tx, browser)


@dataclass(frozen=True)
class Lookups:
    """What reads add to stored facts: the location and owner of an IP, and which owners host servers."""

    geo: GeoLookup
    hosting: HostingNetworks


def bot_verdict(row: Row, hosting: HostingNetworks) -> dict[str, str]:
    """From what the browser reported and where it connected from. Declared crawlers (user-agent
    patterns) never get this far: collect drops them, so no stored request is a `good` bot."""
    if row["headless"]:
        return {"result": "bad", "type": "headlessChrome"}
    if row["webdriver"]:
        return {"result": "bad", "type": "automationTool"}
    if hosting.name(row["asn"]):
        return {"result": "bad", "type": "hostingNetwork"}
    return {"result": "notDetected"}


def incognito(row: Row) -> bool:
    """Chromium gives private windows a storage quota below twice the JavaScript heap limit (the rule
    of detectIncognito); other browsers report no heap limit, and nothing is claimed for them."""
    quota, heap = row["quota_mb"], row["heap_mb"]
    return quota is not None and heap is not None and quota < 2 * heap


def ip_info(look: Lookups, ip: str | None) -> dict[str, Any] | None:
    if not ip:
        return None
    try:
        version = ipaddress.ip_address(ip).version
    except ValueError:
        return None
    data: dict[str, Any] = {"address": ip, "geolocation": ip_location(look.geo, ip) or {}}
    owner = look.geo.network(ip)
    if owner.asn is not None and owner.network:
        data["asn"] = {"asn": str(owner.asn), "name": owner.organization or "", "network": owner.network}
        hosting = look.hosting.name(owner.asn)
        data["datacenter"] = {"result": hosting is not None, "name": hosting or ""}
    return {f"v{version}": data}


def event_body(tx: Tx, key: ApiKey, request_id: str, look: Lookups) -> dict[str, Any] | None:
    row = _owned(tx, key, request_id)
    return None if row is None else products_of(tx, row, look)


def products_of(tx: Tx, row: Row, look: Lookups) -> dict[str, Any]:
    """`{"products": {identification, botd, ipInfo}}` for one identification row (joined as in `_owned`)."""
    identification = visit(row, row["first_seen"], _previous(tx, browsers_of(tx, row["root_num"]), row), look)
    identification |= {"visitorId": row["visitor_id"], "replayed": False}
    if row["suspect"] is not None:
        identification["suspect"] = bool(row["suspect"])
    botd = {
        "bot": bot_verdict(row, look.hosting),
        "url": row["url"],
        "ip": row["ip"] or "",
        "time": iso_seconds(row["ts"]),
        "userAgent": row["user_agent"],
        "requestId": row["request_id"],
    }
    if row["linked_id"] is not None:
        botd["linkedId"] = row["linked_id"]
    products: dict[str, Any] = {"identification": {"data": identification}, "botd": {"data": botd}}
    info = ip_info(look, row["ip"])
    if info:
        products["ipInfo"] = {"data": info}
    return {"products": products}


def update_identification(tx: Tx, key: ApiKey, request_id: str, changes: EventUpdate) -> bool:
    if _owned(tx, key, request_id) is None:
        return False
    sets: dict[str, Any] = {}
    if changes.linkedId is not None:
        sets["linked_id"] = changes.linkedId
    if changes.tag is not None:
        sets["tag"] = dumps(changes.tag)
    if changes.suspect is not None:
        sets["suspect"] = int(changes.suspect)
    if sets:
        assignments = ", ".join(f"{column} = ?" for column in sets)
        tx.execute(f"UPDATE identifications SET {assignments} WHERE request_id = ?", (*sets.values(), request_id))
    return True


def delete_visitor_data(tx: Tx, key: ApiKey, visitor_id: str, now_ms: int) -> bool:
    """Really deletes: the visitor's identifications, events, sessions and the visitor itself. The same
    browser gets a new visitor id afterwards (its signed cookie id no longer finds anything)."""
    owned = _owned_visitor(tx, key, visitor_id)
    if owned is None:
        return False
    erase_visitor(tx, owned[1], now_ms)
    return True


SEARCH_MAX = 100
SEARCH_WINDOW_MS = 7 * 24 * 3600 * 1000  # without `start`: the last 7 days, as Fingerprint
BOTS = {"all", "good", "bad", "none"}


@dataclass(frozen=True)
class Search:
    limit: int
    start: int
    end: int
    reverse: bool
    pagination_key: int | None
    visitor_id: str | None
    linked_id: str | None
    bot: str
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    suspect: bool | None


def _flag_param(value: str | None) -> bool | None:
    return None if value is None else {"true": True, "false": False}.get(value.lower())


def parse_search(q: Any, now_ms: int) -> Search | str:
    """The query, or the message of Fingerprint's 400 for the first bad parameter."""

    def number(name: str) -> int | None:
        return whole(q[name]) if q.get(name) is not None else None

    try:
        limit = number("limit")
    except ValueError:
        limit = None
    if limit is None or limit < 1:
        return "invalid limit"
    checks = (
        ("start", "invalid start time"),
        ("end", "invalid end time"),
        ("pagination_key", "invalid pagination key"),
    )
    values: dict[str, int | None] = {}
    for name, message in checks:
        try:
            values[name] = number(name)
        except ValueError:
            return message
    reverse = _flag_param(q.get("reverse")) if q.get("reverse") is not None else False
    if reverse is None:
        return "invalid reverse param"
    bot = q.get("bot", "all")
    if bot not in BOTS:
        return "invalid bot type"
    linked = q.get("linked_id")
    if linked is not None and len(linked) > 256:
        return "linked_id can't be greater than 256 characters long"
    visitor = q.get("visitor_id")
    if visitor is not None and not is_uuid(visitor.lower()):
        return "invalid visitor id"
    network = None
    if q.get("ip_address"):
        try:
            network = ipaddress.ip_network(q["ip_address"], strict=False)
        except ValueError:
            return "invalid ip address"
    suspect = _flag_param(q.get("suspect")) if q.get("suspect") is not None else None
    end = values["end"] if values["end"] is not None else now_ms
    start = values["start"] if values["start"] is not None else end - SEARCH_WINDOW_MS
    return Search(
        min(limit, SEARCH_MAX),
        start,
        end,
        reverse,
        values["pagination_key"],
        visitor.lower() if visitor else None,
        linked,
        bot,
        network,
        suspect,
    )


def search_events(tx: Tx, key: ApiKey, s: Search, look: Lookups) -> dict[str, Any]:
    """Newest first (oldest with `reverse`). `paginationKey` is the timestamp of the page's last event,
    as Fingerprint's; a page never ends inside a millisecond that has more events, so the next page
    (strictly before, or after, that timestamp) misses none."""
    where = ["s.account_id = ?", "i.ts >= ?", "i.ts <= ?"]
    params: list[Any] = [key.account_id, s.start, s.end]
    if key.site_id:
        where.append("s.id = ?")
        params.append(key.site_id)
    if s.pagination_key is not None:
        where.append("i.ts > ?" if s.reverse else "i.ts < ?")
        params.append(s.pagination_key)
    for column, value in (("COALESCE(r.id, v.id)", s.visitor_id), ("i.linked_id", s.linked_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if s.suspect is not None:
        where.append("i.suspect = ?" if s.suspect else "(i.suspect IS NULL OR i.suspect = 0)")
        if s.suspect:
            params.append(1)
    if s.bot in ("bad", "none", "good"):  # bot_verdict's rules
        hosting = look.hosting.numbers()
        automated = (
            f"(COALESCE(i.headless, 0) = 1 OR COALESCE(i.webdriver, 0) = 1 OR COALESCE(i.asn, 0) IN ({marks(hosting)}))"
        )
        where.append({"bad": automated, "none": f"NOT {automated}", "good": "1 = 0"}[s.bot])
        params += hosting if s.bot != "good" else []
    order = "ASC" if s.reverse else "DESC"
    sql = (
        f"{IDENTIFICATION_ROWS} WHERE {' AND '.join(where)} "
        f"ORDER BY i.ts {order}, i.request_id {order} LIMIT ? OFFSET ?"
    )
    found: list[Row] = []
    offset, batch = 0, max(s.limit + 1, 200)
    while len(found) <= s.limit:  # the IP range is matched here, so scan in batches until one more than asked
        rows = tx.all(sql, (*params, batch, offset))
        found += [r for r in rows if s.network is None or _in(r["ip"], s.network)]
        if len(rows) < batch:
            break
        offset += batch
    page, more = found[: s.limit], len(found) > s.limit
    if more and found[s.limit]["ts"] == page[-1]["ts"]:
        trimmed = [r for r in page if r["ts"] != page[-1]["ts"]]
        page = trimmed or page  # one millisecond holding more than `limit` events: it is cut, as Fingerprint's
    body: dict[str, Any] = {"events": [products_of(tx, r, look) for r in page]}
    if more:
        body["paginationKey"] = str(page[-1]["ts"])
    return body


def _in(ip: str | None, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ip is not None and ipaddress.ip_address(ip) in network
    except ValueError:
        return False
