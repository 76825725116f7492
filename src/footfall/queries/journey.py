"""One visitor's whole journey, anonymous or not, as the dashboard's visitor page shows it
(docs/dashboard.md, "Visitor"): who it is and how sure footfall is of that, its score, and one
timeline of visits (device, network, place, source), page views, goals, payments and the moments
it was identified, newest first.

A visitor is a root browser with the browsers matched to it by device signals (aliases): their
events are its events, each shown with the browser it came from, and a matched browser's items are
marked presumed with the match's confidence. The person is the one the visitor was identified as;
how they were identified (each route, and whether an authority did) comes from the person.
"""

from __future__ import annotations

from typing import Any

from footfall.clock import iso_ms
from footfall.queries.people import identification
from footfall.queries.visitors import marks, resolution, visitor_group
from footfall.scoring.predictions import site_scoring, visitor_prediction
from footfall.store.base import Row, Tx, loads

MAX_ITEMS = 500  # the newest items of each kind the timeline reads
ROUTE_WORDS = {
    "api": "by the site's server (API)",
    "import": "by an import",
    "payment": "by a payment",
    "link": "by an email link",
    "identify": "by the tracker's identify call",
    "form": "by a form they submitted",
}


def journey(tx: Tx, site_id: str, site_num: int, goals: list[str], visitor_id: str) -> dict[str, Any] | None:
    """The page's data for the browser `visitor_id` of this site (its root visitor's journey), or
    None when the site has no such browser."""
    browser = tx.one("SELECT * FROM visitors WHERE id = ? AND site_id = ?", (visitor_id.lower(), site_id))
    if browser is None:
        return None
    root, nums = visitor_group(tx, browser)
    browsers = {r["num"]: r for r in tx.all(f"SELECT * FROM visitors WHERE num IN ({marks(nums)})", nums)}
    group = marks(nums)
    activity = tx.one(
        "SELECT COUNT(*) AS visits, CAST(SUM(pageviews) AS BIGINT) AS pageviews, MIN(started_at) AS first_seen, "
        f"MAX(last_seen) AS last_seen FROM sessions WHERE visitor_num IN ({group})",
        nums,
    )
    assert activity is not None
    person = tx.one("SELECT * FROM people WHERE num = ?", (root["person_num"],)) if root["person_num"] else None
    items = _visits(tx, group, nums) + _events(tx, group, nums) + _payments(tx, group, nums, person)
    if person is not None:
        items += [
            {"kind": "identified", "ts": at, "text": f"Identified {ROUTE_WORDS.get(route, route)}"}
            for route, at in loads(person["routes"]).items()
        ]
    for item in items:
        item["at"] = iso_ms(item["ts"])
        alias = browsers.get(item.pop("browser", root["num"]))
        if alias is not None and alias["alias_of"] is not None:
            item["presumed"] = alias["alias_confidence"]
    # at one instant: the visit, then its events in the order they came, then what followed from them
    items.sort(key=lambda i: (i["ts"], ORDER.get(i["kind"], 1), i.pop("seq", 0)), reverse=True)
    return {
        "visitorId": root["id"],
        "shortId": root["id"][-8:],
        "requested": browser["id"],
        "resolution": resolution(browser),
        "browsers": [
            {"visitorId": b["id"], "presumed": b["alias_of"] is not None, "confidence": b["alias_confidence"]}
            for b in browsers.values()
        ],
        "firstSeenAt": iso_ms(activity["first_seen"] or root["first_seen"]),
        "lastSeenAt": iso_ms(activity["last_seen"]),
        "visits": activity["visits"],
        "pageViews": activity["pageviews"] or 0,
        "firstSource": _first_source(loads(root["first_params"]), items),
        "person": _person(tx, person),
        "prediction": visitor_prediction(tx, site_num, root["num"]),
        "scoring": site_scoring(tx, site_num, goals),
        "timeline": items,
    }


def _first_source(params: dict[str, Any], items: list[dict[str, Any]]) -> str | None:
    """Where the visitor first came from: its first page's campaign parameters, else its first visit's source."""
    given = params.get("utm_source") or params.get("ref") or params.get("source") or params.get("via")
    visits = [i for i in items if i["kind"] == "visit"]
    return str(given) if given else visits[-1]["source"] if visits else None


ORDER = {"visit": 0, "identified": 2, "payment": 3}  # events: 1


def _person(tx: Tx, person: Row | None) -> dict[str, Any] | None:
    if person is None:
        return None
    how = identification(tx, person)
    for r in how["routes"]:
        r["words"] = ROUTE_WORDS.get(r["route"], r["route"])
    return {
        "id": person["id"],
        "name": person["name"] or person["email"] or person["user_id"],
        "email": person["email"],
        "identification": how,
    }


def _visits(tx: Tx, group: str, nums: list[int]) -> list[dict[str, Any]]:
    rows = tx.all(
        "SELECT visitor_num, started_at, browser, browser_version, os, device_type, country, city, as_organization, "
        "asn, referrer, referrer_source, channel, utm_source, utm_campaign, pageviews FROM sessions "
        f"WHERE visitor_num IN ({group}) ORDER BY started_at DESC LIMIT ?",
        (*nums, MAX_ITEMS),
    )
    return [
        {
            "kind": "visit",
            "ts": s["started_at"],
            "browser": s["visitor_num"],
            "source": s["utm_source"] or s["referrer_source"] or s["referrer"] or s["channel"] or "Direct",
            "campaign": s["utm_campaign"],
            "device": " · ".join(v for v in (s["browser"], s["os"], s["device_type"]) if v) or None,
            "network": s["as_organization"],
            "place": ", ".join(v for v in (s["city"], s["country"]) if v) or None,
            "pageViews": s["pageviews"],
        }
        for s in rows
    ]


def _events(tx: Tx, group: str, nums: list[int]) -> list[dict[str, Any]]:
    rows = tx.all(
        f"SELECT id, visitor_num, type, name, path, title, ts, extra FROM events WHERE visitor_num IN ({group}) "
        "ORDER BY ts DESC, id DESC LIMIT ?",
        (*nums, MAX_ITEMS),
    )
    return [_event(e) for e in rows]


EVENT_WORDS = {  # what each kind of event the tracker sends is called on the page
    "custom": "Goal",
    "identify": "Identify call",
    "form": "Form submitted",
    "payment": "Checkout reported by the page",
    "external_link": "Outbound link",
    "identification": "Device identification",
}


def _event(e: Row) -> dict[str, Any]:
    item = {"kind": e["type"], "ts": e["ts"], "seq": e["id"], "browser": e["visitor_num"], "path": e["path"]}
    if e["type"] == "pageview":
        return item | {"title": e["title"]}
    params = {k: str(v)[:80] for k, v in loads(e["extra"]).items() if k != "eventName" and v not in (None, "")}
    kind = {"custom": "goal", "payment": "checkout"}.get(e["type"], e["type"])
    return item | {"kind": kind, "words": EVENT_WORDS.get(e["type"], e["type"]), "name": e["name"], "params": params}


def _payments(tx: Tx, group: str, nums: list[int], person: Row | None) -> list[dict[str, Any]]:
    """The visitor's payments, and its person's payments matched by email alone (no browser)."""
    by_person = " OR (person_num = ? AND visitor_num IS NULL)" if person is not None else ""
    rows = tx.all(
        "SELECT visitor_num, ts, amount, currency, refunded, renewal, source FROM payments "
        f"WHERE visitor_num IN ({group}){by_person} ORDER BY ts DESC LIMIT ?",
        (*nums, *([person["num"]] if person is not None else []), MAX_ITEMS),
    )
    return [
        {
            "kind": "payment",
            "ts": p["ts"],
            "browser": p["visitor_num"],
            "amount": p["amount"],
            "currency": p["currency"],
            "refunded": bool(p["refunded"]),
            "renewal": bool(p["renewal"]),
            "byEmail": p["visitor_num"] is None,
            "source": p["source"],
        }
        for p in rows
    ]
