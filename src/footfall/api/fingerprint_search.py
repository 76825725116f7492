"""Fingerprint's `GET /events/search`: every filter of the v3 OpenAPI applied, or refused with
Fingerprint's 400 when footfall records nothing it could be applied to (never ignored)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from footfall.accounts import ApiKey
from footfall.api.fingerprint_events import IDENTIFICATION_ROWS, products_of, whole
from footfall.api.fingerprint_signals import MOBILE_ONLY, Lookups, signals
from footfall.ids import is_uuid
from footfall.queries.visitors import marks
from footfall.store.base import Row, Tx

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
    flags: dict[str, bool]  # smart signals asked for: vpn, incognito, proxy, tampering, datacenter
    vpn_confidence: str | None
    min_suspect_score: int | None
    none: bool  # a mobile SDK's signal asked to be true: no browser request has it

    def wanted(self, row: Row, look: Lookups) -> bool:
        """The filters footfall applies to each row: the IP range and the smart signals."""
        if self.network is not None and not _in(row["ip"], self.network):
            return False
        if not self.flags and self.vpn_confidence is None and self.min_suspect_score is None:
            return True
        s = signals(row, look.hosting)
        found = {"vpn": s.vpn, "incognito": s.incognito, "proxy": s.proxy, "tampering": s.tampering,
                 "datacenter": s.proxy}  # fmt: skip
        if any(found[name] != value for name, value in self.flags.items()):
            return False
        if self.vpn_confidence is not None and not (s.vpn and s.vpn_confidence == self.vpn_confidence):
            return False
        return self.min_suspect_score is None or s.suspect_score >= self.min_suspect_score


# Filters on what footfall does not record: refused (400) whatever their value, since answering
# `false` for all would claim every request was checked.
UNSUPPORTED = ("virtual_machine", "privacy_settings", "developer_tools", "location_spoofing", "mitm_attack",
               "ip_blocklist", "anti_detect_browser", "sdk_version", "sdk_platform", "environment",
               "proximity_id", "proximity_precision_radius")  # fmt: skip
SIGNAL_FILTERS = ("vpn", "incognito", "proxy", "tampering", "datacenter")
CONFIDENCES = ("low", "medium", "high")


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
    if q.get("suspect") is not None and suspect is None:
        return "invalid suspect param"
    for name in UNSUPPORTED:
        if q.get(name) is not None or q.getlist(name + "[]"):
            return f"{name} is not supported: footfall does not record it (docs/api.md)"
    flags: dict[str, bool] = {}
    for name in (*SIGNAL_FILTERS, *MOBILE_ONLY):
        if q.get(name) is not None:
            value = _flag_param(q.get(name))
            if value is None:
                return f"invalid {name} param"
            flags[name] = value
    confidence = q.get("vpn_confidence")
    if confidence is not None and confidence not in CONFIDENCES:
        return "invalid vpn_confidence param"
    try:
        min_score = number("min_suspect_score")
    except ValueError:
        return "invalid min_suspect_score param"
    if min_score is not None and min_score < 0:
        return "invalid min_suspect_score param"
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
        {k: v for k, v in flags.items() if k in SIGNAL_FILTERS},
        confidence,
        min_score,
        any(flags.get(name) for name in MOBILE_ONLY),  # web requests never have them
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
    while len(found) <= s.limit and not s.none:  # rows are filtered here: scan in batches to one more than asked
        rows = tx.all(sql, (*params, batch, offset))
        found += [r for r in rows if s.wanted(r, look)]
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
