"""The cookieless script in real Chromium: nothing is stored in the browser, page views of one
browser make one visitor through a day (and across midnight while its visit goes on), a new day
makes a new visitor, and salts older than yesterday are gone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.support.browser import PageServer
from tests.support.servers import AppServer
from tests.tracker.conftest import context, count, html, tag, wait_for

pytestmark = pytest.mark.browser
DAY_MS = 86_400_000


def test_nothing_stored_one_visitor_a_day(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    now = server.clock.now_ms()
    server.clock.advance(ms=(DAY_MS - now % DAY_MS) - 20 * 60_000)  # 23:40 UTC
    head = tag(server, site, src="/js/script.cookieless.js")
    with PageServer({"/": html(head), "/pricing": html(head)}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        wait_for(server, site, count(1))
        tab.goto(web.url + "/pricing")
        rows = wait_for(server, site, count(2))
        stored = tab.evaluate("[document.cookie, localStorage.length, sessionStorage.length]")
        assert stored == ["", 0, 0]  # nothing in the browser
        server.clock.advance(minutes=25)  # 00:05: the visit goes on across midnight
        tab.goto(web.url + "/")
        rows = wait_for(server, site, count(3))
        server.clock.advance(minutes=24 * 60)  # the next day
        tab.goto(web.url + "/pricing")
        rows = wait_for(server, site, count(4))
        ctx.close()
    visitors = [r["visitor_id"] for r in rows]
    assert visitors[0] == visitors[1] == visitors[2] != visitors[3]
    keys = server.store.read(lambda tx: tx.all("SELECT client_key FROM visitors ORDER BY num"))
    assert len(keys) == 2 and all(k["client_key"].startswith("cl:") for k in keys)
    days = server.store.read(lambda tx: tx.all("SELECT day FROM daily_salts ORDER BY day"))
    assert 1 <= len(days) <= 2  # today's and at most yesterday's: older salts are deleted
