"""DataFast's analytics: random visit streams replayed through collect, every number compared with
a naive computation over what was generated; contract and errors."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.collect import event, post
from tests.support.geo_dbs import LONDON_IP, TOKYO_IP
from tests.support.servers import UA_CHROME_MAC, UA_IPHONE, AppServer

PATHS = ["/", "/pricing", "/docs", "/blog"]
PLACES = [(LONDON_IP, "United Kingdom", "GB"), (TOKYO_IP, "Japan", "JP")]
BROWSERS = [(UA_CHROME_MAC, "Chrome"), (UA_IPHONE, "Mobile Safari")]
REFERRERS = [(None, "Direct/None"), ("https://www.google.com/", "Google")]
DAY = 86_400_000


@dataclass
class Visit:
    visitor: int
    start: int  # ms after the stream's origin
    pages: list[str]
    gaps: list[int]  # ms between page views (< 30 minutes)
    place: int
    browser: int
    referrer: int
    goal: str | None
    paid: float | None

    @property
    def end(self) -> int:
        return self.start + sum(self.gaps)


@dataclass
class Stream:
    visits: list[Visit] = field(default_factory=list)
    fold_at: float = 1.0  # the share of the stream replayed before the rollups are folded


@st.composite
def streams(draw: st.DrawFn) -> Stream:
    """Visitors with 1-3 visits each, at least 40 minutes apart, over three days."""
    stream = Stream()
    for visitor in range(draw(st.integers(1, 5))):
        t = draw(st.integers(0, DAY))
        for _ in range(draw(st.integers(1, 3))):
            n = draw(st.integers(1, 4))
            visit = Visit(
                visitor,
                t,
                [draw(st.sampled_from(PATHS)) for _ in range(n)],
                [0] + [draw(st.integers(1_000, 600_000)) for _ in range(n - 1)],
                draw(st.integers(0, 1)),
                draw(st.integers(0, 1)),
                draw(st.integers(0, 1)),
                draw(st.sampled_from([None, None, "signup", "demo"])),
                draw(st.sampled_from([None, None, 10.0, 25.5])),
            )
            stream.visits.append(visit)
            t = visit.end + draw(st.integers(40 * 60_000, DAY))
    stream.fold_at = draw(st.floats(0, 1))
    return stream


SITES = itertools.count()


def replay(server: AppServer, stream: Stream) -> tuple[str, str, int]:
    """Posts the stream in time order to a new site; answers (site, key, origin ms)."""
    domain = f"site{next(SITES)}.example.com"
    site, key = server.add_site(domain, scopes=("analytics:read", "payments:write"))
    origin = server.clock.now_ms()
    ids: dict[int, str] = {}
    moments = []
    for i, v in enumerate(stream.visits):
        at = v.start
        for j, gap in enumerate(v.gaps):
            at += gap
            moments.append((at, i, j))
    tx_counter = 0
    fold_index = int(stream.fold_at * len(moments))
    for n, (at, i, j) in enumerate(sorted(moments)):
        if n == fold_index:
            server.app.state.rollups.fold()  # the slots over by now count from rollups, the rest raw
        v = stream.visits[i]
        now = server.clock.now_ms()
        if origin + at > now:
            server.clock.advance(ms=origin + at - now)
        ip, _, _ = PLACES[v.place]
        ua, _ = BROWSERS[v.browser]
        body = event(site, f"https://{domain}{v.pages[j]}", referrer=REFERRERS[v.referrer][0] if j == 0 else None)
        if v.visitor in ids:
            body["visitorId"] = ids[v.visitor]
        ids[v.visitor] = post(server.url, body, ip=ip, ua=ua).json()["visitorId"]
        if j == len(v.pages) - 1:
            if v.goal:
                goal = event(
                    site,
                    f"https://{domain}/",
                    type="custom",
                    visitorId=ids[v.visitor],
                    extraData={"eventName": v.goal},
                )
                post(server.url, goal, ip=ip, ua=ua)
            if v.paid:
                tx_counter += 1
                pay = {
                    "amount": v.paid,
                    "currency": "USD",
                    "transaction_id": f"t{tx_counter}",
                    "datafast_visitor_id": ids[v.visitor],
                }
                httpx.post(f"{server.url}/api/v1/payments", json=pay, headers={"authorization": f"Bearer {key}"})
    return site, key, origin


def naive(stream: Stream, keep: Any = lambda v: True) -> dict[str, Any]:
    """The definitions of queries/analytics.py, over the generated visits."""
    visits = [v for v in stream.visits if keep(v)]
    visitors = {v.visitor for v in visits}
    payers = {v.visitor for v in stream.visits if v.paid}  # a payment is the visitor's, whichever visit
    paid = [v.paid for v in stream.visits if v.paid and (v.visitor in visitors)]
    return {
        "visitors": len(visitors),
        "sessions": len(visits),
        "bounce_rate": round(100 * sum(len(v.pages) <= 1 for v in visits) / len(visits), 2) if visits else 0.0,
        "avg_session_duration": round(sum(v.end - v.start for v in visits) / len(visits)) if visits else 0,
        "revenue": round(sum(paid), 2),
        "payments": len(paid),
        "conversion_rate": round(100 * len(payers & visitors) / len(visitors), 2) if visitors else 0.0,
    }


def get(server: AppServer, key: str, path: str, **params: Any) -> Any:
    response = httpx.get(
        f"{server.url}/api/v1/analytics/{path}", params=params, headers={"authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo("UTC")).isoformat(timespec="milliseconds")


def check_counts(server: AppServer, key: str, stream: Stream, origin: int) -> None:
    """Overview and a day-by-day time series in a timezone far from UTC (and one 45 minutes off
    the hour), against the naive computation."""
    overview = get(server, key, "overview")["data"][0]
    assert {k: overview[k] for k in naive(stream)} == naive(stream)
    # a range cut inside 15-minute slots, both ends
    a, b = origin + 433_000, origin + DAY + DAY // 2 + 181_000
    cut = get(server, key, "overview", startAt=iso(a), endAt=iso(b))["data"][0]
    inside = [v for v in stream.visits if a <= origin + v.start <= b]
    assert (cut["visitors"], cut["sessions"]) == (len({v.visitor for v in inside}), len(inside))
    # breakdowns without filters: visitors per country and per page
    countries: dict[str, set[int]] = defaultdict(set)
    pages: dict[str, set[int]] = defaultdict(set)
    for v in stream.visits:
        countries[PLACES[v.place][1]].add(v.visitor)
        for p in v.pages:
            pages[p].add(v.visitor)
    rows = get(server, key, "countries")["data"]
    assert {r["country"]: r["visitors"] for r in rows} == {c: len(s) for c, s in countries.items()}
    rows = get(server, key, "pages")["data"]
    assert {r["path"]: r["visitors"] for r in rows} == {p: len(s) for p, s in pages.items()}
    # entry and exit pages: each visit's first and last page view
    for name, at in (("entry-pages", 0), ("exit-pages", -1)):
        ends: dict[str, set[int]] = defaultdict(set)
        for v in stream.visits:
            ends[v.pages[at]].add(v.visitor)
        rows = get(server, key, name)["data"]
        assert {r["path"]: r["visitors"] for r in rows} == {p: len(s) for p, s in ends.items()}, name
    for zone in (ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Kathmandu")):
        first = datetime.fromtimestamp(origin / 1000, zone).date()
        last = first + timedelta(days=4)
        days = {"startAt": first.isoformat(), "endAt": last.isoformat()}
        series = get(server, key, "timeseries", interval="day", timezone=str(zone), **days)
        per_day: dict[str, list[Visit]] = defaultdict(list)
        for v in stream.visits:
            per_day[datetime.fromtimestamp((origin + v.start) / 1000, zone).date().isoformat()].append(v)
        got_days = {row["timestamp"][:10]: (row["visitors"], row["sessions"]) for row in series["data"]}
        assert len(got_days) == 5
        for day, (visitors, sessions) in got_days.items():
            expected = per_day.get(day, [])
            assert (visitors, sessions) == (len({v.visitor for v in expected}), len(expected)), (zone, day)
        assert series["totals"]["sessions"] == len(stream.visits)
        assert series["totals"]["visitors"] == len({v.visitor for v in stream.visits})


def check_filters(server: AppServer, key: str, stream: Stream, origin: int) -> None:
    """Filtered overview, time series, breakdowns and goals against the naive computation: part of
    the visits from the rollups' visit columns, the rest from the rows, as the fold left them."""
    # filters: a country, a browser excluded, a page
    cases = [
        ({"filter_country": "is:GB"}, lambda v: PLACES[v.place][2] == "GB"),
        ({"filter_browser": "is_not:Chrome"}, lambda v: BROWSERS[v.browser][1] != "Chrome"),
        ({"filter_page": "is:/pricing"}, lambda v: "/pricing" in v.pages),
        ({"filter_referrer": "contains:goo"}, lambda v: REFERRERS[v.referrer][1] == "Google"),
        ({"filter_entry_page": "is:/pricing"}, lambda v: v.pages[0] == "/pricing"),
        ({"filter_exit_page": "is_not:/"}, lambda v: v.pages[-1] != "/"),
        (
            {"filter_country": "is:GB,JP", "filter_page": "contains:pric"},
            lambda v: PLACES[v.place][2] in ("GB", "JP") and "/pricing" in v.pages,
        ),
        ({"filter_page": "is_not:/pricing"}, lambda v: "/pricing" not in v.pages),
    ]
    for params, keep in cases:
        got = get(server, key, "overview", **params)["data"][0]
        assert {k: got[k] for k in naive(stream, keep)} == naive(stream, keep), params
    # a breakdown with its revenue, counted by the store (no filter) and over loaded visits (a filter)
    paid_by: dict[int, float] = defaultdict(float)
    for v in stream.visits:
        paid_by[v.visitor] += v.paid or 0.0
    for params, keep in [({}, lambda v: True), ({"filter_country": "is:JP"}, lambda v: PLACES[v.place][2] == "JP")]:
        browsers: dict[str, set[int]] = defaultdict(set)
        for v in filter(keep, stream.visits):
            browsers[BROWSERS[v.browser][1]].add(v.visitor)
        expected = sorted(
            (
                {"browser": b, "visitors": len(s), "revenue": round(sum(paid_by[x] for x in s), 2)}
                for b, s in browsers.items()
            ),
            key=lambda r: (-r["visitors"], r["browser"]),
        )
        assert get(server, key, "browsers", **params)["data"] == expected, params
    gb_goals: dict[str, list[int]] = defaultdict(list)
    for v in stream.visits:
        if v.goal and PLACES[v.place][2] == "GB":
            gb_goals[v.goal].append(v.visitor)
    rows = get(server, key, "goals", filter_country="is:GB")["data"]
    assert {r["goal"]: (r["completions"], r["visitors"]) for r in rows} == {
        g: (len(vs), len(set(vs))) for g, vs in gb_goals.items()
    }

    # a filtered day-by-day series, and filtered breakdowns of pages and countries
    def keep(v: Visit) -> bool:
        return BROWSERS[v.browser][1] != "Chrome"

    zone = ZoneInfo("America/Los_Angeles")
    first = datetime.fromtimestamp(origin / 1000, zone).date()
    days = {"startAt": first.isoformat(), "endAt": (first + timedelta(days=4)).isoformat()}
    series = get(server, key, "timeseries", interval="day", timezone=str(zone), filter_browser="is_not:Chrome", **days)
    per_day: dict[str, list[Visit]] = defaultdict(list)
    for v in filter(keep, stream.visits):
        per_day[datetime.fromtimestamp((origin + v.start) / 1000, zone).date().isoformat()].append(v)
    for row in series["data"]:
        expected = per_day.get(row["timestamp"][:10], [])
        assert (row["visitors"], row["sessions"]) == (len({v.visitor for v in expected}), len(expected))
    pages: dict[str, set[int]] = defaultdict(set)
    countries: dict[str, set[int]] = defaultdict(set)
    for v in filter(keep, stream.visits):
        countries[PLACES[v.place][1]].add(v.visitor)
        for p in v.pages:
            pages[p].add(v.visitor)
    rows = get(server, key, "pages", filter_browser="is_not:Chrome")["data"]
    assert {r["path"]: r["visitors"] for r in rows} == {p: len(s) for p, s in pages.items()}
    rows = get(server, key, "countries", filter_browser="is_not:Chrome")["data"]
    assert {r["country"]: r["visitors"] for r in rows} == {c: len(s) for c, s in countries.items()}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=streams())
def test_every_number_matches_a_naive_computation(server: AppServer, stream: Stream) -> None:
    site, key, origin = replay(server, stream)
    check_counts(server, key, stream, origin)  # folded part-way through the replay
    check_filters(server, key, stream, origin)
    server.clock.advance(ms=DAY)
    server.app.state.rollups.fold()
    check_counts(server, key, stream, origin)  # all folded
    check_filters(server, key, stream, origin)
    goals: dict[str, list[int]] = defaultdict(list)
    for v in stream.visits:
        if v.goal:
            goals[v.goal].append(v.visitor)
    rows = get(server, key, "goals")["data"]
    assert {r["goal"]: (r["completions"], r["visitors"]) for r in rows} == {
        g: (len(vs), len(set(vs))) for g, vs in goals.items()
    }


@pytest.fixture
def site(server: AppServer) -> tuple[str, str]:
    return server.add_site("example.com", scopes=("analytics:read",))


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("overview", {"startAt": "2026-01-01"}, 400, "together"),
        ("overview", {"fields": "visitors,nonsense"}, 400, "unknown fields"),
        ("overview", {"filter_colour": "is:red"}, 400, "unknown dimension"),
        ("overview", {"filter_country": "equals:GB"}, 400, "is:, is_not: or contains:"),
        ("overview", {"timezone": "Nowhere/City"}, 400, "timezone"),
        ("pages", {"limit": "1001"}, 400, "limit"),
        ("timeseries", {}, 400, "interval"),
        ("timeseries", {"interval": "fortnight"}, 400, "interval"),
        ("metadata", {"fields": "logo2"}, 400, "unknown fields"),
        ("nosuch", {}, 404, "nosuch"),
    ],
)
def test_errors(
    server: AppServer, site: tuple[str, str], path: str, params: dict[str, str], status: int, words: str
) -> None:
    _, key = site
    response = httpx.get(
        f"{server.url}/api/v1/analytics/{path}", params=params, headers={"authorization": f"Bearer {key}"}
    )
    assert response.status_code == status and words in response.json()["error"]["message"]


def test_realtime_metadata_and_pagination(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    for path in ("/a", "/b", "/c"):
        post(server.url, event(site_id, f"https://example.com{path}"))
    assert get(server, key, "realtime")["data"] == [{"visitors": 3}]
    server.clock.advance(minutes=6)
    assert get(server, key, "realtime")["data"] == [{"visitors": 0}]
    page = get(server, key, "pages", limit=2, offset=1)
    assert len(page["data"]) == 2 and page["pagination"] == {"limit": 2, "offset": 1, "total": 3}
    meta = get(server, key, "metadata", fields="domain,currency")["data"]
    assert meta == [{"domain": "example.com", "currency": "USD"}]
    same_day = datetime.fromtimestamp(server.clock.now_ms() / 1000, ZoneInfo("UTC")).date().isoformat()
    series = get(server, key, "timeseries", interval="day", startAt=same_day, endAt=same_day)
    assert series["interval"] == "hour" and len(series["data"]) == 24  # a single day, by the hour
    assert sum(r["sessions"] for r in series["data"]) == 3


def test_realtime_map(server: AppServer) -> None:
    """Who is on the site in the last 10 minutes: each visitor with its place, system, page, visits,
    customer and profile; the recent events and payments. Nothing made up for the anonymous."""
    site_id, key = server.add_site("map.example.com", scopes=("analytics:read", "payments:write", "identify:write"))
    headers = {"authorization": f"Bearer {key}"}
    gone = post(server.url, event(site_id, "https://map.example.com/old")).json()["visitorId"]
    returning = post(server.url, event(site_id, "https://map.example.com/")).json()["visitorId"]
    server.clock.advance(minutes=40)  # `gone` is over; `returning` comes back for a second visit
    body = event(site_id, "https://map.example.com/docs?utm_source=news", visitorId=returning)
    post(server.url, body, ip=TOKYO_IP, ua=UA_IPHONE)
    goal = event(site_id, "https://map.example.com/docs", type="custom", visitorId=returning)
    post(server.url, goal | {"extraData": {"eventName": "signup"}}, ip=TOKYO_IP, ua=UA_IPHONE)
    server.clock.advance(seconds=30)
    buyer = post(server.url, event(site_id, "https://map.example.com/pricing", referrer="https://www.google.com/"))
    buyer_id = buyer.json()["visitorId"]
    identify = {"user_id": "u-1", "name": "Ada Lovelace", "email": "ada@example.org", "datafast_visitor_id": buyer_id}
    assert httpx.post(f"{server.url}/api/v1/identify", json=identify, headers=headers).status_code == 200
    payment = {"amount": 49, "currency": "EUR", "transaction_id": "t-1", "datafast_visitor_id": buyer_id}
    payment |= {"email": "ada@example.org", "name": "Ada L."}
    assert httpx.post(f"{server.url}/api/v1/payments", json=payment, headers=headers).status_code == 200

    data = get(server, key, "realtime/map")["data"]
    assert data["count"] == 2 and {v["visitorId"] for v in data["visitors"]} == {returning, buyer_id}
    assert gone not in {v["visitorId"] for v in data["visitors"]}
    by_id = {v["visitorId"]: v for v in data["visitors"]}
    anon = by_id[returning]
    assert (
        anon["location"] == {"city": "Tokyo", "region": None, "countryCode": "JP"}
        or anon["location"]["countryCode"] == "JP"
    )
    assert anon["system"] == {"browser": {"name": "Mobile Safari"}, "os": {"name": "iOS"}, "device": {"type": "mobile"}}
    assert anon["currentUrl"] == "https://map.example.com/docs?utm_source=news"
    assert anon["visitCount"] == 2 and anon["params"] == {"utm_source": "news"}
    assert anon["isCustomer"] is False and anon["customerName"] is None
    assert anon["profileData"] == {"displayName": None, "userId": None, "hasProfile": False, "isRandomName": False}
    assert anon["conversionLikelihood"] is None and data["hasConversionPredictions"] is False
    known = by_id[buyer_id]
    assert known["referrer"] == "https://www.google.com/" and known["visitCount"] == 1
    assert (known["isCustomer"], known["customerName"], known["customerEmail"]) == (True, "Ada L.", "ada@example.org")
    assert known["profileData"] == {
        "displayName": "Ada Lovelace",
        "userId": "u-1",
        "hasProfile": True,
        "isRandomName": False,
    }
    kinds = [(e["type"], e["visitorId"], e["path"]) for e in data["recentEvents"]]
    assert kinds == [
        ("pageview", buyer_id, "/pricing"),
        ("custom", returning, "/docs"),
        ("pageview", returning, "/docs"),
    ]
    signup = data["recentEvents"][1]
    assert signup["extraData"] == {"eventName": "signup"} and signup["countryCode"] == "JP"
    assert data["recentEvents"][0]["displayName"] == "Ada Lovelace"
    [paid] = data["recentPayments"]
    assert paid["_id"] == "t-1" and paid["type"] == "payment_received" and paid["amount"] == 49
    assert (paid["currency"], paid["renewal"], paid["isNew"], paid["visible"]) == ("EUR", False, True, True)
    assert paid["displayName"] == "Ada Lovelace" and paid["email"] == "ada@example.org"
    server.clock.advance(minutes=11)
    assert get(server, key, "realtime/map")["data"]["count"] == 0


def test_countries_have_a_flag_served_here(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    post(server.url, event(site_id, "https://example.com/"), ip=LONDON_IP)
    post(server.url, event(site_id, "https://example.com/"), ip=TOKYO_IP)
    for params in ({}, {"filter_page": "is:/"}):  # counted by the store, and over loaded visits
        rows = get(server, key, "countries", **params)["data"]
        assert {r["country"]: r["image"] for r in rows} == {
            "United Kingdom": f"{server.url}/flags/gb.svg",
            "Japan": f"{server.url}/flags/jp.svg",
        }, params
    svg = httpx.get(f"{server.url}/flags/gb.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert "\U0001f1ec\U0001f1e7" in svg.text  # the regional indicators G and B
    assert httpx.get(f"{server.url}/flags/gbr.svg").status_code == 404
