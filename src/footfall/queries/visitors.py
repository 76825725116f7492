"""One visitor, as every dialect needs it: identity, sessions, pages, goals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from footfall.identity.sessions import CONTEXT_COLUMNS
from footfall.ids import VisitorSigner
from footfall.rollups import forget_visits
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


def latest_visit(tx: Tx, signer: VisitorSigner, site_id: str, site_num: int, visitor_id: str) -> tuple[Row, Row] | None:
    """(the visitor, its latest visit by time with a page view on this site), or None."""
    browser = find_visitor(tx, signer, site_id, visitor_id)
    if browser is None:
        return None
    visitor, nums = visitor_group(tx, browser)
    session = tx.one(
        f"SELECT * FROM sessions WHERE visitor_num IN ({marks(nums)}) AND site_num = ? AND pageviews > 0 "
        "ORDER BY last_seen DESC, num DESC LIMIT 1",
        (*nums, site_num),
    )
    return None if session is None else (visitor, session)


def visitor_group(tx: Tx, visitor: Row) -> tuple[Row, list[int]]:
    """The visitor a browser counts as (an alias's root, docs/identity.md) and the nums of all the
    browsers that count as it: every read of a visitor's history covers them all."""
    if visitor["alias_of"] is not None:
        root = tx.one("SELECT * FROM visitors WHERE num = ?", (visitor["alias_of"],))
        assert root is not None  # aliases are deleted with their root
        visitor = root
    return visitor, browsers_of(tx, visitor["num"])


def resolution(browser: Row | None) -> dict[str, Any]:
    """How the requested browser was resolved (footfall's addition, docs/identity.md): by its own
    signed id, by a client-generated id, or presumed from device signals with a confidence."""
    if browser is not None and browser["alias_of"] is not None:
        return {"method": "device", "presumed": True, "confidence": browser["alias_confidence"]}
    method = "client_id" if browser is not None and browser["client_key"] is not None else "signed_id"
    return {"method": method, "presumed": False, "confidence": 1.0}


def browsers_of(tx: Tx, root_num: int) -> list[int]:
    """A visitor's num and its aliases' nums."""
    return [root_num, *(r["num"] for r in tx.all("SELECT num FROM visitors WHERE alias_of = ?", (root_num,)))]


def marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def erase_visitor(tx: Tx, nums: list[int], now_ms: int) -> None:
    """Deletes a visitor (`nums`: its num first, then its aliases'): identifications, events,
    sessions and the rows (its payments stay, unattributed). Their ids go on the deny list, so a
    browser still holding one gets a new visitor instead of its old id back."""
    group = marks(nums)
    ids = [r["id"] for r in tx.all(f"SELECT id FROM visitors WHERE num IN ({group})", nums)]
    forget_visits(tx, f"visitor_num IN ({group})", nums)
    for table in ("identifications", "events", "sessions", "visitor_scores"):
        tx.execute(f"DELETE FROM {table} WHERE visitor_num IN ({group})", nums)
    # payments are the owner's books: they stay, no longer tied to the browser
    tx.execute(f"UPDATE payments SET visitor_num = NULL WHERE visitor_num IN ({group})", nums)
    tx.execute(f"DELETE FROM visitors WHERE alias_of = ? AND num IN ({group})", (nums[0], *nums))
    tx.execute("DELETE FROM visitors WHERE num = ?", (nums[0],))
    tx.executemany("INSERT INTO deleted_visitor_ids (id, deleted_at) VALUES (?, ?)", [(i, now_ms) for i in ids])


def visitor_view(tx: Tx, signer: VisitorSigner, site_id: str, visitor_id: str) -> VisitorView | None:
    """None when the visitor is unknown on this site or has no page view yet."""
    browser = find_visitor(tx, signer, site_id, visitor_id)
    if browser is None:
        return None
    visitor, nums = visitor_group(tx, browser)
    group = marks(nums)
    latest = tx.one(
        f"SELECT e.hostname, e.path, e.ts, e.viewport_width, e.viewport_height, {SESSION_CONTEXT} "
        "FROM events e JOIN sessions s ON s.num = e.session_num "
        f"WHERE e.visitor_num IN ({group}) AND e.type = 'pageview' ORDER BY e.ts DESC, e.id DESC LIMIT 1",
        nums,
    )
    if latest is None:
        return None
    pages = tx.all(
        f"SELECT hostname, path, ts FROM events WHERE visitor_num IN ({group}) "
        "AND type = 'pageview' ORDER BY ts DESC, id DESC LIMIT ?",
        (*nums, MAX_PAGES),
    )
    goals = tx.all(
        f"SELECT name, ts, extra FROM events WHERE visitor_num IN ({group}) AND type = 'custom' ORDER BY ts, id",
        nums,
    )
    activity = tx.one(
        "SELECT COUNT(*) AS visits, CAST(SUM(pageviews) AS BIGINT) AS pageviews, MIN(started_at) AS first_seen, "
        "MAX(last_seen) AS last_seen, MAX(started_at) AS current_started_at "
        f"FROM sessions WHERE visitor_num IN ({group})",
        nums,
    )
    assert activity is not None
    return VisitorView(visitor, activity, latest, list(reversed(pages)), goals)


def params_of(visitor: Row) -> dict[str, Any]:
    return loads(visitor["first_params"])
