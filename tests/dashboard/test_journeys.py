"""Every visitor opens, anonymous or identified: the visitor page in real Chromium, with one
timeline of visits, pages, goals, payments and identifications, how the visitor was named and
its score (docs/dashboard.md, "Visitor")."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser

from tests.dashboard.test_dashboard import WIDTHS, add_user, browser, log_in, record, shoot  # noqa: F401
from tests.support.servers import AppServer

pytestmark = pytest.mark.browser


def kinds(tab) -> list[str]:  # type: ignore[no-untyped-def]
    return [li.get_attribute("data-kind") or "" for li in tab.locator("[data-timeline] > li").all()]


def test_any_visitor_opens_with_its_whole_journey(server: AppServer, browser: Browser, backend: str) -> None:  # noqa: F811
    site, key = server.add_site("127.0.0.1", scopes=("analytics:read", "payments:write"))
    add_user(server)
    record(server, browser, site, key)
    ctx = browser.new_context(viewport=WIDTHS["desktop"])
    tab = ctx.new_page()
    log_in(tab, server)
    base = f"{server.url}/sites/{site}"

    # the anonymous phone visitor, opened from the visitors list
    tab.goto(base + "/visitors")
    tab.locator("tbody tr", has_text="Anonymous").locator("[data-visitor]").click()
    tab.wait_for_url(re.compile(r"/visitors/[0-9a-f]"))
    assert tab.locator("h1").inner_text().startswith("Anonymous visitor")
    assert tab.locator("[data-anonymous]").count() == 1
    assert kinds(tab) == ["pageview", "pageview", "visit"]  # newest first: /blog, /, the visit
    pages = tab.locator("[data-timeline] [data-kind=pageview]").all_inner_texts()
    assert "/blog" in pages[0] and "Viewed /" in pages[1]
    visit = tab.locator("[data-timeline] [data-kind=visit]").inner_text()
    assert "iOS" in visit and "Direct" in visit
    shoot(tab, backend, "visitor-anonymous")

    # Lin: named by the tracker's identify call (a claim), a goal with its params, the payment
    tab.goto(base + "/visitors")
    tab.locator("tbody tr", has_text="Lin Wu").locator("[data-visitor]").click()
    tab.wait_for_url(re.compile(r"/visitors/[0-9a-f]"))
    assert tab.locator("h1").inner_text().startswith("Lin Wu")
    assert tab.locator("[data-claimed]").count() == 1 and tab.locator("[data-confirmed]").count() == 0
    found = kinds(tab)
    assert found[0] == "payment" and found[-1] == "visit", found
    assert sorted(found) == ["goal", "identified", "identify", "pageview", "payment", "visit"]
    assert "signup" in tab.locator("[data-kind=goal]").inner_text()
    assert "plan=pro" in tab.locator("[data-kind=goal]").inner_text()
    assert "49 USD" in tab.locator("[data-kind=payment]").inner_text()
    assert "identify call" in tab.locator("[data-kind=identified]").inner_text()
    assert "email=lin@acme-corp.com" in tab.locator("[data-kind=identify]").inner_text()
    assert "newsletter" in tab.locator("[data-kind=visit]").inner_text()
    # one payment: no score, and the page says what is missing
    assert "1 of the 40 converting visitors" in tab.locator("[data-scoring=learning]").inner_text()
    tab.get_by_role("link", name="Open the person").click()
    tab.wait_for_url(re.compile("/people/"))
    tab.locator("[data-visitor]").first.click()  # and back from the person's devices
    tab.wait_for_url(re.compile(r"/visitors/[0-9a-f]"))
    assert tab.locator("h1").inner_text().startswith("Lin Wu")
    shoot(tab, backend, "visitor")

    # realtime opens visitors too; an id the site does not have is a 404
    tab.goto(base + "/realtime")
    tab.locator("[data-visitor]", has_text="Anonymous").click()
    tab.wait_for_url(re.compile(r"/visitors/[0-9a-f]"))
    assert tab.locator("[data-anonymous]").count() == 1
    cookies = {c["name"]: c["value"] for c in ctx.cookies()}
    missing = httpx.get(base + "/visitors/" + "0" * 32, cookies=cookies)
    assert missing.status_code == 404
    ctx.close()


def test_a_browser_matched_by_device_signals_is_shown_as_presumed(
    server: AppServer,
    browser: Browser,  # noqa: F811
    backend: str,
) -> None:
    site, key = server.add_site("127.0.0.1", scopes=("analytics:read", "payments:write"))
    add_user(server)
    record(server, browser, site, key)

    def ids(tx):  # type: ignore[no-untyped-def]
        return [r["id"] for r in tx.all("SELECT id FROM visitors ORDER BY num")]

    lin, phone = server.store.read(ids)
    # as device matching leaves a browser it matched (identity/devices.py): an alias with a confidence
    server.store.write(
        lambda tx: tx.execute(
            "UPDATE visitors SET alias_of = (SELECT num FROM visitors WHERE id = ?), alias_confidence = 0.8 "
            "WHERE id = ?",
            (lin, phone),
        )
    )
    ctx = browser.new_context(viewport=WIDTHS["desktop"])
    tab = ctx.new_page()
    log_in(tab, server)
    tab.goto(f"{server.url}/sites/{site}/visitors/{phone}")
    assert tab.locator("h1").inner_text().startswith("Lin Wu")  # the phone opens as the visitor it counts as
    assert (
        "presumed to be this visitor from its device signals, confidence 0.80"
        in tab.locator("[data-identification]").inner_text()
    )
    presumed = tab.locator("[data-timeline] li", has_text="presumed").all_inner_texts()
    assert len(presumed) == 3 and any("/blog" in p for p in presumed)  # the phone's visit and two pages
    ctx.close()
