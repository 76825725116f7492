"""The overview in real Chromium: each total's change against the period just before, who is on
the site now, entry and exit pages, browsers and systems, goals with their conversion rates, and
a chart whose axis shows whole numbers; every number as the analytics API gives it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser

from footfall.dashboard.charts import line_chart, nice_max, tick_count
from tests.dashboard.test_dashboard import WIDTHS, add_user, api, browser, log_in, shoot, stat  # noqa: F401
from tests.support.collect import event, post
from tests.support.servers import UA_CHROME_MAC, UA_IPHONE, AppServer

pytestmark = pytest.mark.browser
DAY_MINUTES = 24 * 60
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def visit(server: AppServer, site: str, paths: list[str], ua: str, ip: str, goal: str | None = None) -> None:
    visitor = None
    for path in paths:
        body = event(site, f"http://127.0.0.1{path}") | ({"visitorId": visitor} if visitor else {})
        answer = post(server.url, body, ua=ua, ip=ip)
        assert answer.status_code == 202, answer.text
        visitor = answer.json()["visitorId"]
        server.clock.advance(seconds=20)
    if goal:
        body = event(site, "http://127.0.0.1/", type="custom", visitorId=visitor, extraData={"eventName": goal})
        assert post(server.url, body, ua=ua, ip=ip).status_code == 202


def test_the_overview_compares_and_breaks_down(server: AppServer, browser: Browser, backend: str) -> None:  # noqa: F811
    site, key = server.add_site("127.0.0.1", scopes=("analytics:read",))
    add_user(server)
    # the week before: one visitor; this week: three, one of whom signs up
    visit(server, site, ["/blog", "/about"], FIREFOX, "81.2.69.160")
    server.clock.advance(minutes=8 * DAY_MINUTES)
    visit(server, site, ["/pricing", "/signup"], UA_CHROME_MAC, "81.2.69.161", goal="signup")
    visit(server, site, ["/"], UA_IPHONE, "81.2.69.162")
    visit(server, site, ["/pricing", "/docs", "/"], FIREFOX, "81.2.69.163")

    ctx = browser.new_context(viewport=WIDTHS["desktop"])
    tab = ctx.new_page()
    log_in(tab, server)
    tab.goto(f"{server.url}/sites/{site}/?period=7d")
    assert stat(tab, "visitors") == "3" and stat(tab, "current") == "3"  # all three within 5 minutes
    assert tab.locator("[data-change=visitors]").inner_text().strip() == "↑ +200%"  # 3 against 1
    assert tab.locator("[data-change=pageviews]").inner_text().strip() == "↑ +200%"  # 6 against 2
    assert tab.locator("[data-change=bounce_rate]").inner_text().strip() == "↑ +33.3 pts"  # 1 of 3 against 0
    assert "the period of the same length just before" in tab.locator(".compared").inner_text()

    def panel(heading: str) -> dict[str, str]:
        rows = tab.locator("section.panel", has=tab.get_by_role("heading", name=heading, exact=True))
        return {
            r.locator("td").nth(0).inner_text().strip(): r.locator("td").nth(1).inner_text()
            for r in rows.locator("tbody tr").all()
        }

    for heading, endpoint, field in (
        ("Entry pages", "entry-pages", "path"),
        ("Exit pages", "exit-pages", "path"),
        ("Browsers", "browsers", "browser"),
        ("Operating systems", "operating-systems", "operating_system"),
    ):
        rows = api(server, key, f"/analytics/{endpoint}", startAt=_day(server, 6), endAt=_day(server, 0))["data"]
        assert panel(heading) == {r[field]: str(r["visitors"]) for r in rows}, heading
    assert panel("Entry pages") == {"/pricing": "2", "/": "1"}
    assert panel("Exit pages") == {"/": "2", "/signup": "1"}
    assert set(panel("Browsers")) == {"Chrome", "Firefox", "Mobile Safari"}
    assert tab.locator("[data-goal=signup] td").nth(3).inner_text() == "33.33%"  # 1 of 3 visitors
    # a whole-number axis (3 visitors at most: up to 5, by ones)
    axis = [t.text_content() for t in tab.locator("svg.chart text.y-axis").all()]
    assert axis == ["0", "1", "2", "3", "4", "5"]
    shoot(tab, backend, "overview-compared")

    # an entry page's row filters by it, as the API does
    tab.locator("section.panel", has=tab.get_by_role("heading", name="Entry pages")).get_by_role(
        "link", name="/pricing"
    ).click()
    tab.wait_for_url(re.compile("filter_entry_page"))
    assert stat(tab, "visitors") == "2"
    ctx.close()


def _day(server: AppServer, n: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.fromtimestamp(server.clock.now_ms() / 1000, UTC).date() - timedelta(days=n)).isoformat()


@pytest.mark.parametrize("top", [1, 2, 3, 4, 5, 7, 10, 13, 20, 35, 50, 99, 100, 180, 200, 500, 999, 1000, 12345])
def test_chart_axes_show_whole_numbers(top: int) -> None:
    svg = line_chart("t", ["a", "b"], {"visitors": [0, top]})
    ticks = [float(t.replace(",", "")) for t in re.findall(r'class="axis y-axis"[^>]*>([^<]+)<', svg)]
    assert ticks[0] == 0 and ticks[-1] == nice_max(top) >= top and len(ticks) == tick_count(nice_max(top)) + 1
    assert all(t == int(t) for t in ticks), ticks
