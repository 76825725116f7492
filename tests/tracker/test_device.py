"""Device signals in real Chromium: stable for one browser, different for another, off when the site says so."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser

from footfall import accounts
from tests.support.browser import PageServer
from tests.support.fingerprint import fingerprint_key, sdk
from tests.support.servers import UA_CHROME_MAC, UA_IPHONE, AppServer
from tests.tracker.conftest import REPLIED, context, count, html, tag, wait_for

pytestmark = pytest.mark.browser


def first_visit(browser: Browser, url: str, server: AppServer, site: str, n: int) -> dict:
    """The stored event of a first visit from a new context (no cookies, no storage)."""
    ctx = context(browser)
    tab = ctx.new_page()
    tab.goto(url)
    rows = wait_for(server, site, count(n))
    tab.wait_for_function(REPLIED)  # the reply arrived
    ctx.close()
    return rows[-1]


def test_signals_survive_cleared_storage_and_tell_devices_apart(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    with PageServer({"/": html(tag(server, site))}) as web:
        first = first_visit(browser, web.url + "/", server, site, 1)
        # A new context: no cookies, no storage, as after clearing them or in a private window.
        again = first_visit(browser, web.url + "/?again", server, site, 2)
        ctx = browser.new_context(
            user_agent=UA_IPHONE,
            locale="fr-FR",
            timezone_id="America/New_York",
            viewport={"width": 390, "height": 700},
            screen={"width": 390, "height": 844},
            device_scale_factor=3,
        )
        tab = ctx.new_page()
        tab.context.new_cdp_session(tab).send("Emulation.setHardwareConcurrencyOverride", {"hardwareConcurrency": 3})
        tab.goto(web.url + "/?other")
        other = wait_for(server, site, count(3))[-1]
        ctx.close()
    components = json.loads(first["device"])["c"]
    assert len(first["device_hash"]) == 8 and first["device_hash"] == again["device_hash"]
    assert json.loads(again["device"])["c"] == components
    assert len(components["cv"]) == 8 and components["tz"] == "UTC" and components["hc"] > 0
    assert other["device_hash"] != first["device_hash"]
    changed = json.loads(other["device"])["c"]
    assert changed["tz"] == "America/New_York" and changed["lg"].startswith("fr-FR") and changed["hc"] == 3
    assert changed["sc"].startswith("390x844") and changed["sc"].endswith("x3")


def test_a_site_can_turn_device_signals_off(server: AppServer, browser: Browser) -> None:
    tagged, _ = server.add_site("127.0.0.1")
    site, _ = server.add_site("localhost")
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"device_signals": False}))
    with PageServer({}) as web:
        web.pages["/attr"] = html(tag(server, tagged, disable_device="true"))  # the tag's own switch
        web.pages["/pixel"] = html(tag(server, None, src=f"/p/{site}.js"))  # the site setting, via the preset
        web.pages["/plain"] = html(tag(server, site, domain="localhost"))  # the site setting, on the server
        ctx = context(browser)
        tab = ctx.new_page()
        sent: list[dict] = []
        tab.on("request", lambda r: "/api/events" in r.url and sent.append(json.loads(r.post_data or "{}")))
        tab.goto(web.url + "/attr")
        [attr] = wait_for(server, tagged, count(1))
        local = f"http://localhost:{web.port}"
        tab.goto(local + "/pixel")
        wait_for(server, site, count(1))
        ctx.close()
        ctx = context(browser)  # a new visitor, so its session starts with the plain tag's event
        tab = ctx.new_page()
        tab.on("request", lambda r: "/api/events" in r.url and sent.append(json.loads(r.post_data or "{}")))
        tab.goto(local + "/plain")
        rows = wait_for(server, site, count(2))
        ctx.close()
    assert rows[0]["session_id"] != rows[1]["session_id"]
    assert attr["device_hash"] is None and [(r["device_hash"], r["device"]) for r in rows] == [(None, None)] * 2
    assert ["ffSignals" in body for body in sent] == [False, False, True]  # the plain tag collects; the server forgets


def test_device_call_answers_like_fingerprints_agent(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    with PageServer({"/": html(tag(server, site))}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        answer = tab.evaluate("footfall('device', {linkedId: 'order-42', tag: {plan: 'pro', seats: 3}})")
        cookie_id = tab.evaluate("footfall.getVisitorId()")
        ctx.close()
    rows = server.store.read(lambda tx: tx.all("SELECT * FROM identifications ORDER BY ts, request_id"))
    assert set(answer) == {"visitorId", "requestId", "visitorFound", "confidence"}
    assert answer["visitorId"] == cookie_id and answer["visitorFound"] is True  # the page view came first
    assert answer["confidence"] == {"score": 1.0}
    # The page view carried device signals: an identification too. (The test clock stands still, so
    # both have the same ts: tell them apart by request id.)
    [call] = [r for r in rows if r["request_id"] == answer["requestId"]]
    [page_view] = [r for r in rows if r is not call]
    assert page_view["visitor_found"] == 0 and page_view["linked_id"] is None and page_view["device_hash"]
    assert call["request_id"] == answer["requestId"] and call["linked_id"] == "order-42"
    assert json.loads(call["tag"]) == {"plan": "pro", "seats": 3} and call["visitor_found"] == 1
    assert call["device_hash"] == page_view["device_hash"] and call["webdriver"] == 1  # Playwright says so
    assert call["url"] == web.url + "/" and call["user_agent"].startswith("Mozilla/5.0")


def test_visits_recorded_in_chromium_read_back_through_fingerprints_sdk(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    with PageServer({"/": html(tag(server, site)), "/checkout": html(tag(server, site))}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        first = tab.evaluate("footfall('device', {linkedId: 'cart-7'})")
        server.clock.advance(seconds=5)
        tab.goto(web.url + "/checkout")
        second = tab.evaluate("footfall('device', {linkedId: 'cart-7', tag: {step: 'pay'}})")
        ctx.close()
    api = sdk(server, fingerprint_key(server, site))
    response = api.get_visits(first["visitorId"], linked_id="cart-7")
    assert [v.request_id for v in response.visits] == [second["requestId"], first["requestId"]]
    newest = response.visits[0]
    assert newest.url == web.url + "/checkout" and newest.tag == {"step": "pay"} and newest.ip == "127.0.0.1"
    assert newest.browser_details.browser_name == "Chrome" and newest.browser_details.user_agent == UA_CHROME_MAC
    assert newest.visitor_found is True and newest.last_seen_at.subscription is not None
    everything = api.get_visits(first["visitorId"])  # the two page loads are identifications too
    assert len(everything.visits) == 4


def test_cleared_storage_and_a_private_context_come_back_to_the_visitor(server: AppServer, browser: Browser) -> None:
    """In Chromium: a visit, then the same browser without its cookies and storage (a new context,
    as after clearing them or in a private window): presumed the same visitor, found by device
    match, while the browser keeps an id of its own and is never handed the visitor's."""
    site, _ = server.add_site("127.0.0.1")
    with PageServer({"/": html(tag(server, site))}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        before = tab.evaluate("footfall('device')")
        ctx.close()
        server.clock.advance(minutes=3)
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        after = tab.evaluate("footfall('device')")
        kept = tab.evaluate("footfall.getVisitorId()")
        ctx.close()
    assert after["visitorFound"] is True and after["visitorId"] == kept != before["visitorId"]
    assert after["confidence"]["score"] == 0.99  # same signature, IP and user agent, within a day
    aliases = server.store.read(lambda tx: tx.all("SELECT v.id FROM visitors v WHERE v.alias_of IS NOT NULL"))
    assert [a["id"] for a in aliases] == [kept]
    visits = sdk(server, fingerprint_key(server, site)).get_visits(before["visitorId"]).visits
    assert {after["requestId"], before["requestId"]} <= {v.request_id for v in visits} and len(visits) == 4


def test_consent_required_sites_get_device_signals_only_after_consent(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"consent_required": True}))
    with PageServer({}) as web:
        web.pages["/pixel"] = html(tag(server, None, src=f"/p/{site}.js"))  # the preset says: ask first
        web.pages["/plain"] = html(tag(server, site))  # a tag that does not know: the server forgets
        ctx = context(browser)
        tab = ctx.new_page()
        sent: list[dict] = []
        tab.on("request", lambda r: "/api/events" in r.url and sent.append(json.loads(r.post_data or "{}")))
        tab.goto(web.url + "/plain")
        wait_for(server, site, count(1))
        tab.goto(web.url + "/pixel")
        wait_for(server, site, count(2))
        tab.evaluate("footfall('consent', true)")
        tab.evaluate("footfall('after_consent')")
        wait_for(server, site, count(1, "custom"))
        tab.goto(web.url + "/pixel?next")  # consent is remembered: the next page view carries them at once
        wait_for(server, site, count(3, "pageview"))
        ctx.close()
    carried = [("ffSignals" in body, body.get("consent", False)) for body in sent]
    assert carried == [(True, False), (False, False), (True, True), (True, True)]
    rows = server.store.read(lambda tx: tx.all("SELECT * FROM identifications"))
    assert len(rows) == 2 and all(r["device_hash"] for r in rows)  # the plain tag's signals were dropped
