"""Device matching: which known visitor a browser without a usable id is, from its device signals.

A browser that cleared its storage, or a private window of a known browser, arrives with no
visitor id but with the same device signature (`device_hash`: canvas, WebGL, audio, fonts,
screen, timezone, languages and the rest, tracker/src/device.js). The candidates are this site's
identification requests with that signature in the last `window_ms`; when there are none, those
with the same core signature (`core_hash`: every component but canvas and audio, the two that
some browsers add noise to and that can render differently from one context to another), which
start lower. A candidate counts only with the same network context:

- the same IP prefix (IPv4 /24, IPv6 /64), and
- the same user-agent family (browser and operating system names; versions may differ).

Each counting candidate scores 0.90 (0.85 on the core signature), plus 0.04 for the very same
IP, 0.03 for the very same user-agent string and 0.02 when seen in the last 24 hours (at most
0.99). A visitor's score is
its best candidate's. Exactly one visitor scoring: a match with that confidence. Several
distinct visitors scoring (identical machines on one network, or two browser profiles of one
machine already told apart): ambiguous, and nothing is merged.

A signature is evidence only while it is rare: when `COMMON` or more distinct visitors of the site
carry it in the window, wherever they were seen (the same phone model and system on many
networks, a company's identical laptops), it names nobody and never matches, whatever the
network says. An ambiguous or common verdict's confidence is 1/(n+1) for n visitors it could be.
A match is only ever a presumption (identity/devices.py): it never names a person.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from footfall.enrich.user_agent import parse_agent
from footfall.model import Event
from footfall.store.base import Tx

DAY_MS = 86_400_000
BASE, CORE_BASE, SAME_IP, SAME_AGENT, RECENT = 0.90, 0.85, 0.04, 0.03, 0.02
COMMON = 2  # distinct visitors carrying a signature from which it identifies nobody
CANDIDATES = 200  # most recent identification requests with the signature that are compared


@dataclass(slots=True, frozen=True)
class Sighting:
    """One identification request: who, from where, with what browser, when."""

    root_id: str  # the visitor it counts for (an alias's root)
    root: int | None  # that visitor's num; None while it is new in this job
    ip: str | None
    user_agent: str
    ts: int


@dataclass(slots=True, frozen=True)
class Match:
    root_id: str | None  # the matched visitor; None when ambiguous
    root: int | None  # its num; None when ambiguous or new in this job
    confidence: float


def ip_prefix(ip: str | None) -> str | None:
    """The network a device sits in: /24 of IPv4, /64 of IPv6."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    bits = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


def agent_family(user_agent: str) -> tuple[str | None, str | None]:
    agent = parse_agent(user_agent)
    return (agent.browser, agent.os)


def score(event: Event, seen: Sighting, base: float = BASE) -> float | None:
    """How sure a sighting makes us that `event` comes from the same browser; None: not at all."""
    if ip_prefix(event.ip) is None or ip_prefix(seen.ip) != ip_prefix(event.ip):
        return None
    if agent_family(seen.user_agent) != (event.browser, event.os):
        return None
    value = base
    value += SAME_IP if seen.ip == event.ip else 0.0
    value += SAME_AGENT if seen.user_agent == event.user_agent else 0.0
    value += RECENT if event.ts - seen.ts <= DAY_MS else 0.0
    return round(value, 2)


def ambiguous(candidates: int) -> Match:
    """A new visitor that may be one of `candidates` known ones."""
    return Match(None, None, round(1 / (candidates + 1), 2))


def decide(event: Event, sightings: list[Sighting], base: float = BASE) -> Match | None:
    """The visitor these sightings point to, or an ambiguous verdict, or None when none counts."""
    carriers = {seen.root_id for seen in sightings}
    best: dict[str, tuple[float, int | None]] = {}
    for seen in sightings:
        value = score(event, seen, base)
        if value is not None and value > best.get(seen.root_id, (0.0, None))[0]:
            best[seen.root_id] = (value, seen.root)
    if not best:
        return None
    if len(carriers) >= COMMON:  # a common configuration: it tells nobody apart
        return ambiguous(len(carriers))
    [(root_id, (value, root))] = best.items()
    return Match(root_id, root, value)


class DeviceMatcher:
    """Finds sightings of a device signature, in the store and among this job's new browsers."""

    def __init__(self, tx: Tx, window_ms: int) -> None:
        self.tx = tx
        self.window_ms = window_ms
        self.in_job: dict[tuple[str, int, str], list[Sighting]] = {}

    def match(self, event: Event) -> Match | None:
        """On the full signature, else on the core one (never when the full one was ambiguous)."""
        assert event.device_hash is not None
        found = decide(event, self._sightings(event, "device_hash", event.device_hash))
        if found is None and event.core_hash is not None:
            found = decide(event, self._sightings(event, "core_hash", event.core_hash), CORE_BASE)
        elif found is not None and found.root_id is not None and event.core_hash is not None:
            # the full signature is rare, but the core one may be common (canvas noise that differs)
            core = {s.root_id for s in self._sightings(event, "core_hash", event.core_hash)}
            if len(core | {found.root_id}) >= COMMON:
                return ambiguous(len(core | {found.root_id}))
        return found

    def _sightings(self, event: Event, column: str, value: str) -> list[Sighting]:
        rows = self.tx.all(
            "SELECT COALESCE(v.alias_of, v.num) AS root, COALESCE(r.id, v.id) AS root_id, i.ip, i.user_agent, i.ts "
            "FROM identifications i JOIN visitors v ON v.num = i.visitor_num "
            "LEFT JOIN visitors r ON r.num = v.alias_of "
            f"WHERE i.site_num = ? AND i.{column} = ? AND i.ts >= ? ORDER BY i.ts DESC LIMIT ?",
            (event.site_num, value, event.ts - self.window_ms, CANDIDATES),
        )
        sightings = [Sighting(r["root_id"], r["root"], r["ip"], r["user_agent"], r["ts"]) for r in rows]
        return sightings + self.in_job.get((column, event.site_num, value), [])

    def saw(self, event: Event, root_id: str, root: int | None) -> None:
        """Remember a browser identified in this job (its row is written at the end of the job)."""
        if event.device_hash is None:
            return  # the core signature comes only with the full one
        sighting = Sighting(root_id, root, event.ip, event.user_agent, event.ts)
        for column, value in (("device_hash", event.device_hash), ("core_hash", event.core_hash)):
            if value is not None:
                self.in_job.setdefault((column, event.site_num, value), []).append(sighting)
