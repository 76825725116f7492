"""Which visitor sent this event: signed id -> signed cross-domain id -> client namespace -> new.

- A visitor id that verifies (see `ids.VisitorSigner`) is that visitor, even if this
  server has not stored it yet (we signed it, so it is ours).
- `_df_vid` on the landing URL (cross-domain link decoration) is used the same way.
- An id that does not verify is a client-generated id (DataFast's SDK, a server-side
  sender) and lives in its own namespace: `visitors.client_key`. It maps to a visitor
  with its own signed id, so it can never join a visitor created with a signed id.
- Nothing usable: a new visitor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from footfall.ids import VisitorSigner
from footfall.model import Event
from footfall.store.base import Tx, dumps, loads

MAX_CLIENT_ID = 128


@dataclass(slots=True)
class VisitorState:
    """A visitor row as the writer holds it during one job."""

    id: str
    site_id: str
    client_key: str | None
    first_seen: int
    last_seen: int
    visit_count: int = 0
    pageview_count: int = 0
    first_params: dict[str, str] = field(default_factory=dict)
    first_click_ids: dict[str, str] = field(default_factory=dict)
    last_session_id: str | None = None
    is_new: bool = False
    dirty: bool = False


def _from_row(row: dict[str, Any]) -> VisitorState:
    return VisitorState(id=row["id"], site_id=row["site_id"], client_key=row["client_key"],
                        first_seen=row["first_seen"], last_seen=row["last_seen"],
                        visit_count=row["visit_count"], pageview_count=row["pageview_count"],
                        first_params=loads(row["first_params"]), first_click_ids=loads(row["first_click_ids"]),
                        last_session_id=row["last_session_id"])


def lock_key(event: Event, signer: VisitorSigner) -> str | None:
    """The key writers serialise on for this event's visitor (None: a brand-new visitor)."""
    site = event.site_id
    for candidate in (event.client_visitor_id, event.cross_domain_visitor_id):
        if candidate and signer.verify(site, candidate):
            return f"v:{site}:{candidate}"
    if event.client_visitor_id:
        return f"c:{site}:{event.client_visitor_id[:MAX_CLIENT_ID]}"
    return None


class VisitorResolver:
    """Resolves events to visitors inside one write transaction, caching what it loaded."""

    def __init__(self, tx: Tx, signer: VisitorSigner) -> None:
        self.tx = tx
        self.signer = signer
        self.by_id: dict[str, VisitorState] = {}
        self.by_client: dict[tuple[str, str], VisitorState] = {}

    def resolve(self, event: Event) -> VisitorState:
        site = event.site_id
        for candidate in (event.client_visitor_id, event.cross_domain_visitor_id):
            if candidate and self.signer.verify(site, candidate):
                return self._signed(site, candidate.lower(), event.ts)
        if event.client_visitor_id:
            return self._client(site, event.client_visitor_id[:MAX_CLIENT_ID], event.ts)
        return self._create(site, self.signer.new(site), None, event.ts)

    def _signed(self, site: str, visitor_id: str, ts: int) -> VisitorState:
        state = self.by_id.get(visitor_id)
        if state is None:
            row = self.tx.one("SELECT * FROM visitors WHERE id = ?", (visitor_id,))
            state = _from_row(row) if row and row["site_id"] == site else None
            if state is None:
                return self._create(site, visitor_id, None, ts)
            self.by_id[visitor_id] = state
        return state

    def _client(self, site: str, client_key: str, ts: int) -> VisitorState:
        state = self.by_client.get((site, client_key))
        if state is None:
            row = self.tx.one("SELECT * FROM visitors WHERE site_id = ? AND client_key = ?", (site, client_key))
            if row is None:
                return self._create(site, self.signer.new(site), client_key, ts)
            state = _from_row(row)
            self.by_id[state.id] = state
            self.by_client[(site, client_key)] = state
        return state

    def _create(self, site: str, visitor_id: str, client_key: str | None, ts: int) -> VisitorState:
        state = VisitorState(id=visitor_id, site_id=site, client_key=client_key, first_seen=ts, last_seen=ts,
                             is_new=True, dirty=True)
        self.by_id[visitor_id] = state
        if client_key is not None:
            self.by_client[(site, client_key)] = state
        return state

    def flush(self) -> None:
        new = [v for v in self.by_id.values() if v.is_new]
        changed = [v for v in self.by_id.values() if v.dirty and not v.is_new]
        if new:
            self.tx.executemany(
                "INSERT INTO visitors (id, site_id, client_key, created_at, first_seen, last_seen, visit_count, "
                "pageview_count, first_params, first_click_ids, last_session_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(v.id, v.site_id, v.client_key, v.first_seen, v.first_seen, v.last_seen, v.visit_count,
                  v.pageview_count, dumps(v.first_params), dumps(v.first_click_ids), v.last_session_id)
                 for v in new])
        if changed:
            self.tx.executemany(
                "UPDATE visitors SET last_seen = ?, visit_count = ?, pageview_count = ?, last_session_id = ? "
                "WHERE id = ?",
                [(v.last_seen, v.visit_count, v.pageview_count, v.last_session_id, v.id) for v in changed])
        for v in self.by_id.values():
            v.is_new = v.dirty = False
