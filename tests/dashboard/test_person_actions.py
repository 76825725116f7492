"""Merging and splitting people from the person page, in real Chromium (docs/dashboard.md):
merge by email, "Not this person" on a device, and the merge a conflicting claim offers."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser

from tests.api.test_people import identify, visit
from tests.dashboard.test_dashboard import WIDTHS, add_user, browser, log_in, shoot  # noqa: F401
from tests.support.servers import UA_IPHONE, AppServer

pytestmark = pytest.mark.browser


def test_merge_split_and_a_conflict_from_the_person_page(server: AppServer, browser: Browser, backend: str) -> None:  # noqa: F811
    site, key = server.add_site("example.com", scopes=("analytics:read", "identify:write"))
    add_user(server)
    laptop = visit(server, site, "/")
    phone = visit(server, site, "/blog", ua=UA_IPHONE)
    identify(server, site, laptop, user_id="u-1", name="Ada Lovelace")
    identify(server, site, phone, user_id="u-2", email="ada@analytical.org")  # the same woman, not known yet
    tablet = visit(server, site, "/pricing", ua=UA_IPHONE)
    named = httpx.post(  # the site's server names her: an authority
        f"{server.url}/api/v1/identify",
        json={"user_id": "u-9", "datafast_visitor_id": tablet, "email": "grace@navy.mil", "name": "Grace Hopper"},
        headers={"authorization": f"Bearer {key}"},
    )
    assert named.status_code == 200, named.text
    other = visit(server, site, "/docs")
    identify(server, site, other, user_id="u-x", email="grace@navy.mil")  # a claim on Grace's email: kept apart

    def person_id(**where: str) -> str:
        [(column, value)] = where.items()
        row = server.store.read(lambda tx: tx.one(f"SELECT id FROM people WHERE {column} = ?", (value,)))
        return str(row["id"])

    ctx = browser.new_context(viewport=WIDTHS["desktop"])
    tab = ctx.new_page()
    log_in(tab, server)
    base = f"{server.url}/sites/{site}/people"
    tab.goto(f"{base}/{person_id(user_id='u-1')}")
    assert tab.locator("[data-split]").count() == 1
    tab.fill("#other", "ada@analytical.org")
    tab.get_by_role("button", name="Merge into this person").click()
    tab.wait_for_url(re.compile("done=merged"))
    assert tab.locator("[data-done]").inner_text().startswith("Merged")
    assert tab.locator("[data-split]").count() == 2 and tab.get_by_text("ada@analytical.org").count() >= 1

    # the phone was someone else's after all
    tab.locator("tr", has_text="iOS").get_by_role("button", name="Not this person").click()
    tab.wait_for_url(re.compile("done=split"))
    assert tab.locator("[data-split]").count() == 1 and tab.locator("tr", has_text="iOS").count() == 0
    shoot(tab, backend, "person-actions")

    # a merge of nobody says so
    tab.fill("#other", "nobody@example.com")
    tab.get_by_role("button", name="Merge into this person").click()
    tab.wait_for_url(re.compile("done=unknown"))
    assert tab.locator("[data-done]").inner_text().startswith("Nothing changed")

    # the claim kept apart offers the merge, into the verified person
    claimed = server.store.read(lambda tx: tx.one("SELECT id FROM people WHERE conflict_of IS NOT NULL"))["id"]
    tab.goto(f"{base}/{claimed}")
    assert "kept apart" in tab.locator("[data-conflict]").inner_text()
    tab.get_by_role("button", name="Merge into the verified person").click()
    tab.wait_for_url(re.compile(rf"{person_id(user_id='u-9')}\?done=merged"))
    assert tab.locator("h1").inner_text() == "Grace Hopper" and tab.locator("[data-split]").count() == 2
    ctx.close()
