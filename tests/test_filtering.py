"""Filtered traffic ([T1]): automated browsers, script-less traffic from hosting networks, impossible
speed and referrer spam are dropped, counted per day, reason and user-agent family with samples,
readable through the API; nothing filtered becomes a visitor, session, person or workflow row."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from footfall import accounts
from footfall.filtered import flush
from footfall.ingest.pace import LIMIT
from tests.support.collect import event, post
from tests.support.geo_dbs import CLOUD_IP, ISP_IP, LONDON_IP
from tests.support.servers import UA_CHROME_MAC, AppServer

UA_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
UA_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
PERSON = {"websiteId": "", "type": "identify", "extraData": {"user_id": "u-1", "email": "ada@acme.com"}}
# what a real Chrome 131 on a Mac sends: no contradiction, a window with browser controls
REAL = {"wd": False, "b": "Google Chrome/131,Chromium/131,Not_A Brand/24", "p": "MacIntel", "w": [1440, 875, 875]}
SCREEN = {"viewport": {"width": 1440, "height": 789}, "screenWidth": 1440, "screenHeight": 900}


@pytest.fixture
def filtering(server: AppServer) -> tuple[str, str]:
    """A site with the defaults a real owner gets: automated traffic filtered."""
    return server.add_site("example.com", settings={})


def rows(server: AppServer, sql: str, *args: Any) -> list[dict[str, Any]]:
    return server.store.read(lambda tx: tx.all(sql, args))


def nothing_stored(server: AppServer) -> bool:
    counts = [
        rows(server, f"SELECT COUNT(*) AS n FROM {t}")[0]["n"] for t in ("events", "visitors", "sessions", "people")
    ]
    return counts == [0, 0, 0, 0]


def filtered_api(server: AppServer, key: str, **params: str) -> dict[str, Any]:
    c = server.app.state.components
    flush(server.store, c.filtered, c.clock)
    answer = httpx.get(f"{server.url}/api/v1/analytics/filtered", params=params,
                       headers={"authorization": f"Bearer {key}"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.parametrize(
    ("evidence", "ua", "sign"),
    [
        ({"wd": True}, UA_CHROME_MAC, "webdriver"),
        ({**REAL, "b": "HeadlessChrome/131,Chromium/131"}, UA_CHROME_MAC, "headless"),
        ({**REAL, "b": "Chromium/156,Not:A-Brand/8"}, UA_CHROME_MAC, "version_mismatch"),
        (
            {**REAL, "b": "Chromium/131"},
            "Mozilla/5.0 (Windows NT 10.0; rv:133.0) Gecko/20100101 Firefox/133.0",
            "engine_mismatch",
        ),  # fmt: skip
        ({**REAL, "p": "Linux x86_64"}, UA_WINDOWS, "platform_mismatch"),
        ({**REAL, "p": "Linux x86_64", "w": [1280, 720, 720]}, UA_LINUX, "headless_window"),
    ],
)
def test_each_sign_of_automation_drops_the_event_and_is_kept_where_the_site_asks(
    server: AppServer, filtering: tuple[str, str], evidence: dict[str, Any], ua: str, sign: str
) -> None:
    site, key = filtering
    screen = SCREEN if sign != "headless_window" else {"viewport": {"width": 1280, "height": 720},
                                                        "screenWidth": 1280, "screenHeight": 720}  # fmt: skip
    person = {**PERSON, "websiteId": site, "ffAutomation": evidence, "href": "https://example.com/", **screen}
    for body in (event(site, ffAutomation=evidence, **screen), person):
        answer = post(server.url, body, ua=ua)
        assert answer.status_code == 202 and answer.json() == {"dropped": "automated"}
    assert nothing_stored(server)  # no visitor, no session, no person from the identify
    got = filtered_api(server, key)
    assert got["totals"][0]["reason"] == "automated" and got["totals"][0]["count"] == 2
    assert got["data"][0]["samples"] == [ua] and "Automated browser" in got["data"][0]["reasonText"]
    # the owner who wants them (their own synthetic tests) keeps them, with the sign recorded
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"keep_automated": True}))
    server.app.state.collector.sites.forget(site)  # the collect path reads sites again within 5 s
    kept = post(server.url, event(site, type="identification", ffAutomation=evidence, **screen), ua=ua)
    assert "dropped" not in kept.json()
    [row] = rows(server, "SELECT webdriver, headless FROM identifications")
    assert (row["webdriver"], row["headless"]) == (
        int(sign == "webdriver"),
        int(sign in ("headless", "headless_window")),
    )


def test_a_real_browsers_evidence_is_kept(server: AppServer, filtering: tuple[str, str]) -> None:
    site, _ = filtering
    for ua, platform in ((UA_CHROME_MAC, "MacIntel"), (UA_WINDOWS, "Win32"), (UA_LINUX, "Linux x86_64")):
        chrome = UA_CHROME_MAC.split("Chrome/")[1].split(".")[0] if ua == UA_CHROME_MAC else "131"
        evidence = {**REAL, "b": f"Google Chrome/{chrome},Chromium/{chrome},Not_A Brand/24", "p": platform}
        answer = post(server.url, event(site, ffAutomation=evidence, **SCREEN), ua=ua)
        assert "dropped" not in answer.json(), (ua, answer.json())
    phone = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
             "Mobile Safari/537.36")  # fmt: skip
    full_screen_phone = {"wd": False, "b": "Chromium/131", "p": "Linux armv81", "w": [412, 915, 915]}
    screen = {"viewport": {"width": 412, "height": 915}, "screenWidth": 412, "screenHeight": 915}
    assert "dropped" not in post(server.url, event(site, ffAutomation=full_screen_phone, **screen), ua=phone).json()
    iphone = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/18.1 Mobile/15E148 Safari/604.1")  # fmt: skip
    assert (
        "dropped"
        not in post(server.url, event(site, ffAutomation={"p": "iPhone", "w": [390, 844, 844]}), ua=iphone).json()
    )
    assert rows(server, "SELECT COUNT(*) AS n FROM visitors")[0]["n"] == 5


def test_scriptless_traffic_from_a_hosting_network_is_dropped(server: AppServer, filtering: tuple[str, str]) -> None:
    site, key = filtering
    gif = httpx.get(f"{server.url}/api/events.gif", params={"websiteId": site, "href": "https://example.com/a"},
                    headers={"user-agent": UA_WINDOWS, "x-forwarded-for": CLOUD_IP})  # fmt: skip
    assert gif.headers["x-footfall-dropped"] == "datacenter"
    assert post(server.url, event(site), ua=UA_WINDOWS, ip=CLOUD_IP).json() == {"dropped": "datacenter"}
    # the same from an access provider, or the tracker's page from a cloud VPN, is a visit
    assert "dropped" not in post(server.url, event(site), ua=UA_WINDOWS, ip=ISP_IP).json()
    ran = event(site, ffAutomation={**REAL, "p": "Win32"}, **SCREEN)
    assert "dropped" not in post(server.url, ran, ua=UA_WINDOWS, ip=CLOUD_IP).json()
    [total] = filtered_api(server, key)["totals"]
    assert (total["reason"], total["count"], total["userAgentFamilies"]) == (
        "datacenter",
        2,
        [{"name": "Chrome", "count": 2}],
    )


def test_a_browser_faster_than_a_person_is_cut_off(server: AppServer, filtering: tuple[str, str]) -> None:
    site, key = filtering
    first = post(server.url, event(site)).json()
    answers = [post(server.url, event(site, f"https://example.com/p{i}", visitorId=first["visitorId"])).json()
               for i in range(LIMIT + 1)]  # fmt: skip
    assert [a.get("dropped") for a in answers] == [None] * LIMIT + ["too_fast"]  # the first had no id yet
    other = post(server.url, event(site), ip=ISP_IP).json()  # another browser is not held back
    assert "dropped" not in other
    server.clock.advance(minutes=1)
    assert "dropped" not in post(server.url, event(site, visitorId=first["visitorId"])).json()
    assert filtered_api(server, key)["totals"][0]["reason"] == "too_fast"


def test_referrer_spam_from_the_list_and_the_site(server: AppServer, tmp_path: Any) -> None:
    from footfall.enrich.spam import ReferrerSpam, parse_list

    site, key = server.add_site("example.com", settings={"spam_referrers": ["seo-offers.example"]})
    spam = server.app.state.collector.context.spam  # the list the server read at start: replaced here
    server.app.state.collector.context.spam = ReferrerSpam(parse_list("# Matomo's format\nbest-seo.example\n\n"))
    try:
        for ref in ("https://best-seo.example/", "http://www.free.best-seo.example/x", "https://seo-offers.example/"):
            assert post(server.url, event(site, referrer=ref)).json() == {"dropped": "referrer_spam"}
        assert "dropped" not in post(server.url, event(site, referrer="https://news.ycombinator.com/")).json()
    finally:
        server.app.state.collector.context.spam = spam
    assert filtered_api(server, key)["totals"][0]["count"] == 3


def test_crawlers_never_show_as_browsers_and_a_deviceless_visit_is_unknown(
    server: AppServer, filtering: tuple[str, str]
) -> None:
    site, key = filtering
    for ua in ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.75 "
               "Safari/537.36 Google Favicon", "Mozilla/5.0 (compatible; Ezooms/1.0; help@moz.com)",
               "Mozilla/5.0 (compatible; robot)", "Spinn3r 3.1 (+http://www.spinn3r.com/robot)"):  # fmt: skip
        assert post(server.url, event(site), ua=ua).json() == {"dropped": "bot"}
    post(server.url, event(site), ua=UA_CHROME_MAC)
    serenity = "Mozilla/5.0 (SerenityOS; x86_64) LibWeb+LibJS/1.0 Browser/1.0"  # no type, no browser ua-parser knows
    post(server.url, event(site), ua=serenity, ip=ISP_IP)
    auth = {"authorization": f"Bearer {key}"}
    devices = httpx.get(f"{server.url}/api/v1/analytics/devices", headers=auth).json()["data"]
    browsers = httpx.get(f"{server.url}/api/v1/analytics/browsers", headers=auth).json()["data"]
    assert sorted((d["device"], d["visitors"]) for d in devices) == [("desktop", 1), ("unknown", 1)]
    assert sorted(b["browser"] for b in browsers) == ["Chrome", "unknown"]
    families = {f["name"] for t in filtered_api(server, key)["totals"] for f in t["userAgentFamilies"]}
    assert "Chrome" not in families and len(families) >= 3


def test_the_filtered_api_needs_a_key_and_reads_a_range(server: AppServer, filtering: tuple[str, str]) -> None:
    site, key = filtering
    post(server.url, event(site), ua="curl/8.5.0")
    assert httpx.get(f"{server.url}/api/v1/analytics/filtered").status_code == 401
    today = filtered_api(server, key)
    assert today["data"][0]["userAgentFamily"] == "curl" and today["data"][0]["samples"] == ["curl/8.5.0"]
    empty = filtered_api(server, key, startAt="2020-01-01", endAt="2020-01-31")
    assert empty["data"] == [] and empty["range"] == {"from": "2020-01-01", "to": "2020-01-31"}
    assert LONDON_IP  # the default sender's address: a residential one in the test databases


def test_the_referrer_spam_list_is_downloaded_and_used_from_the_next_start(settings: Any) -> None:
    from footfall.app import spam_path
    from tests.support.browser import PageServer
    from tests.support.servers import AppServer as Server
    from tests.test_cli import run

    listed = "# Matomo's referrer-spam-list format\nbest-seo-offer.example\nfree-traffic.example\n\n"
    with PageServer({"/spammers.txt": listed}) as lists:
        code, out = run(settings, "referrer-spam", "update", "--url", lists.url + "/spammers.txt")
        assert code == 0 and "2 referrer-spam domains" in out, out
        code, out = run(settings, "referrer-spam", "update", "--url", lists.url + "/missing.txt")
        assert code != 0 and "could not read" in out
    assert spam_path(settings).read_text().split() == ["best-seo-offer.example", "free-traffic.example"]
    with Server(settings) as started:
        site, _ = started.add_site("example.com", settings={})
        spam = event(site, referrer="https://www.best-seo-offer.example/?ref=1")
        assert post(started.url, spam).json() == {"dropped": "referrer_spam"}


def test_the_pace_forgets_the_least_recent_browsers() -> None:
    from footfall.ingest.pace import Pace

    pace = Pace(limit=2, window_ms=1000, capacity=2)
    assert not pace.too_fast(("a",), 0) and not pace.too_fast(("a",), 10)
    assert pace.too_fast(("a",), 20)  # a third within the second
    assert not pace.too_fast(("a",), 1010)  # the window moved on
    pace.too_fast(("b",), 0)
    pace.too_fast(("c",), 0)  # past the capacity: "a", the least recent, is forgotten
    assert not pace.too_fast(("a",), 1020) and not pace.too_fast(("a",), 1030)
