"""Server-side goals that name no visit yet (PostMetric's `POST /api/v1/goal`, docs/api.md).

PostMetric records a goal whatever ids come with it: a `visitorId` its tracker has not reported
yet (the goal raced the first page view), only a `sessionId`, or neither. footfall keeps such a
goal in `pending_goals` and attaches it to its visitor's latest visit once that visit has a page
view (a background job, `attach`); until then, and forever when it names nobody, it counts in the
site's goal totals (queries/analytics.py) and nowhere else: no visitor is made up for it.
"""

from __future__ import annotations

import functools
from typing import Any

from footfall.accounts import site_of_row
from footfall.ids import VisitorSigner
from footfall.model import Site
from footfall.queries.visitors import latest_visit
from footfall.store.base import Row, Store, Tx, dumps, loads

BATCH = 500
INTERVAL_S = 15.0
WAIT_MS = 7 * 86_400_000  # a page view arrives within seconds; a week covers a server's backlog


def visit_of(tx: Tx, signer: VisitorSigner, site: Site, visitor_key: str | None, session_key: str | None) -> Row | None:
    """The visit a goal belongs to: the visitor's latest visit with a page view, else the named
    visit's (when it has one); None when neither exists yet."""
    if visitor_key and (found := latest_visit(tx, signer, site.id, site.num, visitor_key)) is not None:
        return found[1]
    if session_key:
        return tx.one("SELECT * FROM sessions WHERE id = ? AND site_num = ? AND pageviews > 0", (session_key, site.num))
    return None


def hold(
    tx: Tx, site: Site, ts: int, name: str, extra: dict[str, Any], visitor: str | None, session: str | None
) -> None:
    tx.execute(
        "INSERT INTO pending_goals (site_num, ts, name, visitor_key, session_key, extra) VALUES (?, ?, ?, ?, ?, ?)",
        (site.num, ts, name, visitor, session, dumps(extra)),
    )


def attach(store: Store, signer: VisitorSigner, now: int) -> int:
    """Moves every goal of the last `WAIT_MS` whose visit now exists into it; answers how many."""
    from footfall.api.conversions import insert_goal  # the API's module imports this one

    def go(tx: Tx, after: int) -> tuple[int, int | None]:
        rows = tx.all(
            "SELECT s.*, g.num AS goal_num, g.ts AS goal_ts, g.name AS goal_name, g.visitor_key, g.session_key, "
            "g.extra AS goal_extra FROM pending_goals g JOIN sites s ON s.num = g.site_num "
            "WHERE g.num > ? AND g.ts >= ? AND (g.visitor_key IS NOT NULL OR g.session_key IS NOT NULL) "
            "ORDER BY g.num LIMIT ?",
            (after, now - WAIT_MS, BATCH),
        )
        moved = 0
        for row in rows:
            site = site_of_row(row)
            visit = visit_of(tx, signer, site, row["visitor_key"], row["session_key"])
            if visit is not None:
                goal = {"name": row["goal_name"], "extra": loads(row["goal_extra"])}
                insert_goal(tx, site, visit, goal, row["goal_ts"])
                tx.execute("DELETE FROM pending_goals WHERE num = ?", (row["goal_num"],))
                moved += 1
        return moved, rows[-1]["goal_num"] if len(rows) == BATCH else None

    total, cursor = 0, 0
    while True:
        moved, following = store.write(functools.partial(go, after=cursor))
        total += moved
        if following is None:
            return total
        cursor = following


def totals(tx: Tx, site_num: int, start: int | None, end: int | None) -> list[Row]:
    """(name, completions, visitors) of the goals still pending in [start, end]."""
    return tx.all(
        "SELECT name, COUNT(*) AS completions, COUNT(DISTINCT visitor_key) AS visitors FROM pending_goals "
        "WHERE site_num = ? AND ts >= ? AND ts <= ? GROUP BY name",
        (site_num, start or 0, end if end is not None else 2**62),
    )
