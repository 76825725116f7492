"""The last pipeline step, run inside the store's write transaction: identify, then append.

One call handles one request's events (one, or a batch). The store runs many
calls in one transaction (group commit) and answers them after the commit.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Sequence
from typing import Any

from footfall.enrich.networks import HostingNetworks
from footfall.identity.claims import Claim, lock_keys
from footfall.identity.devices import VisitorResolver, VisitorState, lock_key, visitor_key
from footfall.identity.matching import DeviceMatcher
from footfall.identity.people import People, find_person
from footfall.identity.sessions import SessionAssigner
from footfall.ids import LinkSigner, VisitorSigner
from footfall.model import Event
from footfall.rollups import forget_slots
from footfall.sources import SourceRows, Touch
from footfall.store.base import Row, Tx, dumps, loads
from footfall.workflows import on_new_rows

EVENT_COLUMNS = (
    "request_id",
    "site_num",
    "visitor_num",
    "session_num",
    "ts",
    "type",
    "name",
    "href",
    "hostname",
    "path",
    "title",
    "referrer",
    "params",
    "click_ids",
    "viewport_width",
    "viewport_height",
    "user_agent",
    "ip",
    "extra",
)
_JSON_AT = tuple(EVENT_COLUMNS.index(c) for c in ("params", "click_ids", "extra"))
INSERT_EVENT = f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
_columns = operator.attrgetter(*EVENT_COLUMNS)


def event_row(e: Event) -> list[Any]:
    row = list(_columns(e))
    for i in _JSON_AT:
        row[i] = dumps(row[i]) if row[i] else "{}"
    return row


INSERT_IDENTIFICATION = (
    "INSERT INTO identifications (request_id, site_num, visitor_num, ts, url, ip, user_agent, linked_id, tag, "
    "visitor_found, confidence, device_hash, core_hash, quota_mb, heap_mb, webdriver, headless, asn, timezone, "
    "ip_timezone, automation) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def identification_row(e: Event) -> tuple[Any, ...]:
    tag = e.extra.get("tag") if e.type == "identification" else None
    return (
        e.request_id,
        e.site_num,
        e.visitor_num,
        e.ts,
        e.href,
        e.ip,
        e.user_agent,
        e.extra.get("linkedId") if e.type == "identification" else None,
        dumps(tag) if tag else "{}",
        int(not e.new_visitor),
        e.confidence,
        e.device_hash,
        e.core_hash,
        e.quota_mb,
        e.heap_mb,
        _flag(e.webdriver),
        _flag(e.headless),
        e.asn,
        e.timezone,
        e.geo_timezone,
        e.automation,
    )


def received_at(e: Event) -> int:
    """When the server received the event: its request id begins with that time (ids.request_id)."""
    head = e.request_id.partition(".")[0]
    return int(head) if head.isdigit() else e.ts


def claim_of(e: Event) -> Claim:
    """An identify event (DataFast's `user_id` and traits in extraData) or a captured form."""
    return Claim.from_properties(e.site_num, e.ts, e.type, e.extra)


class EventWriter:
    """Identifies and writes events; a function of a Tx for `store.submit`."""

    def __init__(
        self,
        signer: VisitorSigner,
        links: LinkSigner,
        idle_ms: int,
        match_window_ms: int,
        hosting: HostingNetworks | None = None,
        link_ttl_ms: int = 30 * 86_400_000,
    ) -> None:
        self.signer = signer
        self.links = links
        self.idle_ms = idle_ms
        self.match_window_ms = match_window_ms
        self.hosting = hosting or HostingNetworks()
        self.link_ttl_ms = link_ttl_ms

    def _linked(self, tx: Tx, event: Event, browser: int, shared: bool) -> Row | None:
        """The person an email-link token names: a valid token of this site, not expired, whose
        person still exists, and (unless the site shares links) used by no other browser before."""
        found = self.links.read(event.site_id, event.link_token)
        if found is None or event.ts - found[1] > self.link_ttl_ms:
            return None
        person = find_person(tx, event.site_num, found[0])
        if person is None:
            return None
        key = hashlib.sha256(f"{event.site_id}|{event.link_token}".encode()).hexdigest()
        first = tx.one("SELECT visitor_num FROM link_token_uses WHERE token_hash = ?", (key,))
        if first is None:
            tx.execute(
                "INSERT INTO link_token_uses (token_hash, site_num, person_num, visitor_num, first_used_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, event.site_num, person["num"], browser, event.ts),
            )
        elif first["visitor_num"] != browser and not shared:
            return None  # a forwarded email: the link named its first browser, not this one
        return person

    def merge(self, tx: Tx, groups: list[list[Event]]) -> list[list[Event]]:
        """Several requests' events identified and written together (see `Job.merged`)."""
        self(tx, [e for group in groups for e in group])
        return groups

    def __call__(self, tx: Tx, events: Sequence[Event]) -> Sequence[Event]:
        keys = [visitor_key(e, self.signer) for e in events]
        tx.lock(lock_key(e.site_id, k) for e, k in zip(events, keys, strict=True) if k)
        visitors = VisitorResolver(tx, self.signer, DeviceMatcher(tx, self.match_window_ms))
        for site_id in {e.site_id for e in events}:
            visitors.preload(site_id, [k for e, k in zip(events, keys, strict=True) if k and e.site_id == site_id])
        sessions = SessionAssigner(tx, self.idle_ms, expected=len(events))
        sessions.preload(list(visitors.by_id.values()))
        resolved = [visitors.resolve(event, key) for event, key in zip(events, keys, strict=True)]
        visitors.number_new()
        claims = {i: claim_of(e) for i, e in enumerate(events) if e.type in ("identify", "form")}
        if claims:
            tx.lock(lock_keys(list(claims.values())))
        people = People(tx)
        sources = SourceRows(tx, self.hosting)
        with_sources = {site for site in {e.site_id for e in events} if sources.active(site)}
        touched: list[Touch] = []  # what Floqer sources' rows learn, for the sites that have some
        for i, (event, visitor) in enumerate(zip(events, resolved, strict=True)):
            _, linked = self._person(tx, people, (visitors, sessions), event, visitor, claims.get(i))
            if event.type == "form":  # the values live on the person; the event keeps which fields
                event.extra = {"fields": sorted(event.extra)}
            session = sessions.assign(visitor, event, received_at(event))
            if linked:
                session.identified = True  # its person is known, not presumed
            event.visitor_num = visitor.num  # type: ignore[assignment]
            if event.site_id in with_sources:
                touched.append(Touch.of(event, session))
        if people.merged:  # rows of this job still naming a person merged away
            for v in visitors.by_id.values():
                v.person_num = people.current(v.person_num)
            for s in sessions.touched.values():
                s.person_num = people.current(s.person_num)
        visitors.flush()
        if old := sessions.historical():
            forget_slots(tx, old)  # history arrived: the folded slots it lands in are folded again
        sessions.flush()
        tx.executemany(INSERT_EVENT, [event_row(e) for e in events])
        identified = [e for e in events if e.device_hash is not None or e.type == "identification"]
        if identified:
            tx.executemany(INSERT_IDENTIFICATION, [identification_row(e) for e in identified])
        if touched:
            created = sources.apply(touched)  # Floqer sources' rows, and their deliveries
            on_new_rows(tx, created, max(e.ts for e in events))
        return events

    def _person(
        self,
        tx: Tx,
        people: People,
        browsers: tuple[VisitorResolver, SessionAssigner],
        event: Event,
        visitor: VisitorState,
        claim: Claim | None,
    ) -> tuple[Row | None, bool]:
        """Who this event says its browser is, and whether the browser was linked to them. A
        presumed browser that confirms itself first becomes a visitor of its own; a keyless claim
        never moves a browser away from a verified person (identity/people.py)."""
        if claim is None and not event.link_token:
            return None, False
        own = people.current(visitor.person_num)
        person = people.claim(claim, own if event.type == "form" else None, own) if claim is not None else None
        route = claim
        if event.link_token:
            assert visitor.num is not None
            site = tx.one("SELECT settings FROM sites WHERE num = ?", (event.site_num,))
            shared = bool(loads(site["settings"] if site else None).get("link_tokens_shared"))
            if (by_link := self._linked(tx, event, visitor.num, shared)) is not None:
                route = Claim(event.site_num, event.ts, "link")
                person = people.confirmed(by_link["num"], route)
        if person is None or route is None or not people.may_link(own, person, route):
            return person, False
        visitors, sessions = browsers
        visitors.confirm(visitor)
        assert visitor.num is not None
        people.link(visitor.num, person["num"])
        visitors.identified(visitor.num, person["num"])
        sessions.identified(visitor.num, person["num"])
        return person, True
