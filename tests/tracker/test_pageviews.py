"""Page views in real Chromium: what the tracker sends on load and on single-page-app navigation."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser

from tests.support.browser import PageServer
from tests.support.servers import AppServer
from tests.tracker.conftest import REPLIED, context, count, html, tag, wait_for

pytestmark = pytest.mark.browser


def test_page_view_carries_page_browser_and_campaign_fields(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    pages = {"/": html(tag(server, site), title="Home"), "/from": html("", '<a id="go" href="/">home</a>')}
    with PageServer(pages) as web:
        ctx = context(browser, locale="de-DE", timezone_id="Europe/Berlin")
        tab = ctx.new_page()
        tab.goto(web.url + "/from")
        tab.click("#go")  # a real referrer
        wait_for(server, site, count(1))
        tab.wait_for_function(REPLIED)
        tab.goto(web.url + "/?utm_source=news&utm_medium=email&utm_campaign=launch&ref=hn&via=bob&gclid=G1&fbclid=F1")
        rows = wait_for(server, site, count(2))
        ctx.close()
    first, second = rows
    assert first["title"] == "Home" and first["referrer"] == web.url + "/from"
    assert (first["viewport_width"], first["viewport_height"]) == (1200, 800)
    assert first["screen_width"] > 0 and first["language"] == "de-DE" and first["timezone"] == "Europe/Berlin"
    assert json.loads(second["params"]) == {
        "utm_source": "news",
        "utm_medium": "email",
        "utm_campaign": "launch",
        "ref": "hn",
        "via": "bob",
    }
    assert json.loads(second["click_ids"]) == {"gclid": "G1", "fbclid": "F1"}
    assert second["session_id"] != first["session_id"]  # a new campaign starts a session


def test_spa_navigation_counts_each_url_once_per_minute(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    with PageServer({"/": html(tag(server, site)), "/pricing": html(tag(server, site))}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        wait_for(server, site, count(1))
        tab.evaluate("history.pushState({}, '', '/pricing')")
        wait_for(server, site, count(2))
        tab.evaluate("history.replaceState({}, '', '/pricing?plan=pro')")
        wait_for(server, site, count(3))
        tab.evaluate("location.hash = '#faq'")  # hashchange
        wait_for(server, site, count(4))
        tab.go_back()  # popstate back to /pricing?plan=pro
        wait_for(server, site, count(5))
        # Within 60 s the same URL is not counted again: not on pushState, not on reload.
        tab.evaluate("history.pushState({}, '', '/pricing?plan=pro')")
        tab.reload()
        tab.evaluate("history.pushState({}, '', '/docs')")  # the marker that the above were not sent
        rows = wait_for(server, site, count(6))
        ctx.close()
    paths = [(r["path"], r["href"].rsplit("/", 1)[1]) for r in rows]
    assert paths == [
        ("/", ""),
        ("/pricing", "pricing"),
        ("/pricing", "pricing?plan=pro"),
        ("/pricing", "pricing?plan=pro#faq"),
        ("/pricing", "pricing?plan=pro"),
        ("/docs", "docs"),
    ]
    assert len({r["visitor_id"] for r in rows}) == 1 and len({r["session_id"] for r in rows}) == 1
