"""Which visitor sent this event: signed id -> signed cross-domain id -> client namespace ->
device match -> new.

- A visitor id that verifies (see `ids.VisitorSigner`) is that visitor, even if this
  server has not stored it yet (we signed it, so it is ours).
- `_df_vid` on the landing URL (cross-domain link decoration) is used the same way.
- An id that does not verify is a client-generated id (DataFast's SDK, a server-side
  sender) and lives in its own namespace: `visitors.client_key`. It maps to a visitor
  with its own signed id, so it can never join a visitor created with a signed id.
- Nothing usable, but device signals: `identity.matching` may find the known visitor this
  browser is. The browser then gets an id of its own, an alias whose events count for that
  visitor in the analytics, so two browsers never share one stored id (and the matched visitor's
  id is never handed out). An alias is a presumption: it never carries its visitor's person, so
  its visits join nobody's timeline, source rows or score. It stands alone again as soon as it
  and its visitor are seen alive side by side (two storages at once: two browsers), or when it
  confirms who it is (identifies, follows an email link, pays): then it is a browser of its own.
- Otherwise: a new visitor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from footfall.identity.matching import DeviceMatcher
from footfall.ids import VisitorSigner
from footfall.model import Event
from footfall.rollups import forget_visits
from footfall.store.base import Tx, dumps

MAX_CLIENT_ID = 128


@dataclass(slots=True)
class VisitorState:
    """A visitor as the writer holds it during one job.

    The visitors row is written once, when the visitor is new; everything that
    changes with activity (visits, page views, last seen) lives in `sessions`.
    """

    id: str
    site_id: str
    client_key: str | None
    num: int | None  # the row's integer key; None until a new visitor is numbered
    first_seen: int
    first_params: dict[str, str] = field(default_factory=dict)
    first_click_ids: dict[str, str] = field(default_factory=dict)
    is_new: bool = False
    sessions_started: int = 0  # in this job
    events: int = 0  # in this job
    # an alias: a browser matched by its device signals to the visitor `root_id` (num `alias_of`)
    root_id: str | None = None
    alias_of: int | None = None
    confidence: float = 1.0  # how sure the resolution is (below 1 for aliases and ambiguous new ones)
    split: bool = False  # an alias that stands alone from this job on
    confirmed: bool = False  # ...because it identified itself (its visits keep the person it names)
    split_checked: bool = False
    person_num: int | None = None  # who the visitor (an alias's root) is identified as

    @property
    def root_num(self) -> int | None:
        """The visitor's num (an alias's root)."""
        return self.alias_of if self.root_id else self.num

    @property
    def visitor_id(self) -> str:
        """The visitor this browser counts as."""
        return self.root_id or self.id


VISITOR_FIELDS = (
    "v.num, v.id, v.site_id, v.client_key, v.first_seen, v.alias_of, v.alias_confidence, r.id AS root_id, "
    "v.person_num"  # an alias's own: none (a presumption carries no person)
)
ROOT_JOIN = "LEFT JOIN visitors r ON r.num = v.alias_of"


def _visitors_query(dialect: str, column: str, site_id: str, values: list[str]) -> tuple[str, tuple[Any, ...]]:
    """The visitors of `site_id` whose `column` (id or client_key, each unique per site) is one of
    `values`. On PostgreSQL, one probe of the unique index per value (`unnest` + LATERAL ... LIMIT 1,
    which the planner cannot flatten into a join) with the values as one array, so the statement
    text never changes. With `IN (?, ...)`, psycopg prepared each list length after five uses and
    PostgreSQL's generic plan, made on a young table's statistics, filtered every visitor of the
    site (auto_explain: 4 ms for 9 keys on 21,000 visitors); a plain join on `unnest` was hashed
    against them all the same way."""
    if dialect == "postgres":
        return (
            f"SELECT {VISITOR_FIELDS} FROM unnest(?::text[]) AS k(value) CROSS JOIN LATERAL "
            f"(SELECT * FROM visitors WHERE site_id = ? AND {column} = k.value LIMIT 1) v {ROOT_JOIN}",
            (values, site_id),
        )
    marks = ",".join("?" * len(values))
    return (
        f"SELECT {VISITOR_FIELDS} FROM visitors v {ROOT_JOIN} WHERE v.site_id = ? AND v.{column} IN ({marks})",
        (site_id, *values),
    )


def _from_row(row: dict[str, Any]) -> VisitorState:
    return VisitorState(
        id=row["id"],
        site_id=row["site_id"],
        client_key=row["client_key"],
        num=row["num"],
        first_seen=row["first_seen"],
        root_id=row["root_id"],
        alias_of=row["alias_of"],
        confidence=row["alias_confidence"] if row["alias_confidence"] is not None else 1.0,
        person_num=row["person_num"],
    )


def visitor_key(event: Event, signer: VisitorSigner) -> tuple[str, str] | None:
    """("id", signed id) or ("client", client key) for this event's visitor; None for a brand-new one."""
    site = event.site_id
    for candidate in (event.client_visitor_id, event.cross_domain_visitor_id):
        if candidate and signer.verify(site, candidate):
            return ("id", candidate.lower())
    if event.client_visitor_id:
        return ("client", event.client_visitor_id[:MAX_CLIENT_ID])
    return None


def lock_key(site_id: str, key: tuple[str, str]) -> str:
    """The key writers serialise on for one visitor."""
    return f"{key[0]}:{site_id}:{key[1]}"


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


class VisitorResolver:
    """Resolves events to visitors inside one write transaction, loading known ones in bulk."""

    def __init__(self, tx: Tx, signer: VisitorSigner, matcher: DeviceMatcher | None = None) -> None:
        self.tx = tx
        self.signer = signer
        self.matcher = matcher
        self.by_id: dict[str, VisitorState] = {}
        self.by_client: dict[tuple[str, str], VisitorState] = {}
        self.deleted: set[str] = set()  # signed ids of deleted visitors: never brought back
        self.active: set[str] = set()  # ids of the browsers resolved so far in this job

    def preload(self, site_id: str, keys: list[tuple[str, str]]) -> None:
        """One query per 500 visitors instead of one per event."""
        for kind, column in (("id", "id"), ("client", "client_key")):
            wanted = sorted({k for t, k in keys if t == kind})
            for chunk in _chunks(wanted):
                for row in self.tx.all(*_visitors_query(self.tx.dialect, column, site_id, chunk)):
                    self._remember(_from_row(row))
        unknown = sorted({k for t, k in keys if t == "id" and k not in self.by_id})
        for chunk in _chunks(unknown):
            marks = ",".join("?" * len(chunk))
            rows = self.tx.all(f"SELECT id FROM deleted_visitor_ids WHERE id IN ({marks})", chunk)
            self.deleted.update(r["id"] for r in rows)

    def _remember(self, state: VisitorState) -> VisitorState:
        self.by_id[state.id] = state
        if state.client_key is not None:
            self.by_client[(state.site_id, state.client_key)] = state
        return state

    def resolve(self, event: Event, key: tuple[str, str] | None) -> VisitorState:
        state = self._resolve(event, key)
        if state.root_id is not None and not state.split_checked:
            self._split_if_seen_apart(state)
        if self.matcher is not None:
            self.matcher.saw(event, state.visitor_id, state.alias_of if state.root_id else state.num)
        self.active.add(state.id)
        return state

    def _resolve(self, event: Event, key: tuple[str, str] | None) -> VisitorState:
        site = event.site_id
        if key is None or (key[0] == "id" and key[1] in self.deleted):
            return self._match_or_create(event)
        if key[0] == "id":
            return self.by_id.get(key[1]) or self._create(site, key[1], None, event.ts)
        return self.by_client.get((site, key[1])) or self._create(site, self.signer.new(site), key[1], event.ts)

    def _match_or_create(self, event: Event) -> VisitorState:
        state = self._create(event.site_id, self.signer.new(event.site_id), None, event.ts)
        if self.matcher is None or event.device_hash is None:
            return state
        match = self.matcher.match(event)
        if match is not None:
            state.root_id, state.alias_of, state.confidence = match.root_id, match.root, match.confidence
            state.split_checked = True  # a new alias: nothing to tell apart yet
        return state

    def confirm(self, state: VisitorState) -> None:
        """A presumed browser identified itself: from now on a visitor of its own (its visits so
        far stay out of the matched visitor's history and person)."""
        if state.root_id is None:
            return
        state.root_id = state.alias_of = None
        state.confidence = 1.0
        state.person_num = None
        state.split = state.confirmed = not state.is_new

    def identified(self, browser: int, person: int) -> None:
        """The browser `browser` is now `person`'s."""
        for v in self.by_id.values():
            if v.num == browser and v.root_id is None:
                v.person_num = person

    def _split_if_seen_apart(self, alias: VisitorState) -> None:
        """An alias whose visitor was seen alive after the alias appeared is another browser."""
        alias.split_checked = True
        root = alias.alias_of
        live_in_job = any(
            v is not alias and v.id in self.active and root in (v.num, v.alias_of) for v in self.by_id.values()
        )
        row = self.tx.one(
            "SELECT MAX(s.last_seen) AS seen FROM sessions s JOIN visitors v ON v.num = s.visitor_num "
            "WHERE (v.num = ? OR v.alias_of = ?) AND v.num <> ?",
            (root, root, alias.num),
        )
        if live_in_job or (row is not None and row["seen"] is not None and row["seen"] > alias.first_seen):
            alias.root_id = alias.alias_of = None
            alias.confidence = 1.0
            alias.person_num = None  # it was presumed to be its visitor's person; it is someone else's browser
            alias.split = True

    def _create(self, site: str, visitor_id: str, client_key: str | None, ts: int) -> VisitorState:
        state = VisitorState(id=visitor_id, site_id=site, client_key=client_key, num=None, first_seen=ts, is_new=True)
        return self._remember(state)

    def number_new(self) -> None:
        """Give new visitors their integer keys (sessions and events refer to them)."""
        new = [v for v in self.by_id.values() if v.is_new and v.num is None]
        for v, num in zip(new, self.tx.allocate("visitors", len(new)) if new else [], strict=True):
            v.num = num
        for v in new:
            if v.root_id is not None and v.alias_of is None:  # matched a visitor new in this job
                v.alias_of = self.by_id[v.root_id].num

    def flush(self) -> None:
        new = [v for v in self.by_id.values() if v.is_new]
        if new:
            self.tx.executemany(
                "INSERT INTO visitors (num, id, site_id, client_key, created_at, first_seen, first_params, "
                "first_click_ids, alias_of, alias_confidence, person_num) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        v.num,
                        v.id,
                        v.site_id,
                        v.client_key,
                        v.first_seen,
                        v.first_seen,
                        dumps(v.first_params),
                        dumps(v.first_click_ids),
                        v.alias_of,
                        v.confidence if v.root_id else None,
                        None if v.root_id else v.person_num,  # an alias's person is its root's
                    )
                    for v in new
                ],
            )
        split = [v for v in self.by_id.values() if v.split and not v.is_new]
        if split:
            nums = [(v.num,) for v in split]
            # their visits now count as another visitor's: the analytics rollups of those slots go
            forget_visits(self.tx, f"visitor_num IN ({','.join('?' * len(split))})", [v.num for v in split])
            self.tx.executemany("UPDATE visitors SET alias_of = NULL, alias_confidence = NULL WHERE num = ?", nums)
            # visits only presumed to be the visitor's person leave with the browser; identified ones stay theirs
            apart = [(v.num,) for v in split if not v.confirmed]
            self.tx.executemany("UPDATE sessions SET person_num = NULL WHERE visitor_num = ? AND identified = 0", apart)
        for v in self.by_id.values():
            v.is_new = v.split = v.confirmed = False


def detach_alias(tx: Tx, num: int) -> None:
    """A presumed browser (an alias) that confirmed itself outside the event writer (the payments
    API, server-side identify) becomes a visitor of its own, as `VisitorResolver.confirm` does."""
    forget_visits(tx, "visitor_num = ?", (num,))
    tx.execute("UPDATE visitors SET alias_of = NULL, alias_confidence = NULL WHERE num = ?", (num,))
