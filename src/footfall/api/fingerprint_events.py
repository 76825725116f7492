"""Fingerprint's reads and writes of identification requests: visits (`GET /visitors`), events
(`GET`/`PUT /events/{request_id}`), deletion and related visitors (api/fingerprint.py routes them).

A visit is an identification request (docs/identity.md). A visitor's visits are those of all its
browsers (a browser matched by device signals is an alias of the visitor). Per visit: browser details
parsed from the stored user agent, the location of the stored IP (the configured city database, at
read time), `incognito` from the reported quota and heap limit, `firstSeenAt` / `lastSeenAt`:
`subscription` is this visitor on its site (when it was first seen there; the identification before
this visit), `global` the same (footfall links nothing across sites, so the visitor's whole known
history is on its site).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from starlette.requests import Request

from footfall.accounts import ApiKey
from footfall.api.fingerprint_signals import (
    Lookups,
    incognito,
    ip_info,
    ip_location,
    signals,
    smart_products,
)
from footfall.bounds import INT_MAX, INT_MIN
from footfall.clock import iso_ms
from footfall.enrich.user_agent import parse_agent
from footfall.queries.visitors import browsers_of, erase_visitor, marks, visitor_group
from footfall.store.base import Row, Tx, dumps, loads

SCAN_DEFAULT = 100
SCAN_MAX = 500


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


def event_body(tx: Tx, key: ApiKey, request_id: str, look: Lookups) -> dict[str, Any] | None:
    row = _owned(tx, key, request_id)
    return None if row is None else products_of(tx, row, look)


def products_of(tx: Tx, row: Row, look: Lookups) -> dict[str, Any]:
    """`{"products": {...}}` for one identification row (joined as in `_owned`): identification, botd,
    ipInfo and the smart signals of api/fingerprint_signals.py."""
    nums = browsers_of(tx, row["root_num"])
    identification = visit(row, row["first_seen"], _previous(tx, nums, row), look)
    identification |= {"visitorId": row["visitor_id"], "replayed": False}
    if row["suspect"] is not None:
        identification["suspect"] = bool(row["suspect"])
    found = signals(row, look.hosting)
    botd = {
        "bot": found.bot,
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
    products |= smart_products(tx, row, nums, found, look.geo)
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


def related_visitors(tx: Tx, key: ApiKey, visitor_id: str) -> list[dict[str, str]] | None:
    """The other visitor ids of the same device: the browsers footfall matched to this visitor by
    device signals (its aliases, docs/identity.md), or, for an alias, its visitor and the other
    aliases. None when the visitor is not on a site this key reaches."""
    owned = _owned_visitor(tx, key, visitor_id)
    if owned is None:
        return None
    _, nums = owned
    rows = tx.all(f"SELECT id FROM visitors WHERE num IN ({marks(nums)}) ORDER BY num", nums)
    return [{"visitorId": r["id"]} for r in rows if r["id"] != visitor_id.lower()]
