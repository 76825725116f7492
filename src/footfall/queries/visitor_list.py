"""DataFast's `GET /api/v1/visitors`: visitors active in a range, filtered, newest activity first.

A visitor (with every browser matched to it) is listed when one of its visits in the range
passes every filter; a list of values means any of them. Filters on where a visit came from
(`referrer`, `utm_*`, `ref`, `source`, `via`) and on what it ran on look at the visit's first
event, as sessions keep it; page and goal filters look at the visit's events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from footfall.clock import iso_ms
from footfall.queries.ranges import BadQuery, window
from footfall.store.base import Row, Tx, dumps

MAX_VALUES = 50
LIMIT_DEFAULT, LIMIT_MAX = 100, 250
SESSION_COLUMNS = {"browser": "browser", "os": "os", "device": "device_type", "hostname": "hostname"}
UTM_COLUMNS = ("utm_source", "utm_medium", "utm_campaign")
PARAM_ONLY = ("utm_term", "utm_content", "ref", "source", "via")
PAGES = "SELECT 1 FROM events e WHERE e.session_num = s.num AND e.type = 'pageview'"


@dataclass
class VisitorQuery:
    start: int | None = None
    end: int | None = None
    limit: int = LIMIT_DEFAULT
    offset: int = 0
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    goal: list[str] | None = None


def _values(raw: str, name: str) -> list[str]:
    values = [v.strip() for v in raw.split(",") if v.strip()]
    if not values:
        raise BadQuery(f"{name}: give at least one value")
    if len(values) > MAX_VALUES:
        raise BadQuery(f"{name}: at most {MAX_VALUES} values")
    return values


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def parse(q: Any, site_timezone: str) -> VisitorQuery:
    """The query parameters, validated (BadQuery names what is wrong)."""
    span = window(q, site_timezone, LIMIT_DEFAULT, LIMIT_MAX)
    query = VisitorQuery(span.start, span.end, span.limit, span.offset)
    w, p = query.where, query.params

    def any_of(expression: str, values: list[str]) -> None:
        w.append(f"{expression} IN ({','.join('?' * len(values))})")
        p.extend(values)

    for name in ("country", "region", "city"):
        if q.get(name):
            values = [v.lower() for v in _values(q[name], name)]
            if name == "country":
                marks = ",".join("?" * len(values))
                w.append(f"(LOWER(s.country_code) IN ({marks}) OR LOWER(s.country) IN ({marks}))")
                p.extend(values + values)
            else:
                any_of(f"LOWER(s.{name})", values)
    for name, column in SESSION_COLUMNS.items():
        if q.get(name):
            any_of(f"LOWER(s.{column})", [v.lower() for v in _values(q[name], name)])
    if q.get("referrer"):
        values = [v.lower() for v in _values(q["referrer"], "referrer")]
        w.append(
            "("
            + " OR ".join(
                ["LOWER(s.referrer_source) = ?"] * len(values) + ["LOWER(s.referrer) LIKE ? ESCAPE '\\'"] * len(values)
            )
            + ")"
        )
        p.extend(values + [f"%{_like(v)}%" for v in values])
    for name in UTM_COLUMNS:
        if q.get(name):
            any_of(f"s.{name}", _values(q[name], name))
    for name in PARAM_ONLY:
        if q.get(name):
            values = _values(q[name], name)
            w.append("(" + " OR ".join(["s.params LIKE ? ESCAPE '\\'"] * len(values)) + ")")
            p.extend(f"%{_like(dumps({name: v})[1:-1])}%" for v in values)
    page = q.get("visitedPage") or q.get("page")
    if page:
        values = _values(page, "visitedPage")
        marks = ",".join("?" * len(values))
        w.append(f"EXISTS ({PAGES} AND e.path IN ({marks}))")
        p.extend(values)
    contains = q.get("visitedPageContains") or q.get("pageContains")
    if contains:
        w.append(f"EXISTS ({PAGES} AND e.path LIKE ? ESCAPE '\\')")
        p.append(f"%{_like(contains)}%")
    goal = q.get("completedGoal") or q.get("goal")
    customer = q.get("isCustomer") or q.get("hasRevenue")
    if goal and customer:
        raise BadQuery("completedGoal cannot be combined with isCustomer")
    if goal:
        query.goal = _values(goal, "completedGoal")
    if customer:
        if customer not in ("true", "false"):
            raise BadQuery("isCustomer must be true or false")
        paid = (  # paid on this browser, or by the visitor's person (a payment matched by email)
            "EXISTS (SELECT 1 FROM payments pay WHERE pay.refunded = 0 AND (pay.visitor_num = s.visitor_num "
            "OR pay.person_num IN (s.person_num, v.person_num)))"
        )
        w.append(paid if customer == "true" else f"NOT {paid}")
    return query


def list_visitors(tx: Tx, site_num: int, query: VisitorQuery) -> dict[str, Any]:
    where = ["s.site_num = ?", *query.where]
    params: list[Any] = [site_num, *query.params]
    if query.start is not None:
        where += ["s.last_seen >= ?", "s.started_at <= ?"]
        params += [query.start, query.end]
    seen = "MAX(s.last_seen)"
    if query.goal:
        marks = ",".join("?" * len(query.goal))
        goal_events = f"FROM events g WHERE g.session_num = s.num AND g.type = 'custom' AND g.name IN ({marks})"
        where.append(f"EXISTS (SELECT 1 {goal_events})")
        params += query.goal
        seen = f"MAX((SELECT MAX(g.ts) {goal_events}))"  # the goal's completion time, as DataFast
        params = [*query.goal, *params]
    rows = tx.all(
        f"SELECT COALESCE(v.alias_of, v.num) AS root, {seen} AS last_seen FROM sessions s "
        f"JOIN visitors v ON v.num = s.visitor_num WHERE {' AND '.join(where)} "
        "GROUP BY COALESCE(v.alias_of, v.num) ORDER BY last_seen DESC, root DESC LIMIT ? OFFSET ?",
        (*params, query.limit + 1, query.offset),
    )
    more = len(rows) > query.limit
    return {
        "status": "success",
        "data": [_row(tx, r["root"], r["last_seen"]) for r in rows[: query.limit]],
        "pagination": {"offset": query.offset, "limit": query.limit, "hasMore": more},
    }


def _row(tx: Tx, root: int, last_seen: int) -> dict[str, Any]:
    group = "(SELECT num FROM visitors WHERE num = ? OR alias_of = ?)"
    visitor = tx.one("SELECT id FROM visitors WHERE num = ?", (root,))
    latest = tx.one(
        f"SELECT country, region, city, browser, os, device_type FROM sessions WHERE visitor_num IN {group} "
        "ORDER BY num DESC LIMIT 1",
        (root, root),
    )
    first = tx.one(
        f"SELECT referrer, referrer_source, channel, utm_source, utm_medium, utm_campaign FROM sessions "
        f"WHERE visitor_num IN {group} ORDER BY num LIMIT 1",
        (root, root),
    )
    page = tx.one(
        f"SELECT hostname, path FROM events WHERE visitor_num IN {group} AND type = 'pageview' "
        "ORDER BY ts DESC, id DESC LIMIT 1",
        (root, root),
    )
    assert visitor is not None and latest is not None and first is not None
    return {
        "visitorId": visitor["id"],
        "lastSeenAt": iso_ms(last_seen),
        "currentUrl": f"{page['hostname']}{page['path']}" if page else None,
        "identity": {
            "country": latest["country"],
            "region": latest["region"],
            "city": latest["city"],
            "browser": latest["browser"],
            "os": latest["os"],
            "device": latest["device_type"],
        },
        "acquisition": {
            "referrer": first["referrer"],
            "source": first["referrer_source"],
            "channel": first["channel"],
            "utm_source": first["utm_source"],
            "utm_medium": first["utm_medium"],
            "utm_campaign": first["utm_campaign"],
        },
    }


def named(tx: Tx, ids: list[str]) -> dict[str, Row]:
    """Who the identified ones among visitor `ids` are: {id: {person_id, name, email}}."""
    if not ids:
        return {}
    rows = tx.all(
        "SELECT v.id, p.id AS person_id, COALESCE(p.name, p.email, p.user_id) AS name, p.email FROM visitors v "
        f"JOIN people p ON p.num = v.person_num WHERE v.id IN ({', '.join('?' * len(ids))})",
        ids,
    )
    return {r["id"]: r for r in rows}
