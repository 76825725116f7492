"""Sessions: a run of one visitor's activity, in event time.

A visitor's current session is its latest (the last event seen). A new session starts when the
visitor has none, after `idle_ms` without events (30 minutes by default), or when an event carries
a campaign (utm source, medium or campaign) different from the session's. Events without campaign
parameters never split a session.

Events may come late (imported history, a backend's batch with its own timestamps, docs/import.md):
an event before the current session joins the visitor's session it falls in or next to (within
`idle_ms`), which may then start earlier; with none there, it starts a session of its own in the
past; two sessions it brings within `idle_ms` of each other become one (the earlier survives, the
later's events move to it). So any order gives the sessions of the events in order. The rollup
slots such sessions touch are folded again (`forget_slots`).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from footfall import ids
from footfall.identity.devices import VisitorState
from footfall.model import Event
from footfall.rollups import MARGIN_MS
from footfall.store.base import Tx, dumps


@dataclass(slots=True)
class SessionState:
    id: str
    num: int
    site_num: int
    visitor: VisitorState
    started_at: int
    last_seen: int
    campaign: tuple[str | None, str | None, str | None]
    pageviews: int = 0
    events: int = 0
    entry_path: str | None = None
    exit_path: str | None = None
    context: tuple[Any, ...] = ()  # CONTEXT_COLUMNS of the first event, for the insert
    is_new: bool = False
    person_num: int | None = None  # who the visit belongs to (docs/people.md)
    identified: bool = False  # someone identified in this visit (else its person is presumed)
    stored_start: int | None = None  # started_at as stored, when a late event moved it earlier


# What a session keeps of its first event: where the visit came from and on what device.
CONTEXT_COLUMNS = (
    "hostname",
    "referrer",
    "referrer_source",
    "channel",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "device_type",
    "device_vendor",
    "device_model",
    "country_code",
    "country",
    "region",
    "city",
    "latitude",
    "longitude",
    "postal_code",
    "geo_timezone",
    "accuracy_radius",
    "asn",
    "as_organization",
    "device_hash",
    "device",
    "screen_width",
    "screen_height",
    "language",
    "timezone",
)
_context = operator.attrgetter(*CONTEXT_COLUMNS)
INSERT_SESSION = (
    "INSERT INTO sessions (num, id, site_num, visitor_num, person_num, identified, started_at, last_seen, pageviews, "
    f"events, entry_path, exit_path, utm_source, utm_medium, utm_campaign, params, {', '.join(CONTEXT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (16 + len(CONTEXT_COLUMNS)))})"
)

SESSION_COLUMNS = (
    "num, id, site_num, visitor_num, person_num, identified, started_at, last_seen, utm_source, utm_medium, "
    "utm_campaign, pageviews, events, entry_path, exit_path"
)


def _latest_sessions_query(dialect: str, visitors: list[int]) -> tuple[str, Sequence[Any]]:
    """The latest session of each of `visitors`. On PostgreSQL, one backward probe of
    `sessions_visitor` per visitor (`unnest` + LATERAL ... LIMIT 1), the visitors as one array,
    instead of the `IN` form, which PostgreSQL's generic plan on a young table's statistics turned
    into a scan of every session (auto_explain: a hash join over 24,911 sessions for 9 visitors)."""
    if dialect == "postgres":
        return (
            f"SELECT s.* FROM unnest(?::bigint[]) AS v(num) CROSS JOIN LATERAL "
            f"(SELECT {SESSION_COLUMNS} FROM sessions WHERE visitor_num = v.num "
            "ORDER BY last_seen DESC, num DESC LIMIT 1) s",
            (visitors,),
        )
    values = ",".join(["(?)"] * len(visitors))
    return (
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE num IN (SELECT (SELECT num FROM sessions WHERE "
        f"visitor_num = v.column1 ORDER BY last_seen DESC, num DESC LIMIT 1) FROM (VALUES {values}) v)",
        visitors,
    )


def _from_row(row: dict[str, Any], visitor: VisitorState) -> SessionState:
    return SessionState(
        id=row["id"],
        num=row["num"],
        site_num=row["site_num"],
        visitor=visitor,
        started_at=row["started_at"],
        last_seen=row["last_seen"],
        campaign=(row["utm_source"], row["utm_medium"], row["utm_campaign"]),
        pageviews=row["pageviews"],
        events=row["events"],
        entry_path=row["entry_path"],
        exit_path=row["exit_path"],
        person_num=row["person_num"],
        identified=bool(row["identified"]),
    )


def continues(session: SessionState, event: Event, idle_ms: int) -> bool:
    if event.ts - session.last_seen > idle_ms or session.started_at - event.ts > idle_ms:
        return False
    if session.person_num not in (None, session.visitor.person_num):  # someone else identified here
        return False
    campaign = event.campaign
    return not any(campaign) or campaign == session.campaign


class SessionAssigner:
    """Puts events into sessions inside one write transaction."""

    def __init__(self, tx: Tx, idle_ms: int, expected: int = 1) -> None:
        self.tx = tx
        self.idle_ms = idle_ms
        self._free: list[int] = []
        self._block = max(1, expected)  # at most one new session per event
        self.current: dict[str, SessionState] = {}  # visitor id -> its latest session
        self.touched: dict[int, SessionState] = {}  # session num -> session to insert or update
        self.past: dict[str, list[SessionState]] = {}  # visitor id -> earlier sessions late events reached
        self.earlier: dict[int, int] = {}  # visitor num -> an event before its first_seen
        self.history: set[int] = set()  # nums of the visits events older than the idle time reached
        self.members: dict[int, list[Event]] = {}  # each visit's events of this job (merges move them)
        self.merged: list[tuple[SessionState, int]] = []  # (stored visit merged away, its survivor's num)

    def preload(self, visitors: list[VisitorState]) -> None:
        """Loads known visitors' latest sessions, 500 visitors per query."""
        by_num = {v.num: v for v in visitors if not v.is_new and v.id not in self.current}
        wanted = sorted(n for n in by_num if n is not None)
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            for row in self.tx.all(*_latest_sessions_query(self.tx.dialect, chunk)):
                visitor = by_num[row["visitor_num"]]
                self.current[visitor.id] = _from_row(row, visitor)

    def assign(self, visitor: VisitorState, event: Event, received: int | None = None) -> SessionState:
        """Puts `event` in its visit; `received` (server time) tells history from live traffic."""
        session = self.current.get(visitor.id)
        late = session is not None and event.ts < session.started_at
        if late and session is not None and not continues(session, event, self.idle_ms):
            session = self._earlier(visitor, event)  # a late event, before the current visit
        elif session is None or not continues(session, event, self.idle_ms):
            session = self._start(visitor, event)
        if event.type == "pageview":
            session.pageviews += 1
            if event.ts >= session.last_seen or session.exit_path is None:
                session.exit_path = event.path
            if event.ts < session.started_at or session.entry_path is None:
                session.entry_path = event.path
        if event.ts < session.started_at:
            if session.stored_start is None and not session.is_new:
                session.stored_start = session.started_at
            session.started_at = event.ts
        session.last_seen = max(session.last_seen, event.ts)
        session.person_num = session.person_num or visitor.person_num
        session.events += 1
        if received is not None and event.ts < received - self.idle_ms - MARGIN_MS:
            self.history.add(session.num)
        if visitor.num is not None and not visitor.is_new and event.ts < visitor.first_seen:
            self.earlier[visitor.num] = min(event.ts, self.earlier.get(visitor.num, event.ts))
        visitor.first_seen = min(visitor.first_seen, event.ts)
        self.touched[session.num] = session
        event.visitor_id, event.session_id, event.session_num = visitor.visitor_id, session.id, session.num
        event.browser_id, event.confidence = visitor.id, visitor.confidence
        event.new_session = session.is_new
        # this event created the visitor (a browser matched to a known visitor found one)
        event.new_visitor = visitor.is_new and visitor.events == 0 and visitor.root_id is None
        visitor.events += 1
        self.members.setdefault(session.num, []).append(event)
        if late or session is not self.current.get(visitor.id):  # a visit's span grew into the past
            session = self._merge_neighbours(visitor, session)
        return session

    def _merge_neighbours(self, visitor: VisitorState, session: SessionState) -> SessionState:
        """A late event can bring two visits within the idle time of each other: they become one
        (the earlier keeps its number, context and first page), as if the events had come in order."""
        while (other := self._neighbour(visitor, session)) is not None:
            first, then = (session, other) if session.started_at <= other.started_at else (other, session)
            first.pageviews += then.pageviews
            first.events += then.events
            if then.last_seen >= first.last_seen:
                first.exit_path = then.exit_path or first.exit_path
            first.entry_path = first.entry_path or then.entry_path
            first.last_seen = max(first.last_seen, then.last_seen)
            first.person_num = first.person_num or then.person_num
            first.identified = first.identified or then.identified
            self.touched[first.num] = first
            self.touched.pop(then.num, None)
            self.history.discard(then.num)
            self.history.add(first.num)
            for e in self.members.pop(then.num, []):
                e.session_num, e.session_id = first.num, first.id
                self.members.setdefault(first.num, []).append(e)
            self.members.setdefault(first.num, [])
            self.past[visitor.id] = [s for s in self.past.get(visitor.id, []) if s is not then]
            if first not in self.past[visitor.id]:
                self.past[visitor.id].append(first)
            if self.current.get(visitor.id) is then:
                self.current[visitor.id] = first
            if not then.is_new:
                self.merged.append((then, first.num))
            session = first
        return session

    def _neighbour(self, visitor: VisitorState, session: SessionState) -> SessionState | None:
        """Another visit of this browser within the idle time of `session`, whose campaign agrees."""
        near = [*self.past.get(visitor.id, []), *filter(None, [self.current.get(visitor.id)])]
        if visitor.num is not None and not visitor.is_new:
            gone = {s.num for s, _ in self.merged}
            for row in self.tx.all(
                f"SELECT {SESSION_COLUMNS} FROM sessions WHERE visitor_num = ? AND last_seen >= ? AND started_at <= ?",
                (visitor.num, session.started_at - self.idle_ms, session.last_seen + self.idle_ms),
            ):
                if row["num"] not in gone:
                    near.append(self.touched.get(row["num"]) or _from_row(row, visitor))
        for other in near:
            if other.num == session.num or other is session:
                continue
            apart = max(other.started_at - session.last_seen, session.started_at - other.last_seen)
            agree = not any(other.campaign) or not any(session.campaign) or other.campaign == session.campaign
            if apart <= self.idle_ms and agree:
                return other
        return None

    def identified(self, browser: int, person: int) -> None:
        """The browser `browser` is now `person`'s: its visits of this job without a person become
        theirs, and so does its current visit if its person was only presumed (a shared computer's
        next user, who signed in during a visit that began as the previous user's)."""
        for s in [*self.touched.values(), *self.current.values()]:
            if s.visitor.num == browser and s.visitor.root_id is None and (s.person_num is None or not s.identified):
                s.person_num = person

    def _earlier(self, visitor: VisitorState, event: Event) -> SessionState:
        """The visit a late event belongs to: one of this job's earlier visits of the visitor, else
        a stored one, within the idle time of it; else a new visit in the past (not the current)."""
        for s in self.past.get(visitor.id, []):
            if continues(s, event, self.idle_ms):
                return s
        if visitor.num is not None and not visitor.is_new:
            row = self.tx.one(
                f"SELECT {SESSION_COLUMNS} FROM sessions WHERE visitor_num = ? AND last_seen >= ? AND started_at <= ? "
                "ORDER BY last_seen DESC LIMIT 1",
                (visitor.num, event.ts - self.idle_ms, event.ts + self.idle_ms),
            )
            stored = None if row is None else self.touched.get(row["num"]) or _from_row(row, visitor)
            if stored is not None and continues(stored, event, self.idle_ms):
                self.past.setdefault(visitor.id, []).append(stored)
                return stored
        current = self.current[visitor.id]
        session = self._start(visitor, event)
        self.current[visitor.id] = current  # the latest visit stays the current one
        self.past.setdefault(visitor.id, []).append(session)
        return session

    def _start(self, visitor: VisitorState, event: Event) -> SessionState:
        session = SessionState(
            id=ids.session_id(),
            num=self._next_num(),
            site_num=event.site_num,
            visitor=visitor,
            started_at=event.ts,
            last_seen=event.ts,
            campaign=event.campaign,
            context=(dumps(event.params) if event.params else "{}", *_context(event)),
            is_new=True,
            person_num=visitor.person_num,
        )
        if visitor.is_new and visitor.sessions_started == 0:  # the first session gives the visitor's params
            visitor.first_params = dict(event.params)
            visitor.first_click_ids = dict(event.click_ids)
        visitor.sessions_started += 1
        self.current[visitor.id] = session
        return session

    def _next_num(self) -> int:
        """Session keys come in blocks from the store, one query per job."""
        if not self._free:
            self._free = self.tx.allocate("sessions", self._block)[::-1]
        return self._free.pop()

    def flush(self) -> None:
        new = [s for s in self.touched.values() if s.is_new]
        old = [s for s in self.touched.values() if not s.is_new]
        if new:
            self.tx.executemany(
                INSERT_SESSION,
                [
                    (
                        s.num,
                        s.id,
                        s.site_num,
                        s.visitor.num,
                        s.person_num,
                        int(s.identified),
                        s.started_at,
                        s.last_seen,
                        s.pageviews,
                        s.events,
                        s.entry_path,
                        s.exit_path,
                        *s.campaign,
                        *s.context,
                    )
                    for s in new
                ],
            )
        if old:
            self.tx.executemany(
                "UPDATE sessions SET started_at = ?, last_seen = ?, pageviews = ?, events = ?, entry_path = ?, "
                "exit_path = ?, person_num = ?, identified = ? WHERE num = ?",
                [
                    (
                        s.started_at,
                        s.last_seen,
                        s.pageviews,
                        s.events,
                        s.entry_path,
                        s.exit_path,
                        s.person_num,
                        int(s.identified),
                        s.num,
                    )
                    for s in old
                ],
            )
        for gone, survivor in self.merged:  # stored visits merged into another: their events move
            # found through the visitor's index within the visit's span (events.session_num has no
            # index: a scan of every event per merge made an import of history crawl)
            self.tx.execute(
                "UPDATE events SET session_num = ? WHERE visitor_num = ? AND ts >= ? AND ts <= ? AND session_num = ?",
                (survivor, gone.visitor.num, gone.started_at, gone.last_seen, gone.num),
            )
            self.tx.execute("DELETE FROM sessions WHERE num = ?", (gone.num,))
        if self.earlier:
            self.tx.executemany(
                "UPDATE visitors SET first_seen = ? WHERE num = ? AND first_seen > ?",
                [(ts, num, ts) for num, ts in self.earlier.items()],
            )
            self.earlier.clear()
        for s in new:
            s.is_new = False
        self.touched.clear()

    def historical(self) -> dict[int, set[int]]:
        """Per site, the starts (stored and new) of the visits history reached (events older than
        the idle time when received): the only visits a folded rollup slot may hold. Live events
        never reach a folded slot (the fold waits for every visit of a slot to be over)."""
        found: dict[int, set[int]] = {}
        for num in self.history:
            s = self.touched[num]
            found.setdefault(s.site_num, set()).update(t for t in (s.started_at, s.stored_start) if t is not None)
        for gone, _ in self.merged:
            found.setdefault(gone.site_num, set()).add(gone.stored_start or gone.started_at)
        self.history.clear()
        return found
