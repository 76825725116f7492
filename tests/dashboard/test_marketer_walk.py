"""A marketer's first hour, in real Chromium (the walk of [T5]): add a site on localhost, install
the snippet as printed, a visit, the visit appears, open the anonymous visitor, they identify, the
person's timeline, a funnel with a drop-off, a CSV export opened and checked."""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import Browser

from tests.dashboard.test_dashboard import EMAIL, PASSWORD, WIDTHS, add_user, browser  # noqa: F401
from tests.dashboard.test_install import wait_for_refusal
from tests.support.browser import PageServer
from tests.support.servers import UA_IPHONE, AppServer
from tests.tracker.conftest import REPLIED, context, count, html, wait_for

pytestmark = pytest.mark.browser


def test_a_marketers_first_hour(server: AppServer, browser: Browser, backend: str) -> None:  # noqa: F811
    add_user(server)
    ctx = browser.new_context(viewport=WIDTHS["desktop"], accept_downloads=True)
    tab = ctx.new_page()
    tab.goto(server.url + "/login")
    tab.fill("#email", EMAIL)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(re.compile(r"/sites"))
    tab.goto(server.url + "/sites")
    tab.fill("#domain", "localhost")
    tab.get_by_role("button", name="Add site").click()
    tab.wait_for_url(re.compile(r"/install$"))
    site = tab.url.split("/sites/")[1].split("/")[0]
    snippet = tab.locator("#snippet").inner_text()
    identify = tab.locator("[data-example=identify]").inner_text()
    assert tab.locator("[data-last-event]").inner_text().startswith("No event received yet")

    pages = {p: html(snippet, '<a href="/signup">Sign up</a>', title=p) for p in ("/", "/pricing", "/signup")}
    with PageServer(pages) as web:
        local = web.url.replace("127.0.0.1", "localhost")
        visitor = context(browser)
        page = visitor.new_page()
        page.goto(local + "/pricing")  # the first try: this test's browser is a driven one
        wait_for_refusal(server, page)
        tab.reload()  # the install page says why nothing counted, and what to do
        assert "Automated browser" in tab.locator("[data-last-refused]").inner_text()
        assert "Settings can keep automated traffic" in tab.locator("[data-fix]").inner_text()
        tab.locator("[data-last-refused]").get_by_role("link", name="Settings").click()
        tab.check("input[name=keep_automated]")
        tab.click("form.stack button")
        assert tab.get_by_text("Saved.").count() == 1

        page.wait_for_timeout(5500)  # "the collector picks the change up within a few seconds" (its site cache)
        page.goto(local + "/")
        page.wait_for_function(REPLIED)  # the browser keeps the id the server gave it before moving on
        page.goto(local + "/pricing")  # a visit that drops after pricing
        wait_for(server, site, count(2, "pageview"))
        other = browser.new_context(  # someone else, on a phone
            user_agent=UA_IPHONE, viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True
        )
        reader = other.new_page()
        reader.goto(local + "/pricing")  # a visit that goes on to sign up, and identifies
        wait_for(server, site, count(3, "pageview"))
        reader.wait_for_function(REPLIED)
        reader.goto(local + "/signup")
        wait_for(server, site, count(4, "pageview"))

        # the visits appear; the anonymous one opens
        tab.goto(f"{server.url}/sites/{site}/install")
        assert tab.locator("[data-last-event]").inner_text().startswith("Last event received")
        tab.goto(f"{server.url}/sites/{site}/realtime")
        assert tab.locator("[data-stat=live]").inner_text() == "2"
        tab.goto(f"{server.url}/sites/{site}/visitors")
        assert tab.locator("tbody tr").count() == 2
        tab.locator("tbody tr").nth(0).locator("[data-visitor]").click()  # the latest: the reader
        tab.wait_for_url(re.compile(r"/visitors/[0-9a-f]"))
        assert tab.locator("[data-anonymous]").count() == 1
        assert [k for k in tab.locator("[data-timeline] > li").evaluate_all("l => l.map(e => e.dataset.kind)")] == [
            "pageview", "pageview", "visit",
        ]  # fmt: skip

        reader.evaluate(identify)  # they sign in: the install page's example, as written
        wait_for(server, site, count(1, "identify"))
        other.close()
        visitor.close()

    tab.reload()
    assert tab.locator("h1").inner_text().startswith("Ada Lovelace")
    tab.get_by_role("link", name="Open the person").click()
    tab.wait_for_url(re.compile("/people/"))
    journey = tab.locator("ol.feed[aria-label^=Pages]").inner_text()
    assert "localhost" in journey and "/pricing" in journey and "/signup" in journey  # before identifying too

    # a funnel with a drop-off, and who dropped
    tab.goto(f"{server.url}/sites/{site}/funnels")
    tab.fill("#steps", "page /pricing\npage /signup")
    tab.get_by_role("button", name="Show").click()
    tab.wait_for_url(re.compile("steps="))
    assert tab.locator("[data-step] [data-visitors]").all_inner_texts() == ["2", "1"]
    tab.locator('[data-step="2"] summary').click()
    assert tab.locator('[data-step="2"] [data-dropped] a').inner_text().startswith("Anonymous")

    # the people export, opened and checked
    tab.goto(f"{server.url}/sites/{site}/people")
    with tab.expect_download() as started:
        tab.click("[data-export]")
    with open(started.value.path(), newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["name"], r["email"]) for r in rows] == [("Ada Lovelace", "ada@example.com")]
    ctx.close()
