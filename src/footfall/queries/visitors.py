"""One visitor, as every dialect needs it: identity, sessions, pages, goals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from footfall.identity.sessions import CONTEXT_COLUMNS
from footfall.ids import VisitorSigner
from footfall.store.base import Row, Tx, loads

# The latest page view's device and place come from its session (see identity/sessions.py).
SESSION_CONTEXT = ", ".join(f"s.{c}" for c in CONTEXT_COLUMNS if c not in ("hostname", "referrer"))
MAX_PAGES = 1000  # visitedPages keeps the most recent this many page views


@dataclass
class VisitorView:
    visitor: Row
    activity: Row  # visits, pageviews, first_seen, last_seen, current_started_at (from sessions)
    latest_pageview: Row
    pages: list[Row]
    goals: list[Row]


def find_visitor(tx: Tx, signer: VisitorSigner, site_id: str, visitor_id: str) -> Row | None:
    """By the signed id, else by a client-generated id (its own namespace)."""
    if signer.verify(site_id, visitor_id):
        return tx.one("SELECT * FROM visitors WHERE id = ? AND site_id = ?", (visitor_id.lower(), site_id))
    return tx.one("SELECT * FROM visitors WHERE site_id = ? AND client_key = ?", (site_id, visitor_id))


def visitor_view(tx: Tx, signer: VisitorSigner, site_id: str, visitor_id: str) -> VisitorView | None:
    """None when the visitor is unknown on this site or has no page view yet."""
    visitor = find_visitor(tx, signer, site_id, visitor_id)
    if visitor is None:
        return None
    num = visitor["num"]
    latest = tx.one(
        f"SELECT e.hostname, e.path, e.ts, e.viewport_width, e.viewport_height, {SESSION_CONTEXT} "
        "FROM events e JOIN sessions s ON s.num = e.session_num "
        "WHERE e.visitor_num = ? AND e.type = 'pageview' ORDER BY e.ts DESC, e.id DESC LIMIT 1",
        (num,),
    )
    if latest is None:
        return None
    pages = tx.all(
        "SELECT hostname, path, ts FROM events WHERE visitor_num = ? "
        "AND type = 'pageview' ORDER BY ts DESC, id DESC LIMIT ?",
        (num, MAX_PAGES),
    )
    goals = tx.all(
        "SELECT name, ts, extra FROM events WHERE visitor_num = ? AND type = 'custom' ORDER BY ts, id", (num,)
    )
    activity = tx.one(
        "SELECT COUNT(*) AS visits, CAST(SUM(pageviews) AS BIGINT) AS pageviews, MIN(started_at) AS first_seen, "
        "MAX(last_seen) AS last_seen, MAX(started_at) AS current_started_at FROM sessions WHERE visitor_num = ?",
        (num,),
    )
    assert activity is not None
    return VisitorView(visitor, activity, latest, list(reversed(pages)), goals)


def params_of(visitor: Row) -> dict[str, Any]:
    return loads(visitor["first_params"])
