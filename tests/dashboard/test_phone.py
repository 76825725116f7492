"""No dashboard page scrolls sideways on a phone (390 px wide): every page, with data in it, in
real Chromium (docs/dashboard.md)."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser

from tests.dashboard.test_dashboard import add_user, browser, log_in, record  # noqa: F401
from tests.support.servers import AppServer

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_no_page_scrolls_sideways_on_a_phone(server: AppServer, browser: Browser) -> None:  # noqa: F811
    site, key = server.add_site("127.0.0.1", scopes=("analytics:read", "payments:write", "identify:write"))
    add_user(server)
    record(server, browser, site, key)
    visitor = server.store.read(lambda tx: tx.one("SELECT id FROM visitors WHERE person_num IS NULL"))["id"]
    long = {"user_id": "u-8", "datafast_visitor_id": visitor, "name": "Margaret Hamilton-Whitfield",
            "email": "margaret.hamiltonwhitfield@apolloguidancesoftwarelaboratories.example.com"}  # fmt: skip
    named = httpx.post(f"{server.url}/api/v1/identify", json=long, headers={"authorization": f"Bearer {key}"})
    assert named.status_code == 200, named.text
    person = server.store.read(lambda tx: tx.one("SELECT id FROM people WHERE user_id = 'u-8'"))["id"]
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, device_scale_factor=2)
    tab = ctx.new_page()
    log_in(tab, server)
    base = f"/sites/{site}"
    pages = [
        f"{base}/", f"{base}/realtime", f"{base}/people", f"{base}/people/{person}", f"{base}/companies",
        f"{base}/visitors", f"{base}/visitors/{visitor}", f"{base}/funnels?steps=page+%2Fpricing%0Agoal+signup",
        f"{base}/install", f"{base}/workflows", f"{base}/contacts", f"{base}/filtered", f"{base}/settings",
        "/keys", "/sites",
    ]  # fmt: skip
    wide = {}
    for path in pages:
        tab.goto(server.url + path)
        width = tab.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            culprits = tab.evaluate(  # the outermost elements wider than the screen, to say what to fix
                """() => [...document.querySelectorAll('body *')]
                    .filter(e => (e.getBoundingClientRect().right > innerWidth + 1 || e.scrollWidth > e.clientWidth + 1)
                                 && !e.closest('.tabs, table'))
                    .slice(0, 4).map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 30))"""
            )
            wide[path] = (width, culprits)
    assert not wide, wide
    ctx.close()
