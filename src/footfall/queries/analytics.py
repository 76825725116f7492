"""DataFast's analytics: overview, timeseries, realtime, breakdowns and metadata (docs/api.md).

Definitions (footfall's, written down where DataFast's docs are silent):
- The unit is the visit (session). A visit is in a range when it started in it; filters keep the
  visits whose first event matches (`page` filters: a page view of the visit matches).
- visitors: distinct visitors (a visitor's matched browsers count once) among those visits;
  sessions: the visits; bounce_rate: % of visits with at most one page view; avg_session_duration:
  mean of (last event - first event) in ms.
- Payments count when made in the range (not refunded), in the range's main currency (the most
  frequent one); with filters, only payments of the visitors kept. revenue_per_visitor = revenue /
  visitors; conversion_rate = % of visitors with such a payment.
- Breakdown rows: the visitors whose visits have that value, and those visitors' revenue.
- goals: custom events in the kept visits: completions and distinct visitors per goal name.

Overview, time series and breakdowns count from the rollups (rollups.py) without filters, and from
the rollups' visit columns with them (queries/kept.py), exact like the rest: each reads the rows
only for what is not folded yet. Goals count from the visit columns too (with or without filters).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from footfall import pending_goals, rollups
from footfall.queries import kept
from footfall.queries.kept import Filter, passes
from footfall.queries.ranges import BadQuery, window
from footfall.rollups import Tally
from footfall.store.base import Row, Tx, loads

DIMENSIONS = {
    "country": "country",
    "region": "region",
    "city": "city",
    "device": "device_type",
    "browser": "browser",
    "os": "os",
    "referrer": "referrer_source",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "hostname": "hostname",
    "entry_page": "entry_path",
    "exit_page": "exit_path",
}
PARAM_DIMENSIONS = ("utm_term", "utm_content", "ref", "source", "via")
OPERATORS = ("is", "is_not", "contains")
BREAKDOWNS = {
    "devices": ("device", "device_type"),
    "browsers": ("browser", "browser"),
    "operating-systems": ("operating_system", "os"),
    "countries": ("country", "country"),
    "regions": ("region", "region"),
    "cities": ("city", "city"),
    "referrers": ("referrer", "referrer_source"),
    "hostnames": ("hostname", "hostname"),
}
CAMPAIGN_KEYS = rollups.CAMPAIGN_KEYS
LIMIT_DEFAULT, LIMIT_MAX = 100, 1000
ALL_TIME = 2**62  # the end of an unbounded range
# a visit's events come after its start: the range of events_site_ts to read (then joined to the visits)
EVENTS_OF_VISITS = "e.site_num = ? AND e.ts >= ?"


@dataclass
class Query:
    zone: ZoneInfo
    start: int | None = None
    end: int | None = None
    filters: list[Filter] = field(default_factory=list)
    limit: int = LIMIT_DEFAULT
    offset: int = 0
    same_day: bool = False


def parse(q: Any, site_timezone: str) -> Query:
    span = window(q, site_timezone, LIMIT_DEFAULT, LIMIT_MAX)
    query = Query(span.zone, span.start, span.end, limit=span.limit, offset=span.offset, same_day=span.same_day)
    for key in list(q):
        if not key.startswith("filter_"):
            continue
        dimension = key.removeprefix("filter_")
        if dimension not in DIMENSIONS and dimension not in PARAM_DIMENSIONS and dimension != "page":
            raise BadQuery(f"{key}: unknown dimension")
        op, _, raw = q[key].partition(":")
        if op not in OPERATORS or not raw:
            raise BadQuery(f"{key}: expected is:, is_not: or contains: followed by values")
        values = [v.strip() for v in raw.split(",") if v.strip()]
        query.filters.append(Filter(dimension, op, values))
    return query


def _value(visit: Row, dimension: str, pages: set[str]) -> list[str]:
    """The values a visit has for a dimension (a visit has many pages)."""
    if dimension == "page":
        return sorted(pages)
    if dimension == "country":
        return [v for v in (visit["country"], visit["country_code"]) if v]
    if dimension in PARAM_DIMENSIONS:
        found = loads(visit["params"]).get(dimension)
        return [found] if found else []
    value = visit[DIMENSIONS[dimension]]
    return [value] if value else []


def _passes(visit: Row, f: Filter, pages: set[str]) -> bool:
    return passes(_value(visit, f.dimension, pages), f)


@dataclass
class Data:
    """The visits kept by a query's range and filters as rows (funnels with filters need their
    events), their pages, and the range's payments."""

    visits: list[Row]
    pages: dict[int, set[str]]  # visit num -> paths viewed
    payments: list[Row]
    currency: str


def in_range(query: Query, column: str) -> tuple[str, list[Any]]:
    """The SQL condition (and its parameters) keeping `column` inside the query's range."""
    if query.start is None:
        return "", []
    return f" AND {column} BETWEEN ? AND ?", [query.start, query.end]


def visits_in_range(site_num: int, query: Query) -> tuple[str, list[Any]]:
    clause, params = in_range(query, "s.started_at")
    return "s.site_num = ?" + clause, [site_num, *params]


def load(tx: Tx, site_num: int, query: Query) -> Data:
    where, params = visits_in_range(site_num, query)
    visits = tx.all(rollups.visits_sql(where, keys=True), params)
    pages: dict[int, set[str]] = defaultdict(set)
    for e in tx.all(
        f"SELECT e.session_num, e.path FROM events e JOIN sessions s ON s.num = e.session_num "
        f"WHERE {EVENTS_OF_VISITS} AND {where} AND e.type = 'pageview'",
        [site_num, query.start or 0, *params],
    ):
        pages[e["session_num"]].add(e["path"])
    kept = [v for v in visits if all(_passes(v, f, pages[v["num"]]) for f in query.filters)]
    payments, currency = load_payments(tx, site_num, query)
    if query.filters:
        roots = {v["root"] for v in kept}
        payments = [p for p in payments if p["root"] in roots]
    return Data(kept, pages, payments, currency)


# A payment matched to a person by email alone (no browser) counts for the visitor they were in
# their latest visit before paying (else their latest visit): its revenue, customer and conversion
# are that visitor's in every breakdown, as a payment made on the browser would be.
_PERSONS_VISIT = (
    "(SELECT COALESCE(v2.alias_of, v2.num) FROM sessions s2 JOIN visitors v2 ON v2.num = s2.visitor_num "
    "WHERE s2.person_num = p.person_num{} ORDER BY s2.started_at DESC LIMIT 1)"
)
BY_EMAIL = _PERSONS_VISIT.format(" AND s2.started_at <= p.ts") + ", " + _PERSONS_VISIT.format("")


def load_payments(tx: Tx, site_num: int, query: Query) -> tuple[list[Row], str]:
    """The range's payments (not refunded) in its main currency (the most frequent one), and that
    currency; each with the root visitor it counts for (`root`)."""
    clause, range_params = in_range(query, "p.ts")
    payments = tx.all(
        f"SELECT p.num, p.ts, p.amount, p.currency, p.renewal, p.visitor_num FROM payments p "
        f"WHERE p.site_num = ? AND p.refunded = 0{clause}",
        [site_num, *range_params],
    )
    # roots in two short lookups by key: joined in one query, PostgreSQL hashed every visitor
    browsers = sorted({p["visitor_num"] for p in payments if p["visitor_num"] is not None})
    sql = "SELECT num, COALESCE(alias_of, num) AS root FROM visitors WHERE "
    roots = {r["num"]: r["root"] for r in _each_of(tx, sql, "num", browsers)}
    by_email = {
        r["num"]: r["root"]
        for r in _each_of(
            tx,
            f"SELECT p.num, COALESCE({BY_EMAIL}) AS root FROM payments p WHERE ",
            "p.num",
            [p["num"] for p in payments if p["visitor_num"] not in roots],
        )
    }
    rows = [
        {
            "ts": p["ts"],
            "amount": p["amount"],
            "currency": p["currency"],
            "renewal": p["renewal"],
            "root": roots[p["visitor_num"]] if p["visitor_num"] in roots else by_email.get(p["num"]),
        }
        for p in payments
    ]
    currencies = Counter(p["currency"] for p in rows)
    currency = currencies.most_common(1)[0][0] if currencies else "USD"
    return [p for p in rows if p["currency"] == currency], currency


def _each_of(tx: Tx, select: str, column: str, values: list[int]) -> list[Row]:
    """`select` + a condition keeping the rows whose `column` is one of `values`: one array
    parameter on PostgreSQL (thousands of placeholders cost psycopg 30 ms to parse), lists of
    placeholders on SQLite."""
    if not values:
        return []
    if tx.dialect == "postgres":
        return tx.all(f"{select}{column} = ANY(?::bigint[])", (values,))
    found: list[Row] = []
    for i in range(0, len(values), 5000):
        chunk = values[i : i + 5000]
        found += tx.all(f"{select}{column} IN ({','.join('?' * len(chunk))})", chunk)
    return found


@dataclass
class Counts:
    """What overview and time series count: a Tally of visits per bucket, and the payments."""

    buckets: list[Tally]
    payments: list[Row]
    currency: str

    def total(self) -> Tally:
        whole = Tally()
        for t in self.buckets:
            whole.add(t)
        return whole


def span(query: Query) -> tuple[int, int]:
    """The query's range as [lo, hi) in ms (everything without one)."""
    return (0, ALL_TIME) if query.start is None or query.end is None else (query.start, query.end + 1)


def count(tx: Tx, site_num: int, query: Query, bounds: list[int]) -> Counts:
    """Visits in the buckets [bounds[i], bounds[i+1]): from the rollups (rollups.py) without
    filters, from their visit columns (queries/kept.py) with them."""
    payments, currency = load_payments(tx, site_num, query)
    if not query.filters:
        return Counts(rollups.tallies(tx, site_num, bounds), payments, currency)
    found = kept.read(tx, site_num, bounds[0], bounds[-1], query.filters, times=True)
    roots = found.visitors()
    kept_payments = [p for p in payments if p["root"] is not None and p["root"] in roots]  # None: nobody's
    return Counts(kept.tallies(found, bounds), kept_payments, currency)


def money(value: float) -> float:
    return round(value, 2)


def totals(t: Tally, payments: list[Row], currency: str) -> dict[str, Any]:
    visitors = len(t.visitors)
    revenue = sum(p["amount"] for p in payments)
    customers = sum(1 for root in {p["root"] for p in payments if p["root"] is not None} if root in t.visitors)
    return {
        "visitors": visitors,
        "sessions": t.sessions,
        "pageviews": t.pageviews,
        "bounce_rate": round(100 * t.bounces / t.sessions, 2) if t.sessions else 0.0,
        "avg_session_duration": round(t.duration / t.sessions) if t.sessions else 0,
        "currency": currency,
        "revenue": money(revenue),
        "payments": len(payments),
        "revenue_per_visitor": money(revenue / visitors) if visitors else 0.0,
        "conversion_rate": round(100 * customers / visitors, 2) if visitors else 0.0,
    }


def overview(tx: Tx, site_num: int, query: Query) -> dict[str, Any]:
    bounds = [0, ALL_TIME] if query.start is None or query.end is None else [query.start, query.end + 1]
    counts = count(tx, site_num, query, bounds)
    return totals(counts.buckets[0], counts.payments, counts.currency)


def any_breakdown(
    tx: Tx, site_num: int, query: Query, name: str, found: kept.Kept | None = None
) -> list[dict[str, Any]]:
    """Rows of one breakdown, most visitors first: from the rollups' columns without filters, from
    the kept visits with them (`found`: already read with this breakdown's field)."""
    if not query.filters:
        lo, hi = span(query)
        return by_value(tx, site_num, query, name, *rollups.pairs(tx, site_num, name, lo, hi))
    if found is None:
        found = kept.read(tx, site_num, *span(query), query.filters, [name])
    return by_value(tx, site_num, query, name, *kept.pairs(found, name))


def by_value(
    tx: Tx, site_num: int, query: Query, name: str, roots: Any, codes: Any, keys: dict[int, str]
) -> list[dict[str, Any]]:
    """Breakdown rows from (root, value code) pairs, one per visit's value: distinct pairs by
    sorting, then visitors and their revenue per value."""
    joined = np.sort((codes.astype(np.uint64) << np.uint64(32)) | roots.astype(np.uint64))
    if len(joined):
        joined = joined[np.concatenate(([True], joined[1:] != joined[:-1]))]
    pair_codes = (joined >> np.uint64(32)).astype(np.int64)
    pair_roots = (joined & np.uint64(0xFFFFFFFF)).astype(np.int64)
    visitors = np.bincount(pair_codes) if len(pair_codes) else np.zeros(0, dtype=np.int64)
    payments, _ = load_payments(tx, site_num, query)
    paid = paid_by_root(payments)
    revenue: np.ndarray[Any, Any] = np.zeros(len(visitors))
    if paid and len(pair_roots):
        payer_roots = np.array(sorted(paid), dtype=np.int64)
        amounts = np.array([paid[r] for r in payer_roots.tolist()])
        at = np.minimum(np.searchsorted(payer_roots, pair_roots), len(payer_roots) - 1)
        hit = payer_roots[at] == pair_roots
        revenue = np.bincount(pair_codes[hit], weights=amounts[at[hit]], minlength=len(visitors))
    return ordered(
        [row_of(name, keys[code], int(n), float(revenue[code])) for code, n in enumerate(visitors.tolist()) if n]
    )


def paid_by_root(payments: list[Row]) -> dict[int, float]:
    paid: dict[int, float] = defaultdict(float)
    for p in payments:
        if p["root"] is not None:
            paid[p["root"]] += p["amount"]
    return paid


def row_of(name: str, key_text: str, visitors: int, revenue: float) -> dict[str, Any]:
    """A breakdown row from its key (rollups.VISIT_KEYS), in DataFast's shape."""
    key = json.loads(key_text)
    row: dict[str, Any]
    if name in ("pages", "entry-pages", "exit-pages"):
        row = {"hostname": key[0], "path": key[1]}
    elif name == "campaigns":
        row = {"campaign": dict(zip(CAMPAIGN_KEYS, key, strict=True))}
    elif name == "countries":
        row = {"country": key[0], "image": flag(key[1])}
    else:
        row = {BREAKDOWNS[name][0]: key}
    return row | {"visitors": visitors, "revenue": money(revenue)}


def ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most visitors first, then by the row's key (all of it: a page's hostname and path)."""
    rows.sort(key=lambda r: (-int(r["visitors"]), str([v for k, v in r.items() if k not in ("visitors", "revenue")])))
    return rows


def flag(code: str | None) -> str | None:
    """A country's flag: footfall's own /flags/<code>.svg (the API layer makes it absolute)."""
    return f"/flags/{code.lower()}.svg" if code else None


def goals(tx: Tx, site_num: int, query: Query, found: kept.Kept | None = None) -> list[dict[str, Any]]:
    """Custom events of the visits in range: completions and distinct visitors per goal name, from
    the rollups' visit columns (of the visits the filters keep; `found`: already read with their
    goals). Without filters, the goals waiting for their visit count too (pending_goals.py)."""
    completions, visitors = kept.goals(found or kept.read(tx, site_num, *span(query), query.filters, goals=True))
    if not query.filters:
        for row in pending_goals.totals(tx, site_num, query.start, query.end):
            completions[row["name"]] += row["completions"]
            visitors[row["name"]] += row["visitors"]
    ordered = sorted(completions.items(), key=lambda item: (-item[1], item[0]))
    return [{"goal": g, "completions": n, "visitors": visitors[g]} for g, n in ordered]
