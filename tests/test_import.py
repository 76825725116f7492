"""History ([T3]): events with their own time from a backend's keyed batch, and `footfall import`
of footfall's own formats, a web server's access log and Umami's export, on both stores. The
analytics over the imported period are checked against what each test made."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from footfall import accounts
from footfall.enrich.networks import HostingNetworks
from footfall.ids import LinkSigner
from footfall.importing.runner import Importer, Report
from footfall.ingest.writer import EventWriter
from footfall.rollups import Rollups
from tests.support.collect import event
from tests.support.geo_dbs import LONDON_IP, TOKYO_IP
from tests.support.servers import UA_CHROME_MAC, UA_IPHONE, AppServer

DAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday, months before the tests' clock
MINUTE = 60_000


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def key_with(server: AppServer, site: str | None, *scopes: str) -> str:
    def go(tx: Any) -> str:
        account = accounts.first_account(tx)
        return accounts.create_key(tx, account["id"], list(scopes), server.clock.now_ms(), site_id=site)[0]

    return server.store.write(go)


def send(server: AppServer, key: str | None, events: list[dict[str, Any]]) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{server.url}/api/events/batch", json=events, headers=headers, timeout=30)


def sessions(server: AppServer, site: str) -> list[dict[str, Any]]:
    return server.store.read(
        lambda tx: tx.all(
            "SELECT s.started_at, s.last_seen, s.pageviews, s.events, s.entry_path, s.exit_path, v.client_key "
            "FROM sessions s JOIN visitors v ON v.num = s.visitor_num JOIN sites st ON st.num = s.site_num "
            "WHERE st.id = ? ORDER BY v.client_key, s.started_at",
            (site,),
        )
    )


def analytics(server: AppServer, key: str, path: str, **params: Any) -> Any:
    answer = httpx.get(f"{server.url}/api/v1/analytics/{path}", params=params,
                       headers={"authorization": f"Bearer {key}"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_backend_sends_history_with_its_own_time(server: AppServer) -> None:
    site, reader = server.add_site("shop.example.com")
    key = key_with(server, site, "events:import")
    base = ms(DAY.replace(hour=9))
    visit = [
        event(site, "https://shop.example.com/", timestamp=base, visitorId="crm-1", ip=LONDON_IP,
              userAgent=UA_CHROME_MAC, referrer="https://www.google.com/"),
        event(site, "https://shop.example.com/pricing", timestamp=base + 5 * MINUTE, visitorId="crm-1", ip=LONDON_IP,
              userAgent=UA_CHROME_MAC),
        event(site, "https://shop.example.com/", timestamp=base + 3 * 60 * MINUTE, visitorId="crm-1", ip=LONDON_IP,
              userAgent=UA_CHROME_MAC),  # three hours later: a second visit
        event(site, "https://shop.example.com/", timestamp=(DAY + timedelta(days=1)).isoformat(), visitorId="crm-2",
              ip=TOKYO_IP, userAgent=UA_IPHONE),
    ]  # fmt: skip
    answer = send(server, key, visit)
    assert answer.status_code == 202 and answer.json()["accepted"] == 4, answer.text
    # a late event: before the first visit's first page, within its idle time, it joins that visit
    late = event(site, "https://shop.example.com/blog", timestamp=base - 10 * MINUTE, visitorId="crm-1",
                 ip=LONDON_IP, userAgent=UA_CHROME_MAC)  # fmt: skip
    assert send(server, key, [late]).status_code == 202
    rows = sessions(server, site)
    got = [(r["client_key"], r["pageviews"], r["started_at"] - base, r["entry_path"], r["exit_path"]) for r in rows]
    assert got == [
        ("crm-1", 3, -10 * MINUTE, "/blog", "/pricing"),
        ("crm-1", 1, 180 * MINUTE, "/", "/"),
        ("crm-2", 1, 24 * 60 * MINUTE - 9 * 60 * MINUTE, "/", "/"),
    ]  # fmt: skip
    first = server.store.read(lambda tx: tx.one("SELECT first_seen FROM visitors WHERE client_key = 'crm-1'"))
    assert first["first_seen"] == base - 10 * MINUTE
    day = DAY.date().isoformat()
    series = analytics(server, reader, "timeseries", interval="day", startAt=day,
                       endAt=(DAY + timedelta(days=1)).date().isoformat(), fields="visitors,sessions")  # fmt: skip
    assert [(r["visitors"], r["sessions"]) for r in series["data"]] == [(1, 2), (1, 1)]
    countries = analytics(server, reader, "countries", startAt=day, endAt=(DAY + timedelta(days=1)).date().isoformat())
    assert {r["country"]: r["visitors"] for r in countries["data"]} == {"United Kingdom": 1, "Japan": 1}


def test_history_is_refused_without_the_right_key_or_time(server: AppServer) -> None:
    site, _ = server.add_site("shop.example.com")
    other, _ = server.add_site("other.example.com")
    then = ms(DAY)
    past = [event(site, "https://shop.example.com/", timestamp=then)]
    unkeyed = send(server, None, past)
    assert unkeyed.status_code == 400 and "events:import" in unkeyed.json()["error"]["message"]
    assert send(server, key_with(server, site, "analytics:read"), past).status_code == 403
    assert send(server, key_with(server, other, "events:import"), past).status_code == 403  # another site's key
    assert send(server, "ff_" + "x" * 40, past).status_code == 401
    key = key_with(server, None, "events:import")  # an account key reaches every site of the account
    future = [event(site, "https://shop.example.com/", timestamp=server.clock.now_ms() + 3_600_000)]
    refused = send(server, key, future)
    assert refused.status_code == 400 and "events[0].timestamp: in the future" in refused.json()["error"]["message"]
    bad = send(server, key, [event(site, "https://shop.example.com/", timestamp="last tuesday")])
    assert bad.status_code == 400 and "events[0].timestamp" in bad.json()["error"]["message"]
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"retention_days": 30}))
    server.app.state.collector.sites.forget(site)
    old = send(server, key, past)
    assert old.status_code == 400 and "retention (30 days)" in old.json()["error"]["message"]
    assert sessions(server, site) == []  # nothing of a refused batch is stored


def test_history_reaching_folded_rollups_is_counted(server: AppServer) -> None:
    """The fold has stored the day's slots; history then lands in them and they are folded again."""
    site, reader = server.add_site("shop.example.com")
    key = key_with(server, site, "events:import")
    day = DAY.date().isoformat()
    first = [event(site, "https://shop.example.com/", timestamp=ms(DAY.replace(hour=10)), visitorId="a")]
    assert send(server, key, first).status_code == 202
    rollups = Rollups(server.store, server.clock, 30 * MINUTE)
    assert rollups.fold() > 0
    assert analytics(server, reader, "overview", startAt=day, endAt=day)["data"][0]["visitors"] == 1
    more = [event(site, "https://shop.example.com/", timestamp=ms(DAY.replace(hour=10, minute=5)), visitorId="b")]
    assert send(server, key, more).status_code == 202
    assert analytics(server, reader, "overview", startAt=day, endAt=day)["data"][0]["visitors"] == 2
    rollups.fold()
    assert analytics(server, reader, "overview", startAt=day, endAt=day)["data"][0]["visitors"] == 2


def importer(server: AppServer, batch: int = 2_000, reader_process: bool | None = None) -> Importer:
    c = server.app.state.components
    hosting = HostingNetworks()
    writer = EventWriter(c.signer, LinkSigner(c.secret), 30 * MINUTE, 30 * 86_400_000, hosting)
    return Importer(server.store, writer, c.geo, server.clock, hosting, batch=batch, reader_process=reader_process)


def log_line(
    ip: str, moment: datetime, request: str, status: int, referrer: str = "-", agent: str = UA_CHROME_MAC
) -> str:
    stamp = moment.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'{ip} - - [{stamp}] "{request} HTTP/1.1" {status} 512 "{referrer}" "{agent}"'


BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def access_log(tmp_path: Path) -> Path:
    """A day of nginx's combined log with known answers: two people, a crawler, assets, errors."""
    t = DAY.replace(hour=8)
    lines = [
        log_line(LONDON_IP, t, "GET /", 200, "https://www.google.com/"),
        log_line(LONDON_IP, t + timedelta(seconds=1), "GET /static/app.css", 200),
        log_line(LONDON_IP, t + timedelta(seconds=2), "GET /favicon.ico", 200),
        log_line(LONDON_IP, t + timedelta(minutes=2), "GET /pricing?plan=pro", 200, "https://shop.example.com/"),
        log_line(LONDON_IP, t + timedelta(minutes=3), "POST /signup", 302),
        log_line(LONDON_IP, t + timedelta(minutes=4), "GET /missing", 404),
        log_line(TOKYO_IP, t + timedelta(hours=1), "GET /blog/hello", 200, "https://news.ycombinator.com/", UA_IPHONE),
        log_line(TOKYO_IP, t + timedelta(hours=3), "GET /", 304, "-", UA_IPHONE),  # a second visit
        log_line("66.249.66.1", t + timedelta(hours=2), "GET /", 200, "-", BOT),
        "this is not a log line",
        log_line(LONDON_IP, t + timedelta(days=1), "GET /docs", 200),  # the next day
    ]
    path = tmp_path / "access.log.gz"
    with gzip.open(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    return path


def test_an_access_log_is_imported_with_known_answers(server: AppServer, tmp_path: Path) -> None:
    site, reader = server.add_site("shop.example.com")
    report = importer(server, reader_process=True).run(access_log(tmp_path), site, "log")  # as big files are
    assert report.imported == 5 and report.lines == 11
    assert dict(report.skipped) == {"not a page view": 4, "malformed": 1, "filtered: bot": 1}
    assert report.problems[0] == (2, "not a page view: a static file or a robots' path")
    day, next_day = DAY.date().isoformat(), (DAY + timedelta(days=1)).date().isoformat()
    [overview] = analytics(server, reader, "overview", startAt=day, endAt=day)["data"]
    assert (overview["visitors"], overview["sessions"]) == (2, 3)
    series = analytics(server, reader, "timeseries", interval="day", startAt=day, endAt=next_day, fields="visitors")
    assert [r["visitors"] for r in series["data"]] == [2, 1]
    pages = {r["path"]: r["visitors"] for r in analytics(server, reader, "pages", startAt=day, endAt=day)["data"]}
    assert pages == {"/": 2, "/pricing": 1, "/blog/hello": 1}
    referrers = {
        r["referrer"]: r["visitors"] for r in analytics(server, reader, "referrers", startAt=day, endAt=day)["data"]
    }
    assert referrers == {"Google": 1, "Hacker News": 1, "Direct/None": 1}
    countries = {r["country"] for r in analytics(server, reader, "countries", startAt=day, endAt=day)["data"]}
    assert countries == {"United Kingdom", "Japan"}
    before = sessions(server, site)
    assert len(before) == 4
    again = importer(server).run(access_log(tmp_path), site, "log")  # the same lines, gzipped anew
    assert again.already and sessions(server, site) == before


class Killed(Exception):
    pass


def test_an_import_killed_half_way_resumes_without_loss_or_doubles(server: AppServer, tmp_path: Path) -> None:
    site, _ = server.add_site("shop.example.com")
    path = tmp_path / "events.jsonl"
    start = ms(DAY)
    with path.open("w") as f:
        for i in range(100):
            row = {
                "timestamp": start + i * 7 * MINUTE,
                "visitorId": f"v{i % 5}",
                "href": f"https://shop.example.com/p{i}",
            }
            f.write(json.dumps(row) + "\n")
        f.write("{broken\n")
    calls = []

    def die_after_two(n: int) -> None:
        calls.append(n)
        if len(calls) == 2:
            raise Killed

    with pytest.raises(Killed):
        importer(server, batch=30).run(path, site, "jsonl", die_after_two)
    done = server.store.read(lambda tx: tx.one("SELECT lines_done, imported FROM imports"))
    # the batch queued behind the one being written when it died may have been committed too
    assert done["lines_done"] in (60, 90) and done["imported"] == done["lines_done"]
    report: Report = importer(server, batch=30).run(path, site, "jsonl")
    assert report.resumed_at == done["lines_done"] and report.imported == 100
    assert dict(report.skipped) == {"malformed": 1}
    stored = server.store.read(lambda tx: tx.one("SELECT COUNT(*) AS n, COUNT(DISTINCT href) AS d FROM events"))
    assert (stored["n"], stored["d"]) == (100, 100)
    # every visitor comes every 35 minutes: more than the idle time, so each page view is a visit
    assert len(sessions(server, site)) == 100


UMAMI_HEADER = (
    "website_id,session_id,visit_id,event_id,hostname,browser,os,device,screen,language,country,subdivision1,"
    "subdivision2,city,url_path,url_query,utm_source,utm_medium,utm_campaign,utm_content,utm_term,referrer_path,"
    "referrer_query,referrer_domain,page_title,gclid,fbclid,msclkid,ttclid,li_fat_id,twclid,event_type,event_name,"
    "tag,distinct_id,created_at,job_id"
)


def umami_row(session: str, at: str, path: str, **cells: str) -> str:
    values = dict.fromkeys(UMAMI_HEADER.split(","), "")
    values |= {"website_id": "3d9f0e1c-0000-4000-8000-000000000001", "session_id": session, "visit_id": session + "-v",
               "event_id": f"{session}-{at}", "hostname": "shop.example.com", "url_path": path, "event_type": "1",
               "created_at": at} | cells  # fmt: skip
    return ",".join(values[c] for c in UMAMI_HEADER.split(","))


def test_an_umami_export_is_imported(server: AppServer, tmp_path: Path) -> None:
    site, reader = server.add_site("shop.example.com")
    a = "6f1b3c1e-8d0a-4c1e-9a1b-000000000001"
    b = "6f1b3c1e-8d0a-4c1e-9a1b-000000000002"
    rows = [
        UMAMI_HEADER,
        umami_row(a, "2026-03-02 09:00:00.000+00", "/", browser="chrome", os="Mac OS", device="desktop", country="GB",
                  city="London", referrer_domain="www.google.com", utm_source="newsletter", page_title="Home"),
        umami_row(a, "2026-03-02 09:02:00.000+00", "/pricing", browser="chrome", os="Mac OS", device="desktop",
                  country="GB"),
        umami_row(a, "2026-03-02 09:03:00.000+00", "/pricing", event_type="2", event_name="Signup Clicked",
                  browser="chrome", os="Mac OS", device="desktop", country="GB"),
        umami_row(b, "2026-03-02 11:00:00.000+00", "/blog", browser="ios", os="iOS", device="mobile", country="JP"),
        umami_row(b, "2026-03-02 11:00:00.000+00", "/blog", event_type="7"),  # not a type Umami exports as events
    ]  # fmt: skip
    path = tmp_path / "website_event.csv"
    path.write_text("\n".join(rows) + "\n")
    report = importer(server).run(path, site, "umami")
    assert report.imported == 4 and dict(report.skipped) == {"malformed": 1}
    day = DAY.date().isoformat()
    browsers = {
        r["browser"]: r["visitors"] for r in analytics(server, reader, "browsers", startAt=day, endAt=day)["data"]
    }
    assert browsers == {"Chrome": 1, "Mobile Safari": 1}
    devices = {r["device"] for r in analytics(server, reader, "devices", startAt=day, endAt=day)["data"]}
    assert devices == {"desktop", "mobile"}
    countries = {r["country"] for r in analytics(server, reader, "countries", startAt=day, endAt=day)["data"]}
    assert countries == {"United Kingdom", "Japan"}
    goals = analytics(server, reader, "goals", startAt=day, endAt=day)["data"]
    assert goals == [{"goal": "signup_clicked", "completions": 1, "visitors": 1}]
    campaigns = analytics(server, reader, "campaigns", startAt=day, endAt=day)["data"]
    assert [c["campaign"]["utm_source"] for c in campaigns] == ["newsletter"]


def test_footfalls_csv_format(server: AppServer, tmp_path: Path) -> None:
    site, reader = server.add_site("shop.example.com")
    path = tmp_path / "history.csv"
    path.write_text(
        "timestamp,type,path,visitorId,eventName,userId,email,ip,userAgent\n"
        f"2026-03-02T09:00:00Z,pageview,/,u1,,,,{LONDON_IP},{UA_CHROME_MAC}\n"
        "2026-03-02T09:01:00Z,custom,/pricing,u1,upgrade,,,,\n"
        "2026-03-02T09:02:00Z,identify,/account,u1,,user-7,ana@initech.com,,\n"
        ",pageview,/,u2,,,,,\n"
    )
    report = importer(server).run(path, site, "csv")
    assert report.imported == 3 and report.problems == [(5, "malformed: timestamp and href (or path) are required")]
    person = server.store.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM people"))
    assert person["n"] == 1
    assert analytics(server, reader, "goals", startAt="2026-03-02", endAt="2026-03-02")["data"] == [
        {"goal": "upgrade", "completions": 1, "visitors": 1}
    ]


def test_events_in_any_order_make_the_same_visits(server: AppServer) -> None:
    """A late event between two visits, within the idle time of both, makes them one visit, as if
    the events had come in order; batches in reverse and shuffled give the in-order answer."""
    sites = {order: server.add_site(f"{order.replace(' ', '-')}.example.com")[0]
             for order in ("in order", "reversed", "shuffled")}  # fmt: skip
    key = key_with(server, None, "events:import")
    start = ms(DAY)
    gaps = [0, 20, 45, 80, 100, 170, 180, 200]  # minutes: visits of 0-45 (bridged by 20), 80-100, 170-200
    expected = [(0, 45), (80, 100), (170, 200)]
    for order, site in sites.items():
        events = [event(site, f"https://{order.replace(' ', '-')}.example.com/p{m}", visitorId="v",
                        timestamp=start + m * MINUTE) for m in gaps]  # fmt: skip
        if order == "reversed":
            events.reverse()
        elif order == "shuffled":
            events = [events[i] for i in (0, 2, 5, 7, 3, 1, 6, 4)]  # 0 and 45 first: two visits, then 20
        for one in events:  # one event a batch: each is late or early against what is stored
            assert send(server, key, [one]).status_code == 202
        rows = sessions(server, site)
        got = [((r["started_at"] - start) // MINUTE, (r["last_seen"] - start) // MINUTE) for r in rows]
        assert got == expected, order
        assert [r["pageviews"] for r in rows] == [3, 2, 3], order
        stored = server.store.read(
            lambda tx, s=site: tx.all(
                "SELECT COUNT(*) AS n FROM events e JOIN sessions s ON s.num = e.session_num "
                "JOIN sites st ON st.num = s.site_num WHERE st.id = ?",
                (s,),
            )
        )
        assert stored[0]["n"] == 8, order  # every event still belongs to a visit that exists
