"""The funnels page in real Chromium: steps tried, saved, their results as the API gives them, the
visitors who dropped opening their journey, a filter, and deletion (docs/dashboard.md)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser

from tests.dashboard.test_dashboard import WIDTHS, add_user, browser, log_in, shoot  # noqa: F401
from tests.dashboard.test_overview import FIREFOX, visit
from tests.support.servers import UA_CHROME_MAC, UA_IPHONE, AppServer

pytestmark = pytest.mark.browser


def test_a_funnel_is_built_saved_and_shows_who_dropped(server: AppServer, browser: Browser, backend: str) -> None:  # noqa: F811
    site, key = server.add_site("127.0.0.1", scopes=("analytics:read",))
    add_user(server)
    visit(server, site, ["/pricing", "/signup"], UA_CHROME_MAC, "81.2.69.161", goal="signup")
    visit(server, site, ["/", "/pricing"], UA_IPHONE, "81.2.69.162")  # dropped after pricing
    visit(server, site, ["/blog/a", "/pricing", "/signup"], FIREFOX, "81.2.69.163")  # dropped before the goal
    visit(server, site, ["/docs"], FIREFOX, "81.2.69.164")  # never entered

    ctx = browser.new_context(viewport=WIDTHS["desktop"])
    tab = ctx.new_page()
    log_in(tab, server)
    tab.goto(f"{server.url}/sites/{site}/funnels")
    assert tab.locator("[data-funnel]").count() == 0 and tab.locator("p.empty").count() == 1
    tab.fill("#steps", "page /pricing\npage /sign*\ngoal signup")
    tab.get_by_role("button", name="Show").click()
    tab.wait_for_url(re.compile(r"steps="))
    counts = [int(v) for v in tab.locator("[data-step] [data-visitors]").all_inner_texts()]
    steps = ["page:/pricing", "page:/sign*", "goal:signup"]
    api = httpx.get(
        f"{server.url}/api/v1/funnels/analysis", params=[("step", s) for s in steps] + [("period", "30d")],
        headers={"authorization": f"Bearer {key}"},
    ).json()["data"]  # fmt: skip
    assert counts == [s["visitors"] for s in api["steps"]] == [3, 2, 1]
    assert tab.locator("[data-funnel-conversion]").inner_text() == "33.33%"

    tab.fill("#name", "Pricing to sign-up")
    tab.get_by_role("button", name="Save funnel").click()
    tab.wait_for_url(re.compile(r"/funnels/fun_"))
    assert tab.locator("h1").inner_text() == "Pricing to sign-up"
    assert tab.locator('[data-step="2"] summary').inner_text().startswith("1 dropped here")
    tab.locator('[data-step="2"] summary').click()
    tab.locator('[data-step="2"] [data-dropped] a').first.click()  # who dropped: their journey
    tab.wait_for_url(re.compile(r"/visitors/[0-9a-f]"))
    assert tab.locator("h1").inner_text().startswith("Anonymous visitor")
    assert "iOS" in tab.locator("[data-timeline] [data-kind=visit]").inner_text()
    tab.go_back()
    shoot(tab, backend, "funnel")

    # a filter narrows it, as everywhere
    tab.goto(tab.url.split("?")[0] + "?period=30d&filter_browser=is:Firefox")
    assert [int(v) for v in tab.locator("[data-step] [data-visitors]").all_inner_texts()] == [1, 1, 0]
    tab.get_by_role("button", name="Delete this funnel").click()
    tab.wait_for_url(re.compile(r"/funnels$"))
    assert tab.locator(".saved").count() == 0
    ctx.close()
