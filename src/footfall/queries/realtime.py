"""DataFast's realtime reads: who is on the site now.

Activity is an event in the window (the last 5 minutes for `realtime`, 10 for `realtime/map`),
read through events_site_ts, so it stays cheap on a large site. A visitor is a root visitor (its
matched browsers count once). Nothing is made up: `displayName` is the name (else email) the
visitor identified with, never a generated pseudonym, so `isRandomName` is always false. Each
visitor's `conversionLikelihood` is its stored lead score (docs/scoring.md): null for customers,
for visitors not scored yet, and for sites without conversions (`hasConversionPredictions: false`).
"""

from __future__ import annotations

from typing import Any

from footfall.clock import iso_ms
from footfall.scoring.predictions import likelihood, site_model
from footfall.store.base import Row, Tx, loads

RECENT_LIMIT = 50
ROOT = "COALESCE(v.alias_of, v.num)"


def metrics(model: Row | None) -> dict[str, Any] | None:
    """The site's conversion figures the likelihoods are relative to."""
    if model is None:
        return None
    return {
        "conversionRate": round(model["site_rate"], 4),
        "averageValue": model["average_value"],
        "confidence": model["confidence"],
        "isBaseline": model["kind"] == "baseline",
    }


def active_visitors(tx: Tx, site_num: int, since: int) -> int:
    row = tx.one(
        f"SELECT COUNT(DISTINCT {ROOT}) AS n FROM events e JOIN visitors v ON v.num = e.visitor_num "
        "WHERE e.site_num = ? AND e.ts >= ?",
        (site_num, since),
    )
    return int(row["n"]) if row else 0


def _in(values: list[int]) -> str:
    return ",".join("?" * len(values))


def _browsers(tx: Tx, roots: list[int]) -> dict[int, int]:
    """Each browser (a root or its aliases) of these visitors -> its root."""
    rows = tx.all(
        f"SELECT num, COALESCE(alias_of, num) AS root FROM visitors WHERE num IN ({_in(roots)}) "
        f"OR alias_of IN ({_in(roots)})",
        [*roots, *roots],
    )
    return {r["num"]: r["root"] for r in rows}


def _by_num(tx: Tx, table: str, columns: str, nums: list[int]) -> dict[int, Row]:
    if not nums:
        return {}
    return {r["num"]: r for r in tx.all(f"SELECT {columns} FROM {table} WHERE num IN ({_in(nums)})", nums)}


def _display(person: Row | None) -> str | None:
    return None if person is None else person["name"] or person["email"]


class _Page:
    """What the visitors of one page of the map are, read a few queries for the whole page (a
    query per visitor took 52 s for 10,000 new visitors on PostgreSQL)."""

    def __init__(self, tx: Tx, site_num: int, roots: list[int], since: int) -> None:
        self.browsers = _browsers(tx, roots)
        nums = list(self.browsers)
        self.visitors = _by_num(tx, "visitors", "num, id, person_num", roots)
        self.people = _by_num(tx, "people", "num, user_id, name, email",
                              sorted({v["person_num"] for v in self.visitors.values() if v["person_num"]}))  # fmt: skip
        self.visits: dict[int, int] = {}
        for r in tx.all(f"SELECT visitor_num, COUNT(*) AS n FROM sessions WHERE visitor_num IN ({_in(nums)}) "
                        "GROUP BY visitor_num", nums):  # fmt: skip
            root = self.browsers[r["visitor_num"]]
            self.visits[root] = self.visits.get(root, 0) + int(r["n"])
        events = tx.all(
            f"SELECT e.type, e.ts, e.href, e.session_num, e.visitor_num FROM events e WHERE e.site_num = ? "
            f"AND e.ts >= ? AND e.visitor_num IN ({_in(nums)}) ORDER BY e.ts DESC, e.id DESC",
            [site_num, since, *nums],
        )
        self.last: dict[int, Row] = {}
        self.page: dict[int, Row] = {}
        for e in events:
            root = self.browsers[e["visitor_num"]]
            self.last.setdefault(root, e)
            if e["type"] == "pageview":
                self.page.setdefault(root, e)
        self.sessions = _by_num(tx, "sessions", "*", sorted({e["session_num"] for e in self.last.values()}))
        person_nums = [p for p in self.people]
        paid = tx.all(
            f"SELECT visitor_num, person_num, name, email FROM payments WHERE refunded = 0 AND "
            f"(visitor_num IN ({_in(nums)}) OR person_num IN ({_in(person_nums) or 'NULL'})) ORDER BY ts DESC",
            [*nums, *person_nums],
        )
        self.customers: dict[int, Row] = {}
        for root, visitor in self.visitors.items():
            mine = (p for p in paid if self.browsers.get(p["visitor_num"]) == root
                    or (visitor["person_num"] is not None and p["person_num"] == visitor["person_num"]))  # fmt: skip
            if (first := next(mine, None)) is not None:
                self.customers[root] = first
        self.scores = {
            r["visitor_num"]: r
            for r in tx.all(
                f"SELECT visitor_num, probability, dimensions, signals FROM visitor_scores WHERE visitor_num IN "
                f"({_in(roots)}) AND probability IS NOT NULL",
                roots,
            )  # fmt: skip
        }


MAP_LIMIT, MAP_LIMIT_MAX = 100, 500


def realtime_map(
    tx: Tx, site_num: int, now: int, window_ms: int, limit: int = MAP_LIMIT, offset: int = 0
) -> dict[str, Any]:
    """The visitors active in the window, most recent first, one page of them (`count` is all of
    them), with the last events and payments of the site."""
    since = now - window_ms
    ranked = tx.all(
        f"SELECT {ROOT} AS root, MAX(e.ts) AS last_ts FROM events e JOIN visitors v ON v.num = e.visitor_num "
        f"WHERE e.site_num = ? AND e.ts >= ? GROUP BY {ROOT} ORDER BY last_ts DESC, root DESC",
        (site_num, since),
    )
    roots = [r["root"] for r in ranked[offset : offset + limit]]
    recent = tx.all(
        f"SELECT e.request_id, e.type, e.name, e.ts, e.path, e.referrer, e.extra, e.session_num, {ROOT} AS root "
        "FROM events e JOIN visitors v ON v.num = e.visitor_num WHERE e.site_num = ? AND e.ts >= ? "
        "ORDER BY e.ts DESC, e.id DESC LIMIT ?",
        (site_num, since, RECENT_LIMIT),
    )
    shown = _Page(tx, site_num, sorted(set(roots) | {e["root"] for e in recent}), since) if ranked else None
    model = site_model(tx, site_num)
    visitors = [_visitor(shown, root, model) for root in roots] if shown else []
    return {
        "count": len(ranked),
        "visitors": visitors,
        "pagination": {"limit": limit, "offset": offset, "total": len(ranked), "hasMore": offset + limit < len(ranked)},
        "conversionMetrics": metrics(model),
        "hasConversionPredictions": model is not None,
        "recentEvents": [_event(shown, e) for e in recent] if shown else [],
        "recentPayments": recent_payments(tx, site_num, since),
    }


def _visitor(shown: _Page, root: int, model: Row | None) -> dict[str, Any]:
    visitor = shown.visitors[root]
    session = shown.sessions[shown.last[root]["session_num"]]
    person = shown.people.get(visitor["person_num"]) if visitor["person_num"] else None
    customer = shown.customers.get(root)
    score = shown.scores.get(root) if model and not customer else None
    page = shown.page.get(root)
    return {
        "visitorId": visitor["id"],
        "location": {"city": session["city"], "region": session["region"], "countryCode": session["country_code"]},
        "system": {
            "browser": {"name": session["browser"]},
            "os": {"name": session["os"]},
            "device": {"type": session["device_type"]},
        },
        "currentUrl": page["href"] if page else None,
        "referrer": session["referrer"],
        "sessionStartTime": iso_ms(session["started_at"]),
        "visitCount": shown.visits.get(root, 1),
        "params": loads(session["params"]),
        "latitude": session["latitude"],
        "longitude": session["longitude"],
        "isCustomer": customer is not None,
        "customerName": customer["name"] if customer else None,
        "customerEmail": customer["email"] if customer else None,
        "profileData": {
            "displayName": _display(person),
            "userId": person["user_id"] if person else None,
            "hasProfile": person is not None,
            "isRandomName": False,
        },
        "conversionLikelihood": likelihood(model, score) if model and score else None,
    }


def _event(shown: _Page, e: Row) -> dict[str, Any]:
    root = e["root"]
    visitor = shown.visitors[root]
    person = shown.people.get(visitor["person_num"]) if visitor["person_num"] else None
    customer = shown.customers.get(root)
    session = shown.sessions.get(shown.last[root]["session_num"]) if root in shown.last else None
    return {
        "_id": e["request_id"],
        "type": e["type"],
        "name": e["name"],  # a goal's name (DataFast's `custom` events)
        "visitorId": visitor["id"],
        "timestamp": iso_ms(e["ts"]),
        "path": e["path"],
        "countryCode": session["country_code"] if session else None,
        "extraData": loads(e["extra"]),
        "referrer": e["referrer"],
        "customerName": customer["name"] if customer else None,
        "amount": None,
        "displayName": _display(person),
    }


def recent_payments(tx: Tx, site_num: int, since: int) -> list[dict[str, Any]]:
    rows = tx.all(
        "SELECT p.*, pe.name AS person_name, pe.email AS person_email FROM payments p "
        "LEFT JOIN people pe ON pe.num = p.person_num WHERE p.site_num = ? AND p.ts >= ? "
        "ORDER BY p.ts DESC, p.num DESC LIMIT ?",
        (site_num, since, RECENT_LIMIT),
    )
    out = []
    for p in rows:
        earlier = None
        if p["email"] or p["visitor_num"] is not None:
            earlier = tx.one(
                "SELECT 1 AS one FROM payments WHERE site_num = ? AND num <> ? AND ts <= ? "
                "AND (email = ? OR visitor_num = ?) LIMIT 1",
                (site_num, p["num"], p["ts"], p["email"], p["visitor_num"]),
            )
        out.append(
            {
                "_id": p["transaction_id"],
                "type": "payment_received",
                "timestamp": iso_ms(p["ts"]),
                "name": p["name"],
                "email": p["email"],
                "amount": p["amount"],
                "currency": p["currency"],
                "renewal": bool(p["renewal"]),
                "displayName": p["person_name"] or p["name"] or p["person_email"] or p["email"],
                "isNew": not p["renewal"] and earlier is None,
                "visible": not p["refunded"],
            }
        )
    return out
