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
from footfall.scoring.predictions import likelihood, site_model, visitor_score
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


def _group(root: int) -> tuple[str, tuple[int, int]]:
    return "(SELECT num FROM visitors WHERE num = ? OR alias_of = ?)", (root, root)


def _person(tx: Tx, person_num: int | None) -> Row | None:
    if person_num is None:
        return None
    return tx.one("SELECT num, user_id, name, email FROM people WHERE num = ?", (person_num,))


def _display(person: Row | None) -> str | None:
    return None if person is None else person["name"] or person["email"]


def _customer(tx: Tx, root: int, person: Row | None) -> Row | None:
    """The visitor's latest payment not refunded (by its browsers, or by the person it identified as)."""
    group, params = _group(root)
    where, args = f"visitor_num IN {group}", list[Any](params)
    if person is not None:
        where += " OR person_num = ?"
        args.append(person["num"])
    return tx.one(f"SELECT name, email FROM payments WHERE refunded = 0 AND ({where}) ORDER BY ts DESC LIMIT 1", args)


def realtime_map(tx: Tx, site_num: int, now: int, window_ms: int) -> dict[str, Any]:
    since = now - window_ms
    recent = tx.all(
        f"SELECT e.request_id, e.type, e.ts, e.href, e.hostname, e.path, e.referrer, e.extra, e.session_num, "
        f"{ROOT} AS root FROM events e JOIN visitors v ON v.num = e.visitor_num "
        "WHERE e.site_num = ? AND e.ts >= ? ORDER BY e.ts DESC, e.id DESC",
        (site_num, since),
    )
    latest_by_root: dict[int, Row] = {}
    for e in recent:
        latest_by_root.setdefault(e["root"], e)
    page_by_root: dict[int, Row] = {}
    for e in recent:
        if e["type"] == "pageview":
            page_by_root.setdefault(e["root"], e)
    visitors, about = [], {}
    model = site_model(tx, site_num)
    for root, last in latest_by_root.items():
        visitor = tx.one("SELECT id, person_num FROM visitors WHERE num = ?", (root,))
        session = tx.one("SELECT * FROM sessions WHERE num = ?", (last["session_num"],))
        assert visitor is not None and session is not None
        group, params = _group(root)
        visits = tx.one(f"SELECT COUNT(*) AS n FROM sessions WHERE visitor_num IN {group}", params)
        person = _person(tx, visitor["person_num"])
        customer = _customer(tx, root, person)
        score = visitor_score(tx, root) if model else None
        page = page_by_root.get(root)
        about[root] = (visitor["id"], session, person, customer)
        visitors.append(
            {
                "visitorId": visitor["id"],
                "location": {
                    "city": session["city"],
                    "region": session["region"],
                    "countryCode": session["country_code"],
                },
                "system": {
                    "browser": {"name": session["browser"]},
                    "os": {"name": session["os"]},
                    "device": {"type": session["device_type"]},
                },
                "currentUrl": page["href"] if page else None,
                "referrer": session["referrer"],
                "sessionStartTime": iso_ms(session["started_at"]),
                "visitCount": int(visits["n"]) if visits else 1,
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
                "conversionLikelihood": likelihood(model, score) if model and not customer and score else None,
            }
        )
    events = []
    for e in recent[:RECENT_LIMIT]:
        visitor_id, session, person, customer = about[e["root"]]
        events.append(
            {
                "_id": e["request_id"],
                "type": e["type"],
                "visitorId": visitor_id,
                "timestamp": iso_ms(e["ts"]),
                "path": e["path"],
                "countryCode": session["country_code"],
                "extraData": loads(e["extra"]),
                "referrer": e["referrer"],
                "customerName": customer["name"] if customer else None,
                "amount": None,
                "displayName": _display(person),
            }
        )
    return {
        "count": len(visitors),
        "visitors": visitors,
        "conversionMetrics": metrics(model),
        "hasConversionPredictions": model is not None,
        "recentEvents": events,
        "recentPayments": recent_payments(tx, site_num, since),
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
