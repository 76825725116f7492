"""Analytics benchmark: 10 million events in the store, DataFast's analytics and visitor reads over HTTP.

    python bench/analytics.py [--events 10000000] [--days 180] [--backends sqlite,postgres] [--seed 5]

The data (seeded, so every run generates the same) is written straight into the store's tables in
bulk, as the collect path would have left them (visitors, sessions with their enrichment, events,
payments): replaying 10 million events through HTTP would take longer than everything measured
here. Its shape:
- `--days` of traffic ending at the server's clock, growing 50% over the span, weekends at 70%,
  a daily curve peaking in the American afternoon;
- visits: 58% of one page, the others 2 pages and more (geometric, at most 30), 10 s to 25 min
  apart; 35% of visits are by a returning visitor (most often a recent one);
- pages from a Zipf law over 400 paths on two hostnames; referrers, countries with their regions
  and cities, browsers, systems and devices with web-like weights; 8% of visits from campaigns;
- goals in 4% of visits, payments in 0.6% (some renewals).

Measured, per store, through a real server on 127.0.0.1 (p50/p95 in ms of `--runs` requests, each
over a range ending on one of the last days): `GET /healthz` (the HTTP floor); 30-day overview and
day-by-day time series, first computed from the raw rows (the baseline: what every request cost
before rollups) and then with the rollups folded; a 30-day breakdown (countries) and goals; two
30-day funnels (4 steps: /, /pricing, /signup, the signup goal; and wildcards); filtered 30-day
reads (overview by referrer, by country and page together, time series by page, breakdowns of
referrers, pages and countries each under a filter, goals by country); the visitor profile
(`GET /api/v1/visitors/{id}`) of random visitors. And how long the first fold of the whole history
took.

Targets (issue F5): 30-day overview and time series p95 <= 300 ms; visitor profile p95 <= 10 ms;
([T5]) funnels p95 < 500 ms; ([T8]) filtered overview, time series and breakdowns p95 <= 200 ms.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import math
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import AppServer, add_site  # noqa: E402

from bench.ingest import drop_database, fresh_database  # noqa: E402
from footfall.clock import ManualClock  # noqa: E402
from footfall.ids import VisitorSigner, request_id, session_id  # noqa: E402
from footfall.rollups import Rollups  # noqa: E402
from footfall.settings import Settings  # noqa: E402
from footfall.store import open_store  # noqa: E402

ZONE = "America/New_York"
DAY_MS = 86_400_000
SECRET = "bench-analytics-secret-0123456789abcdef"
HOSTS = [("example.com", 0.93), ("docs.example.com", 0.07)]
REFERRERS = [  # (referrer url, source, channel, weight)
    (None, None, "Direct", 0.38),
    ("https://www.google.com/", "Google", "Organic Search", 0.30),
    ("https://www.bing.com/", "Bing", "Organic Search", 0.03),
    ("https://duckduckgo.com/", "DuckDuckGo", "Organic Search", 0.02),
    ("https://t.co/", "X", "Organic Social", 0.05),
    ("https://www.linkedin.com/", "LinkedIn", "Organic Social", 0.04),
    ("https://www.reddit.com/", "Reddit", "Organic Social", 0.04),
    ("https://news.ycombinator.com/", "Hacker News", "Referral", 0.03),
    ("https://github.com/", "GitHub", "Referral", 0.04),
    ("https://www.youtube.com/", "YouTube", "Organic Video", 0.02),
    ("https://chatgpt.com/", "ChatGPT", "AI", 0.03),
    ("https://blog.partner.io/", "blog.partner.io", "Referral", 0.02),
]
PLACES = [  # (code, country, region, city, lat, lon, weight)
    ("US", "United States", "California", "San Francisco", 37.77, -122.42, 0.12),
    ("US", "United States", "New York", "New York", 40.71, -74.01, 0.10),
    ("US", "United States", "Texas", "Austin", 30.27, -97.74, 0.06),
    ("US", "United States", "Washington", "Seattle", 47.61, -122.33, 0.05),
    ("GB", "United Kingdom", "England", "London", 51.51, -0.13, 0.08),
    ("DE", "Germany", "Berlin", "Berlin", 52.52, 13.40, 0.06),
    ("DE", "Germany", "Bavaria", "Munich", 48.14, 11.58, 0.03),
    ("FR", "France", "Île-de-France", "Paris", 48.86, 2.35, 0.05),
    ("IN", "India", "Karnataka", "Bengaluru", 12.97, 77.59, 0.07),
    ("IN", "India", "Maharashtra", "Mumbai", 19.08, 72.88, 0.04),
    ("CA", "Canada", "Ontario", "Toronto", 43.65, -79.38, 0.05),
    ("BR", "Brazil", "São Paulo", "São Paulo", -23.55, -46.63, 0.04),
    ("NL", "Netherlands", "North Holland", "Amsterdam", 52.37, 4.90, 0.03),
    ("ES", "Spain", "Madrid", "Madrid", 40.42, -3.70, 0.03),
    ("JP", "Japan", "Tokyo", "Tokyo", 35.68, 139.69, 0.03),
    ("AU", "Australia", "New South Wales", "Sydney", -33.87, 151.21, 0.03),
    ("SE", "Sweden", "Stockholm", "Stockholm", 59.33, 18.07, 0.02),
    ("PL", "Poland", "Mazovia", "Warsaw", 52.23, 21.01, 0.02),
    ("SG", "Singapore", None, "Singapore", 1.29, 103.85, 0.02),
    ("NG", "Nigeria", "Lagos", "Lagos", 6.52, 3.38, 0.02),
    ("MX", "Mexico", "Mexico City", "Mexico City", 19.43, -99.13, 0.02),
    ("KR", "South Korea", "Seoul", "Seoul", 37.57, 126.98, 0.01),
    ("IT", "Italy", "Lombardy", "Milan", 45.46, 9.19, 0.01),
    ("CH", "Switzerland", "Zurich", "Zurich", 47.38, 8.54, 0.01),
]
SYSTEMS = [  # (browser, version, os, os version, device, user agent, weight)
    ("Chrome", "131.0.0.0", "Windows", "10", "desktop", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131", 0.30),
    ("Chrome", "131.0.0.0", "Mac OS", "10.15.7", "desktop", "Mozilla/5.0 (Macintosh) Chrome/131", 0.16),
    ("Safari", "18.1", "Mac OS", "10.15.7", "desktop", "Mozilla/5.0 (Macintosh) Safari/605", 0.07),
    ("Firefox", "133.0", "Windows", "10", "desktop", "Mozilla/5.0 (Windows NT 10.0) Firefox/133.0", 0.05),
    ("Edge", "131.0.0.0", "Windows", "10", "desktop", "Mozilla/5.0 (Windows NT 10.0) Edg/131", 0.05),
    ("Chrome", "131.0.0.0", "Linux", None, "desktop", "Mozilla/5.0 (X11; Linux x86_64) Chrome/131", 0.03),
    ("Mobile Safari", "18.1", "iOS", "18.1", "mobile", "Mozilla/5.0 (iPhone) Mobile Safari/604", 0.18),
    ("Chrome", "131.0.0.0", "Android", "14", "mobile", "Mozilla/5.0 (Linux; Android 14) Mobile Chrome/131", 0.12),
    ("Samsung Internet", "26.0", "Android", "14", "mobile", "Mozilla/5.0 (Linux; Android 14) SamsungBrowser/26", 0.02),
    ("Mobile Safari", "18.1", "iOS", "18.1", "tablet", "Mozilla/5.0 (iPad) Mobile Safari/604", 0.02),
]
CAMPAIGNS = [
    {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "weekly"},
    {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "brand", "utm_term": "footfall"},
    {"utm_source": "linkedin", "utm_medium": "paid_social", "utm_campaign": "launch"},
    {"utm_source": "producthunt", "utm_medium": "referral", "utm_campaign": "launch"},
    {"ref": "partner-io"},
]
GOALS = [("signup", 0.5), ("newsletter", 0.3), ("demo_request", 0.15), ("download", 0.05)]
PRICES = [9.0, 29.0, 99.0, 299.0]


def chooser(items: list[Any], weights: list[float]) -> Callable[[random.Random], Any]:
    cumulative = list(itertools.accumulate(weights))
    total = cumulative[-1]

    def pick(rng: random.Random) -> Any:
        return items[bisect.bisect_right(cumulative, rng.random() * total)]

    return pick


PATHS = ["/", "/pricing", "/features", "/docs", "/blog", "/about", "/signup", "/login", "/changelog", "/contact"] + [
    f"/{section}/{i}" for section in ("blog", "docs", "guides", "integrations") for i in range(1, 98)
]
pick_path = chooser(PATHS, [1 / (rank + 1) ** 1.1 for rank in range(len(PATHS))])  # Zipf
pick_host = chooser([h for h, _ in HOSTS], [w for _, w in HOSTS])
pick_referrer = chooser(REFERRERS, [r[3] for r in REFERRERS])
pick_place = chooser(PLACES, [p[6] for p in PLACES])
pick_system = chooser(SYSTEMS, [s[6] for s in SYSTEMS])
pick_goal = chooser([g for g, _ in GOALS], [w for _, w in GOALS])
HOURLY = [0.3, 0.25, 0.2, 0.2, 0.25, 0.35, 0.5, 0.7, 0.9, 1.0, 1.1, 1.2, 1.3, 1.45, 1.6, 1.7, 1.7, 1.6, 1.4, 1.2]
HOURLY += [1.0, 0.8, 0.6, 0.45]  # UTC hours: Europe's day then America's
pick_hour = chooser(list(range(24)), HOURLY)


@dataclass
class Rows:
    visitors: list[tuple[Any, ...]]
    sessions: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    payments: list[tuple[Any, ...]]


class Generator:
    """Days of traffic, one day of rows at a time."""

    def __init__(self, site_id: str, site_num: int, end_ms: int, days: int, events: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.site_id, self.site_num = site_id, site_num
        self.signer = VisitorSigner(SECRET.encode())
        self.first_day = end_ms - end_ms % DAY_MS - (days - 1) * DAY_MS
        weights = []
        for d in range(days):
            weekday = datetime.fromtimestamp((self.first_day + d * DAY_MS) / 1000, UTC).weekday()
            weights.append((1 + 0.5 * d / max(1, days - 1)) * (0.7 if weekday >= 5 else 1.0))
        # mean events of a visit: 58% one page, else 2 + a geometric number (ratio 0.62); goals in 4%
        per_visit = 0.58 + 0.42 * (2 + 0.62 / (1 - 0.62)) + 0.04
        total_visits = events / per_visit
        self.visits_per_day = [total_visits * w / sum(weights) for w in weights]
        self.end_ms = end_ms
        self.visitors: list[int] = []  # nums, in order of first visit
        self.visitor_ids: list[str] = []
        self.next_visitor = self.next_session = self.next_event = self.next_payment = 1

    def day(self, d: int) -> Rows:
        rng = self.rng
        rows = Rows([], [], [], [])
        n = int(self.visits_per_day[d] * rng.uniform(0.9, 1.1))
        day_start = self.first_day + d * DAY_MS
        starts = sorted(day_start + pick_hour(rng) * 3_600_000 + rng.randrange(3_600_000) for _ in range(n))
        for start in starts:
            if start > self.end_ms - 3_600_000:
                continue  # the last hour stays empty: the server's "now"
            self.visit(rng, rows, start)
        return rows

    def visit(self, rng: random.Random, rows: Rows, start: int) -> None:
        if self.visitors and rng.random() < 0.35:  # returning, most often a recent visitor
            visitor = self.visitors[int(len(self.visitors) * (1 - rng.random() ** 3)) - 1]
        else:
            visitor = self.next_visitor
            self.next_visitor += 1
            vid = self.signer.new(self.site_id, start)  # time-ordered by the first visit
            self.visitors.append(visitor)
            self.visitor_ids.append(vid)
            rows.visitors.append((visitor, vid, self.site_id, start, start))
        pages = 1 if rng.random() < 0.58 else min(30, 2 + int(math.log(1 - rng.random()) / math.log(0.62)))
        host = pick_host(rng)
        ref_url, source, channel, _ = pick_referrer(rng)
        code, country, region, city, lat, lon, _ = pick_place(rng)
        browser, bversion, os_name, os_version, device, agent, _ = pick_system(rng)
        campaign = CAMPAIGNS[rng.randrange(len(CAMPAIGNS))] if rng.random() < 0.08 else {}
        session = self.next_session
        self.next_session += 1
        at, paths, first_event = start, [], len(rows.events)
        for i in range(pages):
            if i:
                at += min(25 * 60_000, 10_000 + int(rng.expovariate(1 / 70_000)))
            path = "/" if i == 0 and rng.random() < 0.3 else pick_path(rng)
            paths.append(path)
            self.event(rows, visitor, session, at, "pageview", None, host, path, ref_url if i == 0 else None, agent)
        if rng.random() < 0.04:
            at += 5_000
            self.event(rows, visitor, session, at, "custom", pick_goal(rng), host, paths[-1], None, agent)
        if rng.random() < 0.006:
            self.payment(rng, rows, visitor, at + 1_000)
        rows.sessions.append(
            (session, session_id(), self.site_num, visitor, start, at, pages, len(rows.events) - first_event,
             paths[0], paths[-1], host, ref_url, source, channel, campaign.get("utm_source"),
             campaign.get("utm_medium"), campaign.get("utm_campaign"), json.dumps(campaign), browser, bversion,
             os_name, os_version, device, code, country, region, city, lat, lon, ZONE)
        )  # fmt: skip

    def event(
        self,
        rows: Rows,
        visitor: int,
        session: int,
        ts: int,
        kind: str,
        name: str | None,
        host: str,
        path: str,
        referrer: str | None,
        agent: str,
    ) -> None:
        rows.events.append(
            (self.next_event, request_id(ts), self.site_num, visitor, session, ts, kind, name,
             f"https://{host}{path}", host, path, referrer, agent)
        )  # fmt: skip
        self.next_event += 1

    def payment(self, rng: random.Random, rows: Rows, visitor: int, ts: int) -> None:
        rows.payments.append(
            (self.next_payment, self.site_num, f"tx_{self.next_payment}", ts, rng.choice(PRICES), "USD", visitor,
             int(rng.random() < 0.3), ts)
        )  # fmt: skip
        self.next_payment += 1


SESSION_COLUMNS = (
    "num, id, site_num, visitor_num, started_at, last_seen, pageviews, events, entry_path, exit_path, hostname, "
    "referrer, referrer_source, channel, utm_source, utm_medium, utm_campaign, params, browser, browser_version, "
    "os, os_version, device_type, country_code, country, region, city, latitude, longitude, geo_timezone"
)
EVENT_COLUMNS = (
    "id, request_id, site_num, visitor_num, session_num, ts, type, name, href, hostname, path, referrer, user_agent"
)
PAYMENT_COLUMNS = "num, site_num, transaction_id, ts, amount, currency, visitor_num, renewal, created_at"
VISITOR_COLUMNS = "num, id, site_id, created_at, first_seen"


class Loader:
    """Bulk inserts for one store: sqlite3 executemany in big transactions, or PostgreSQL COPY."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        if settings.uses_postgres:
            self.pg = psycopg.connect(settings.database_url, autocommit=False)
        else:
            self.lite = sqlite3.connect(settings.data_path / "footfall.db", isolation_level=None)
            self.lite.execute("PRAGMA synchronous=OFF")

    def load(self, rows: Rows) -> None:
        tables = [
            ("visitors", VISITOR_COLUMNS, rows.visitors),
            ("sessions", SESSION_COLUMNS, rows.sessions),
            ("events", EVENT_COLUMNS, rows.events),
            ("payments", PAYMENT_COLUMNS + ", source", [(*p, "api") for p in rows.payments]),
        ]
        if self.settings.uses_postgres:
            with self.pg.cursor() as cur:
                for table, columns, data in tables:
                    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in data:
                            copy.write_row(row)
            self.pg.commit()
        else:
            self.lite.execute("BEGIN")
            for table, columns, data in tables:
                marks = ",".join("?" * len(columns.split(",")))
                self.lite.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", data)
            self.lite.execute("COMMIT")

    def finish(self) -> None:
        if self.settings.uses_postgres:
            with self.pg.cursor() as cur:
                for table in ("visitors", "sessions", "payments"):
                    cur.execute(f"SELECT setval('{table}_num_seq', (SELECT MAX(num) FROM {table}))")
                cur.execute("SELECT setval('events_id_seq', (SELECT MAX(id) FROM events))")
            self.pg.commit()
            self.pg.autocommit = True
            self.pg.execute("VACUUM ANALYZE")
            self.pg.close()
        else:
            self.lite.execute("ANALYZE")
            self.lite.close()


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def ranges(end: date, runs: int) -> Iterator[tuple[str, str]]:
    """30-day ranges ending on each of the last days, round and round."""
    for i in itertools.count():
        last = end - timedelta(days=i % min(runs, 20))
        yield (last - timedelta(days=29)).isoformat(), last.isoformat()


def measure(
    server: AppServer, key: str, visitor_ids: list[str], runs: int, today: date, funnel_runs: int
) -> dict[str, list[float]]:
    http = httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {key}"}, timeout=120)

    def get(path: str, steps: tuple[str, ...] = (), **params: Any) -> Callable[[], Any]:
        def go() -> Any:
            response = http.get(path, params=[*params.items(), *(("step", s) for s in steps)])
            assert response.status_code == 200, response.text
            return response.content

        return go

    def over_ranges(path: str, steps: tuple[str, ...] = (), **params: Any) -> Callable[[], Any]:
        spans = ranges(today - timedelta(days=1), runs)

        def go() -> Any:
            start, end = next(spans)
            return get(path, steps, startAt=start, endAt=end, **params)()

        return go

    results = {
        "healthz (HTTP floor)": timed(get("/healthz"), runs),
        "overview, 30 days": timed(over_ranges("/api/v1/analytics/overview"), runs),
        "timeseries by day, 30 days": timed(over_ranges("/api/v1/analytics/timeseries", interval="day"), runs),
    }
    rng = random.Random(11)
    profiles = iter(rng.choice(visitor_ids) for _ in range(10 * runs + 1))
    results["visitor profile"] = timed(lambda: get(f"/api/v1/visitors/{next(profiles)}")(), 10 * runs)
    results["countries breakdown, 30 days"] = timed(over_ranges("/api/v1/analytics/countries"), max(3, runs // 4))
    results["goals, 30 days"] = timed(over_ranges("/api/v1/analytics/goals"), max(3, runs // 4))
    # filtered reads ([T8]): what a user clicks all day, the whole dashboard following one filter;
    # before the first fold they read every visit and event of the range (a minute): one run then
    n = runs if funnel_runs > 1 else 1
    brk = max(3, runs // 4) if funnel_runs > 1 else 1
    google, gb, pricing = {"filter_referrer": "is:Google"}, {"filter_country": "is:GB"}, {"filter_page": "is:/pricing"}
    results["overview, referrer filter"] = timed(over_ranges("/api/v1/analytics/overview", **google), n)
    results["overview, country + page filters"] = timed(over_ranges("/api/v1/analytics/overview", **gb, **pricing), n)
    results["timeseries by day, page filter"] = timed(
        over_ranges("/api/v1/analytics/timeseries", interval="day", **pricing), n
    )
    results["referrers breakdown, country filter"] = timed(over_ranges("/api/v1/analytics/referrers", **gb), brk)
    results["pages breakdown, referrer filter"] = timed(over_ranges("/api/v1/analytics/pages", **google), brk)
    results["countries breakdown, referrer filter"] = timed(over_ranges("/api/v1/analytics/countries", **google), brk)
    results["goals, country filter"] = timed(over_ranges("/api/v1/analytics/goals", **gb), brk)
    funnel = ("page:/", "page:/pricing", "page:/signup", "goal:signup")
    results["funnel (4 steps), 30 days"] = timed(over_ranges("/api/v1/funnels/analysis", funnel), funnel_runs)
    wildcard = ("page:/blog*", "page:/docs*", "goal:newsletter")
    results["funnel (wildcards), 30 days"] = timed(over_ranges("/api/v1/funnels/analysis", wildcard), funnel_runs)
    http.close()
    return results


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def run_backend(backend: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    # the fold runs when the script says (after the raw baseline), and no rate limit gets in the way
    settings = fresh_database(
        backend, work / backend, secret_key=SECRET, rollup_interval_seconds=0, api_rate_per_minute=10**9
    )
    now = int(datetime.now(UTC).timestamp() * 1000)
    try:
        store = open_store(settings)  # creates the schema
        site, key = add_site(store, "example.com", now, scopes=("analytics:read",), timezone=ZONE)
        site_num = store.read(lambda tx: tx.one("SELECT num FROM sites WHERE id = ?", (site,)))["num"]
        store.close()
        gen = Generator(site, site_num, now, args.days, args.events, args.seed)
        loader = Loader(settings)
        started = time.monotonic()
        counts = [0, 0, 0, 0]
        for d in range(args.days):
            rows = gen.day(d)
            loader.load(rows)
            for i, part in enumerate((rows.visitors, rows.sessions, rows.events, rows.payments)):
                counts[i] += len(part)
        loader.finish()
        loaded = time.monotonic() - started
        print(f"{backend}: {counts[2]:,} events, {counts[1]:,} visits, {counts[0]:,} visitors, "
              f"{counts[3]:,} payments loaded in {loaded:.0f} s", flush=True)  # fmt: skip
        today = datetime.fromtimestamp(now / 1000, ZoneInfo(ZONE)).date()
        with AppServer(settings, ManualClock(now)) as server:
            # before the first fold a funnel reads every event of the range's visits from the rows
            # (about a minute at this size): the baseline is one run
            raw = measure(server, key, gen.visitor_ids, max(3, args.runs // 4), today, 1)
            job: Rollups = server.app.state.rollups
            started = time.monotonic()
            folded = job.fold()
            fold_seconds = time.monotonic() - started
            print(f"{backend}: folded {folded:,} slots in {fold_seconds:.0f} s", flush=True)
            rolled = measure(server, key, gen.visitor_ids, args.runs, today, args.runs)
        return {"raw": raw, "rolled": rolled, "counts": counts, "load_s": loaded, "fold_s": fold_seconds}
    finally:
        drop_database(settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="footfall-bench-") as work:
        for backend in args.backends.split(","):
            results[backend] = run_backend(backend, args, Path(work))
    print("\n| store | read | raw p50 | raw p95 | rollups p50 | rollups p95 | target p95 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    targets = {"overview, 30 days": "300", "timeseries by day, 30 days": "300", "visitor profile": "10"}
    targets |= {"funnel (4 steps), 30 days": "500", "funnel (wildcards), 30 days": "500"}
    targets |= {
        name: "200" for name in next(iter(results.values()))["rolled"] if "filter" in name and "goals" not in name
    }
    for backend, r in results.items():
        for name, values in r["rolled"].items():
            base = r["raw"].get(name, [])
            raw_cells = f"{pct(base, 0.5):.1f} | {pct(base, 0.95):.1f}" if base else "- | -"
            print(
                f"| {backend} | {name} | {raw_cells} | {pct(values, 0.5):.1f} | {pct(values, 0.95):.1f} | "
                f"{targets.get(name, '')} |"
            )
    print("\nraw: computed from the rows on every request (before the first fold); ms over HTTP on 127.0.0.1")
    for backend, r in results.items():
        floor = statistics.median(r["rolled"]["healthz (HTTP floor)"])
        print(
            f"{backend}: load {r['load_s']:.0f} s, first fold of the history {r['fold_s']:.0f} s, floor {floor:.2f} ms"
        )


if __name__ == "__main__":
    main()
