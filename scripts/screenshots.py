"""The README's screenshots, from a demo shop that looks like a real one: 60 days of traffic
(about 15,000 visits by 9,000 visitors, generated as bench/analytics.py generates its 10 million
events), twenty people who signed in, a few visitors on the site now, lead scores trained on the
shop's sign-ups, and a saved funnel. Then real Chromium logs in and shoots the pages into
docs/screenshots/ (desktop 1280 px, the person at phone width 390 px).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Everything is made up here: no data of ../shared is used.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import ViewportSize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.analytics import SECRET, ZONE, Generator, Loader  # noqa: E402
from bench.ingest import fresh_database  # noqa: E402
from tests.support.browser import chromium  # noqa: E402
from tests.support.servers import UA_CHROME_MAC, UA_IPHONE, AppServer, add_site  # noqa: E402

from footfall import accounts  # noqa: E402
from footfall.clock import ManualClock  # noqa: E402
from footfall.dashboard import users  # noqa: E402
from footfall.scoring.scorer import Scoring  # noqa: E402
from footfall.store import open_store  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
EMAIL, PASSWORD = "owner@shop.example.com", "correct horse battery staple"
PEOPLE = [  # made-up people at made-up companies
    ("Ada Lovelace", "Analytical Engines", "Head of Data"),
    ("Grace Hopper", "Compiler Works", "VP Engineering"),
    ("Alan Turing", "Bletchley Labs", "Research Lead"),
    ("Katherine Johnson", "Orbit Analytics", "CTO"),
    ("Edsger Dijkstra", "Shortest Path BV", "Founder"),
    ("Barbara Liskov", "Substitution Inc", "Product Manager"),
    ("Donald Knuth", "Literate Press", "Editor"),
    ("Hedy Lamarr", "Spread Spectrum Co", "Head of Growth"),
    ("Claude Shannon", "Entropy Systems", "Data Scientist"),
    ("Frances Allen", "Optimizing Co", "Director of IT"),
    ("John McCarthy", "Lambda Labs", "Engineer"),
    ("Radia Perlman", "Spanning Tree Networks", "Architect"),
    ("Tim Berners-Lee", "Hypertext Corp", "CEO"),
    ("Margaret Hamilton", "Apollo Software", "Head of Quality"),
    ("Ken Thompson", "Pipe and Filter", "Staff Engineer"),
    ("Lynn Conway", "VLSI Design Co", "VP Product"),
    ("Dennis Ritchie", "C Works", "Engineering Manager"),
    ("Shafi Goldwasser", "Zero Knowledge Ltd", "Founder"),
    ("Leslie Lamport", "Paxos Systems", "Principal Engineer"),
    ("Adele Goldberg", "Smalltalk Studio", "COO"),
]
LIVE_AGENTS = [
    UA_CHROME_MAC,
    UA_IPHONE,
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 "
    "Edg/131.0.0.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Mobile Safari/537.36",
]


def slug(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def build(server: AppServer, site: str, key: str, visitor_ids: list[str], rng: random.Random) -> None:
    """People who signed in, visitors on the site now, the scores, a funnel."""
    api = httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {key}"}, timeout=60)
    named = rng.sample(visitor_ids[-2000:], len(PEOPLE))  # recent visitors
    for i, (visitor, (name, company, title)) in enumerate(zip(named, PEOPLE, strict=True)):
        first, last = name.split(" ", 1)
        email = f"{slug(first)}.{slug(last)}@{slug(company)}.com"
        body = {"user_id": f"u-{1000 + i}", "datafast_visitor_id": visitor, "email": email, "name": name}
        assert api.post("/api/v1/identify", json=body | {"title": title, "company": company}).status_code == 200
    for n in range(9):  # on the site now: some known, some not
        ua = LIVE_AGENTS[n % len(LIVE_AGENTS)]
        path = rng.choice(["/", "/pricing", "/docs", "/blog/3", "/signup", "/integrations/12"])
        event = {"websiteId": site, "type": "pageview", "href": f"https://example.com{path}"}
        if n < 3:
            event["visitorId"] = named[n]
        answer = httpx.post(f"{server.url}/api/events", json=event, headers={"user-agent": ua})
        assert answer.status_code == 202, answer.text
        server.clock.advance(seconds=rng.randint(10, 40))
    server.app.state.rollups.fold()
    num = server.store.read(lambda tx: tx.one("SELECT num FROM sites WHERE id = ?", (site,)))["num"]
    print(Scoring(server.store, server.clock).site(num, ["signup"], retrain=True), flush=True)
    steps = ["page:/", "page:/pricing", "goal:signup"]
    assert api.post("/api/v1/funnels", json={"name": "Home to pricing to sign-up", "steps": steps}).status_code == 201


def shoot(server: AppServer, site: str, out: Path) -> None:
    funnel = server.store.read(lambda tx: tx.one("SELECT id FROM funnels"))["id"]
    longest = server.store.read(  # the identified visitor with the longest journey, and their person
        lambda tx: tx.one(
            "SELECT v.id, p.id AS person FROM visitors v JOIN sessions s ON s.visitor_num = v.num "
            "JOIN people p ON p.num = v.person_num GROUP BY v.id, p.id ORDER BY SUM(s.pageviews) DESC, v.id LIMIT 1"
        )
    )
    visitor, person = longest["id"], longest["person"]
    shots = [
        ("overview-desktop", f"/sites/{site}/?period=30d", DESKTOP),
        ("realtime-desktop", f"/sites/{site}/realtime", DESKTOP),
        ("person-phone", f"/sites/{site}/people/{person}", PHONE),
        ("funnel-desktop", f"/sites/{site}/funnels/{funnel}?period=30d", DESKTOP),
        ("visitor-desktop", f"/sites/{site}/visitors/{visitor}", DESKTOP),
    ]
    with chromium(CHROMIUM) as browser:
        ctx = browser.new_context()
        tab = ctx.new_page()
        tab.goto(server.url + "/login")
        tab.fill("#email", EMAIL)
        tab.fill("#password", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(lambda url: "/sites/" in url)
        for name, path, size in shots:
            tab.set_viewport_size(size)
            tab.goto(server.url + path)
            tab.screenshot(path=str(out / f"{name}.png"), full_page=name != "overview-desktop")
            print(f"wrote {out / name}.png", flush=True)
        ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="footfall-shots-") as tmp:
        settings = fresh_database("sqlite", Path(tmp), secret_key=SECRET, rollup_interval_seconds=0)
        now = int(time.time() * 1000)
        store = open_store(settings)
        scopes = ("analytics:read", "identify:write", "funnels:write")
        site, key = add_site(store, "example.com", now, scopes=scopes, timezone=ZONE)
        store.write(lambda tx: accounts.update_site_settings(tx, site, {"conversion_goals": ["signup"]}))

        def owner(tx: object) -> None:
            account = accounts.ensure_account(tx, "test", now)[0]  # type: ignore[arg-type]
            users.add_user(tx, account["id"], EMAIL, PASSWORD, now)  # type: ignore[arg-type]

        store.write(owner)
        num = store.read(lambda tx: tx.one("SELECT num FROM sites WHERE id = ?", (site,)))["num"]
        store.close()
        gen = Generator(site, num, now, 60, 32_000, seed=5)  # 60 days: the overview compares 30 with 30
        loader = Loader(settings)
        for d in range(60):
            loader.load(gen.day(d))
        loader.finish()
        with AppServer(settings, ManualClock(now - 600_000)) as server:
            build(server, site, key, gen.visitor_ids, rng)
            shoot(server, site, args.out)


if __name__ == "__main__":
    main()
