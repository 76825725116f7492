"""End to end in real Chromium: snippet on a page -> page view stored -> read back through the API."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.browser import PageServer, chromium
from tests.support.collect import EVENTS
from tests.support.geo_dbs import LONDON_IP
from tests.support.servers import UA_CHROME_MAC, AppServer

pytestmark = pytest.mark.browser


def page(server: AppServer, site: str, title: str) -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        f'<script defer data-website-id="{site}" data-domain="127.0.0.1" data-allow-localhost="true" '
        f'src="{server.url}/js/script.js"></script></head><body><h1>{title}</h1></body></html>'
    )


def wait_for(server: AppServer, site: str, count: int, timeout: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        rows = server.store.read(lambda tx: tx.all(EVENTS + " WHERE st.id = ? ORDER BY e.id", (site,)))
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_page_view_in_chromium_is_stored_and_read_back(server: AppServer, chromium_path: str) -> None:
    site, key = server.add_site("127.0.0.1")
    with (
        PageServer({"/": page(server, site, "Home"), "/docs": page(server, site, "Docs")}) as pages,
        chromium(chromium_path) as browser,
    ):
        context = browser.new_context(
            user_agent=UA_CHROME_MAC,
            viewport={"width": 1280, "height": 720},
            extra_http_headers={"x-forwarded-for": LONDON_IP},
        )
        tab = context.new_page()
        tab.goto(pages.url + "/?utm_source=newsletter&utm_medium=email&ref=launch")
        [first] = wait_for(server, site, 1)
        tab.evaluate("history.pushState({}, '', '/pricing')")
        assert len(wait_for(server, site, 2)) == 2

        vid = first["visitor_id"]
        tab.wait_for_function("document.cookie.includes('datafast_visitor_id=')")  # the reply was handled
        stored_id = tab.evaluate("document.cookie.match(/datafast_visitor_id=([^;]+)/)[1]")
        assert stored_id == vid == tab.evaluate("localStorage.getItem('datafast_visitor_id')")

        server.clock.advance(minutes=31)  # idle past the session timeout
        tab.goto(pages.url + "/docs")
        rows = wait_for(server, site, 3)
        assert len(rows) == 3 and {r["visitor_id"] for r in rows} == {vid}
        assert rows[0]["session_id"] == rows[1]["session_id"] != rows[2]["session_id"]
        context.close()

    r = httpx.get(f"{server.url}/api/v1/visitors/{vid}", headers={"authorization": f"Bearer {key}"})
    data = r.json()["data"]
    identity, activity = data["identity"], data["activity"]
    assert identity["browser"] == {"name": "Chrome", "version": "126.0.0"}
    assert identity["os"]["name"] == "Mac OS X" and identity["device"]["type"] == "desktop"
    assert identity["viewport"] == {"width": 1280, "height": 720}
    assert identity["city"] == "London" and identity["countryCode"] == "GB"
    assert identity["params"]["utm_source"] == "newsletter" and identity["params"]["ref"] == "launch"
    assert activity["visitCount"] == 2 and activity["pageViewCount"] == 3
    host = "127.0.0.1"
    assert [p["url"] for p in activity["visitedPages"]] == [f"{host}/", f"{host}/pricing", f"{host}/docs"]
    assert rows[0]["title"] == "Home" and rows[0]["channel"] == "Email"
