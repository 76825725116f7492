"""People as the APIs show them: the facts given, what stated rules derive from them, and where
each field came from (docs/people.md)."""

from __future__ import annotations

from typing import Any

from nameparser import HumanName

from footfall.clock import iso_ms
from footfall.enrich.email import company_domain, email_fields
from footfall.enrich.titles import classify
from footfall.identity.claims import AUTHORITIES, ROUTES
from footfall.queries.segments import segments_of, site_segments
from footfall.queries.visitors import marks
from footfall.scoring.predictions import person_prediction
from footfall.store.base import Row, Tx, loads

MAX_SESSIONS = 100
MAX_PAGES = 1000


iso = iso_ms


def strong_ids(tx: Tx, num: int) -> dict[str, list[str]]:
    rows = tx.all("SELECT kind, value FROM person_ids WHERE person_num = ? ORDER BY kind, value", (num,))
    found: dict[str, list[str]] = {"user_id": [], "email": []}
    for r in rows:
        found[r["kind"]].append(r["value"])
    return found


def _primary_first(primary: str | None, values: list[str]) -> list[str]:
    return [primary, *(v for v in values if v != primary)] if primary in values else values


def identification(tx: Tx, person: Row) -> dict[str, Any]:
    """How the person was identified, and when (docs/people.md, "How sure"): every route that named
    them (oldest first), the strongest (`by`, `at`), whether an authority did (`verified`), and the
    verified person a keyless claim conflicts with (`conflictsWith`), shown for an explicit merge."""
    routes = loads(person["routes"])
    ordered = sorted(routes.items(), key=lambda item: (item[1], ROUTES.index(item[0]) if item[0] in ROUTES else 99))
    strongest = min(routes, key=lambda r: (ROUTES.index(r) if r in ROUTES else 99, routes[r]), default=None)
    conflict = None
    if person["conflict_of"] is not None:
        row = tx.one("SELECT id FROM people WHERE num = ?", (person["conflict_of"],))
        conflict = row["id"] if row else None
    return {
        "verified": any(r in AUTHORITIES for r in routes),
        "by": strongest,
        "at": iso(routes[strongest]) if strongest else None,
        "routes": [{"route": r, "at": iso(ts)} for r, ts in ordered],
        "conflictsWith": conflict,
    }


def person_body(tx: Tx, person: Row) -> dict[str, Any]:
    """A person: identity, work, company, location and activity, each derived field with its source."""
    given = strong_ids(tx, person["num"])
    emails = _primary_first(person["email"], given["email"])
    sources: dict[str, str] = dict(loads(person["sources"]))
    first, last = person["first_name"], person["last_name"]
    if person["name"] and not (first or last):
        parsed = HumanName(person["name"])
        first, last = parsed.first or None, parsed.last or None
        split = {"first_name": first, "last_name": last}
        sources |= {k: "rule:name" for k, v in split.items() if v}
    department, seniority = classify(person["title"])
    if person["title"]:
        sources |= {"department": "rule:title", "seniority": "rule:title"}
    fields = email_fields(emails)
    domain = next((d for d in (company_domain(e) for e in emails) if d), None)
    if domain:
        sources["company_domain"] = "rule:email_domain"
    known = tx.one("SELECT * FROM companies WHERE site_num = ? AND domain = ?", (person["site_num"], domain))
    company = person["company"]
    if known and known["name"] and not company:
        company = known["name"]
        sources["company"] = "import"
    if known and known["industry"]:
        sources["industry"] = "import"
    activity = tx.one(
        "SELECT COUNT(*) AS visits, CAST(SUM(pageviews) AS BIGINT) AS pageviews, MIN(started_at) AS first_seen, "
        "MAX(last_seen) AS last_seen FROM sessions WHERE person_num = ?",
        (person["num"],),
    )
    place = tx.one(
        "SELECT city, region, country, country_code FROM sessions WHERE person_num = ? AND country IS NOT NULL "
        "ORDER BY num DESC LIMIT 1",
        (person["num"],),
    )
    location = person["location"]
    if not location and place:
        location = ", ".join(p for p in (place["city"], place["region"], place["country"]) if p)
        sources["location"] = "geo"
    assert activity is not None
    body = {
        "id": person["id"],
        "userId": person["user_id"],
        "userIds": _primary_first(person["user_id"], given["user_id"]),
        **fields,
        "emails": emails,
        "name": person["name"] or (" ".join(p for p in (first, last) if p) or None),
        "firstName": first,
        "lastName": last,
        "title": person["title"],
        "department": department,
        "seniority": seniority,
        "company": company,
        "companyDomain": domain,
        "industry": known["industry"] if known else None,
        "phone": person["phone"],
        "image": person["image"],
        "location": location,
        "country": place["country"] if place else None,
        "countryCode": place["country_code"] if place else None,
        "metadata": loads(person["metadata"]),
        "sources": sources,
        "createdAt": iso(person["created_at"]),
        "identifiedAt": iso(person["identified_at"]),
        "identification": identification(tx, person),
        "firstVisitAt": iso(activity["first_seen"]),
        "lastVisitAt": iso(activity["last_seen"]),
        "visitCount": activity["visits"],
        "pageViewCount": activity["pageviews"] or 0,
        "prediction": person_prediction(tx, person["site_num"], person["num"]),
    }
    body["segments"] = segments_of(tx, person["num"], body, site_segments(tx, person["site_num"]))
    return body


def person_detail(tx: Tx, person: Row) -> dict[str, Any]:
    """`person_body` plus devices, the sessions timeline, pages and goals, across all devices."""
    body = person_body(tx, person)
    devices = tx.all(
        "SELECT v.num, v.id, v.first_seen, "
        "(SELECT MAX(s.last_seen) FROM sessions s WHERE s.visitor_num = v.num) AS last_seen, "
        "(SELECT s.browser FROM sessions s WHERE s.visitor_num = v.num ORDER BY s.num DESC LIMIT 1) AS browser, "
        "(SELECT s.os FROM sessions s WHERE s.visitor_num = v.num ORDER BY s.num DESC LIMIT 1) AS os, "
        "(SELECT s.device_type FROM sessions s WHERE s.visitor_num = v.num ORDER BY s.num DESC LIMIT 1) AS device_type "
        "FROM visitors v WHERE v.num IN (SELECT DISTINCT visitor_num FROM sessions WHERE person_num = ?) "
        "ORDER BY v.first_seen",
        (person["num"],),
    )
    sessions = tx.all(
        "SELECT s.id, v.id AS visitor_id, s.started_at, s.last_seen, s.pageviews, s.entry_path, s.exit_path, "
        "s.referrer, s.channel, s.utm_source, s.utm_medium, s.utm_campaign, s.country, s.city, s.browser, s.os "
        "FROM sessions s JOIN visitors v ON v.num = s.visitor_num WHERE s.person_num = ? "
        "ORDER BY s.started_at DESC, s.num DESC LIMIT ?",
        (person["num"], MAX_SESSIONS),
    )
    visits = tx.all("SELECT num, visitor_num FROM sessions WHERE person_num = ?", (person["num"],))
    pages: list[Row] = []
    goals: list[Row] = []
    if visits:
        # through the visitors' index (events.session_num has none: that was a scan of every event)
        nums, browsers = [r["num"] for r in visits], sorted({r["visitor_num"] for r in visits})
        where = f"visitor_num IN ({marks(browsers)}) AND session_num IN ({marks(nums)})"
        pages = tx.all(
            f"SELECT hostname, path, title, ts FROM events WHERE {where} AND type = 'pageview' "
            "ORDER BY ts DESC, id DESC LIMIT ?",
            (*browsers, *nums, MAX_PAGES),
        )
        goals = tx.all(
            f"SELECT name, ts, extra FROM events WHERE {where} AND type = 'custom' ORDER BY ts, id", (*browsers, *nums)
        )
    return body | {
        "devices": [
            {
                "visitorId": d["id"],
                "browser": d["browser"],
                "os": d["os"],
                "deviceType": d["device_type"],
                "firstSeenAt": iso(d["first_seen"]),
                "lastSeenAt": iso(d["last_seen"]),
            }
            for d in devices
        ],
        "sessions": [
            {
                "sessionId": s["id"],
                "visitorId": s["visitor_id"],
                "startedAt": iso(s["started_at"]),
                "lastSeenAt": iso(s["last_seen"]),
                "pageViews": s["pageviews"],
                "entryPath": s["entry_path"],
                "exitPath": s["exit_path"],
                "referrer": s["referrer"],
                "channel": s["channel"],
                "utmSource": s["utm_source"],
                "utmMedium": s["utm_medium"],
                "utmCampaign": s["utm_campaign"],
                "country": s["country"],
                "city": s["city"],
                "browser": s["browser"],
                "os": s["os"],
            }
            for s in sessions
        ],
        "pages": [
            {"url": f"{p['hostname']}{p['path']}", "title": p["title"], "timestamp": iso(p["ts"])}
            for p in reversed(pages)
        ],
        "goals": [{"name": g["name"], "timestamp": iso(g["ts"]), "params": loads(g["extra"])} for g in goals],
    }


def visitor_profile(tx: Tx, visitor: Row) -> dict[str, Any] | None:
    """DataFast's visitor `profile`: {userId, metadata, identifiedAt} of the person the visitor
    (`visitor` is the root row) is identified as; None while anonymous."""
    if visitor["person_num"] is None:
        return None
    person = tx.one("SELECT * FROM people WHERE num = ?", (visitor["person_num"],))
    if person is None:
        return None
    metadata = loads(person["metadata"]) | {
        k: person[k] for k in ("email", "name", "title", "company", "phone", "image") if person[k]
    }
    return {"userId": person["user_id"], "metadata": metadata, "identifiedAt": iso(person["identified_at"])}
