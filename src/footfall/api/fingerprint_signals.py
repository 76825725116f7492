"""Fingerprint's smart signals, from what footfall records of each identification request.

Only what footfall can honestly compute is answered (docs/api.md, "Fingerprint"); the products it
has no source for (IP blocklists, Tor, virtual machines, developer tools, the mobile SDKs' signals)
are left out of `GET /events`, and their search filters are refused rather than ignored.

- `botd`: headless Chrome or WebDriver from the browser's automation evidence, or a hosting network.
- `incognito`: Chromium's private-window storage quota (below twice the heap limit).
- `vpn`: the browser's time zone keeps a different UTC offset from the one its IP address is
  located in (`timezoneMismatch`); `high` confidence when the address is also a hosting network's.
  Fingerprint's other methods (public VPN lists, OS mismatch, relays, mobile) are always false.
- `proxy`: the request came from a hosting network (`data_center`), `medium` confidence: a browser
  running a page's script from a data centre is relayed, or a cloud-run browser.
- `tampering`: the browser contradicted itself: its client hints or platform disagree with its user
  agent (enrich/automation.py's version, engine and platform mismatches). Searchable (`tampering=`)
  and part of the suspect score; not returned as a product (`smart_products`).
- `velocity`: counts over the visitor's own identification requests in the 5 minutes, hour and
  day up to the request (and its IP's and linked id's, on the same site); countries from the
  configured city database.
- `suspectScore`: the sum of the weights of the signals detected (`WEIGHTS`, footfall's own).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from footfall.enrich.geo import GeoLookup
from footfall.enrich.networks import HostingNetworks
from footfall.queries.visitors import marks
from footfall.store.base import Row, Tx

TAMPERING = ("version_mismatch", "engine_mismatch", "platform_mismatch")
WEIGHTS = {"bot": 10, "tampering": 7, "vpn": 5, "proxy": 5, "incognito": 2}
INTERVALS = {"5m": 300_000, "1h": 3_600_000, "24h": 86_400_000}
MOBILE_ONLY = ("jailbroken", "frida", "factory_reset", "cloned_app", "emulator", "root_apps")


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


def _offset(zone: str | None, ms: int) -> float | None:
    if not zone:
        return None
    try:
        moment = datetime.fromtimestamp(ms / 1000, ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return None
    offset = moment.utcoffset()
    return None if offset is None else offset.total_seconds()


def timezone_mismatch(row: Row) -> bool:
    """Both zones known and keeping different UTC offsets at the request's time (zones that agree,
    such as Europe/London and Europe/Dublin, are no contradiction)."""
    browser, located = _offset(row["timezone"], row["ts"]), _offset(row["ip_timezone"], row["ts"])
    return browser is not None and located is not None and browser != located


@dataclass(frozen=True)
class Signals:
    """The smart signals of one identification row (searches filter on these)."""

    bot: dict[str, str]
    incognito: bool
    vpn: bool
    vpn_confidence: str
    proxy: bool
    tampering: bool

    @property
    def suspect_score(self) -> int:
        found = {"bot": self.bot["result"] == "bad", "tampering": self.tampering, "vpn": self.vpn,
                 "proxy": self.proxy, "incognito": self.incognito}  # fmt: skip
        return sum(WEIGHTS[name] for name, on in found.items() if on)


def signals(row: Row, hosting: HostingNetworks) -> Signals:
    datacenter = hosting.name(row["asn"]) is not None
    mismatch = timezone_mismatch(row)
    return Signals(
        bot=bot_verdict(row, hosting),
        incognito=incognito(row),
        vpn=mismatch,
        vpn_confidence=("high" if datacenter else "medium") if mismatch else "low",
        proxy=datacenter,
        tampering=(row["automation"] or "") in TAMPERING,
    )


def smart_products(tx: Tx, row: Row, nums: list[int], s: Signals, geo: GeoLookup) -> dict[str, Any]:
    """`vpn`, `proxy`, `incognito`, `velocity` and `suspectScore` in Fingerprint's shapes. Tampering
    is searched on and weighs in the score but is not a product here: the v3 SDK's newest model
    (8.15) requires an ML score footfall does not have, and the v3 OpenAPI forbids that field."""
    vpn_methods = {"timezoneMismatch": s.vpn, "publicVPN": False, "auxiliaryMobile": False, "osMismatch": False,
                   "relay": False}  # fmt: skip
    proxy: dict[str, Any] = {"result": s.proxy, "confidence": "medium" if s.proxy else "low"}
    if s.proxy:
        proxy["details"] = {"proxyType": "data_center"}
    return {
        "incognito": {"data": {"result": s.incognito}},
        "vpn": {
            "data": {
                "result": s.vpn,
                "confidence": s.vpn_confidence,
                "originTimezone": row["timezone"] or "",
                "originCountry": "unknown",
                "methods": vpn_methods,
            }
        },
        "proxy": {"data": proxy},
        "velocity": {"data": velocity(tx, row, nums, geo)},
        "suspectScore": {"data": {"result": s.suspect_score}},
    }


def velocity(tx: Tx, row: Row, nums: list[int], geo: GeoLookup) -> dict[str, Any]:
    """Fingerprint's velocity counts over the day before the request (inclusive), from footfall's own
    identification rows: the visitor's (all its browsers), its IP's and its linked id's on the site."""
    ts, day = row["ts"], INTERVALS["24h"]
    mine = tx.all(
        f"SELECT ts, ip, linked_id FROM identifications WHERE visitor_num IN ({marks(nums)}) AND ts > ? AND ts <= ?",
        (*nums, ts - day, ts),
    )
    same_ip = tx.all(
        "SELECT ts FROM identifications WHERE site_num = ? AND ip = ? AND ts > ? AND ts <= ?",
        (row["site_num"], row["ip"], ts - day, ts),
    ) if row["ip"] else []  # fmt: skip
    linked = tx.all(
        "SELECT ts, ip, visitor_num FROM identifications WHERE site_num = ? AND linked_id = ? AND ts > ? AND ts <= ?",
        (row["site_num"], row["linked_id"], ts - day, ts),
    ) if row["linked_id"] else []  # fmt: skip

    located: dict[str, str | None] = {}

    def country(ip: str | None) -> str | None:  # where the address is located now (the city database)
        if ip and ip not in located:
            located[ip] = geo.lookup(ip).country_code
        return located.get(ip) if ip else None

    def counts(rows: list[Row], value: Any) -> dict[str, Any]:
        within = {name: {value(r) for r in rows if r["ts"] > ts - span} for name, span in INTERVALS.items()}
        return {"intervals": {name: len(found - {None}) for name, found in within.items()}}

    def each(rows: list[Row]) -> dict[str, Any]:
        return {"intervals": {name: sum(r["ts"] > ts - span for r in rows) for name, span in INTERVALS.items()}}

    return {
        "distinctIp": counts(mine, lambda r: r["ip"]),
        "distinctLinkedId": counts(mine, lambda r: r["linked_id"]),
        "distinctCountry": counts(mine, lambda r: country(r["ip"])),
        "events": each(mine),
        "ipEvents": each(same_ip),
        "distinctIpByLinkedId": counts(linked, lambda r: r["ip"]),
        "distinctVisitorIdByLinkedId": counts(linked, lambda r: r["visitor_num"]),
    }
