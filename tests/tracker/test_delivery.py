"""The tracker's globals, storage, links, consent and delivery, in real Chromium."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from playwright.sync_api import Browser, Route

from footfall import accounts
from tests.support.browser import PageServer
from tests.support.servers import AppServer
from tests.tracker.conftest import context, count, html, stored, tag, wait_for

pytestmark = pytest.mark.browser

STUBS = """<script>
window.datafast = window.datafast || function () { (window.datafast.q = window.datafast.q || []).push(arguments) };
window.postmetric = window.postmetric
  || function () { (window.postmetric.q = window.postmetric.q || []).push(arguments) };
datafast('first_goal', {n: '1'});
datafast('identify', {user_id: 'early'});
postmetric('second_goal');
datafast('third_goal');
</script>"""


def names(rows: list[dict]) -> list[str | None]:
    return [r["name"] or r["type"] for r in rows if r["type"] != "pageview"]


def test_queued_calls_replay_in_order_and_every_alias_works(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    with PageServer({"/": html(STUBS + tag(server, site))}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        wait_for(server, site, count(3, "custom"))
        tab.evaluate("footfall('via_footfall'); datafast('via_datafast'); postmetric('via_postmetric')")
        tab.evaluate("postMetric('track', 'goal', {event: 'via_postmetric_docs', value: '42'})")
        rows = wait_for(server, site, count(7, "custom"))
        same = tab.evaluate("[footfall, datafast, postmetric, postMetric].every(f => f === footfall)")
        ctx.close()
    # Each stub's queue replays in order (footfall's, then datafast's, then postmetric's).
    assert names(rows) == [
        "first_goal",
        "identify",
        "third_goal",
        "second_goal",
        "via_footfall",
        "via_datafast",
        "via_postmetric",
        "via_postmetric_docs",
    ]
    assert json.loads(rows[-1]["extra"]) == {"eventName": "via_postmetric_docs", "value": "42"}
    assert same


def test_signed_id_persists_in_cookie_and_local_storage(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    with PageServer({"/": html(tag(server, site)), "/b": html(tag(server, site))}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        [first] = wait_for(server, site, count(1))
        vid = first["visitor_id"]
        tab.wait_for_function("document.cookie.includes('datafast_visitor_id=')")  # the reply was handled
        assert tab.evaluate("document.cookie").count(f"datafast_visitor_id={vid}") == 1
        assert tab.evaluate("localStorage.getItem('datafast_visitor_id')") == vid
        assert tab.evaluate("footfall.getVisitorId()") == vid
        assert tab.evaluate("footfall.getSessionId()") == first["session_id"]
        ctx.clear_cookies()  # the cookie is gone; localStorage brings the same id back
        tab.goto(web.url + "/b")
        rows = wait_for(server, site, count(2))
        assert rows[1]["visitor_id"] == vid
        tab.evaluate("localStorage.clear()")  # the cookie was set again by the last reply
        tab.goto(web.url + "/")
        rows = wait_for(server, site, count(3))
        ctx.close()
    assert rows[2]["visitor_id"] == vid


def test_outbound_clicks_are_events(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    with PageServer({}) as other, PageServer({}) as web:
        elsewhere = f"http://localhost:{other.port}/elsewhere"
        web.pages["/"] = html(
            tag(server, site),
            f'<a id="out" href="{elsewhere}">Partner site</a><a id="in" href="/docs">Docs</a>',
        )
        web.pages["/docs"] = web.pages["/"]
        other.pages["/elsewhere"] = html("")
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        wait_for(server, site, count(1))
        tab.click("#in")  # same site: a page view, not an outbound click
        wait_for(server, site, count(2))
        tab.click("#out")  # leaves the page at once: the event still arrives (keepalive / beacon)
        tab.wait_for_url(elsewhere)
        rows = wait_for(server, site, count(1, "external_link"))
        ctx.close()
    assert [r["type"] for r in rows] == ["pageview", "pageview", "external_link"]
    assert json.loads(rows[2]["extra"]) == {"url": elsewhere, "text": "Partner site"}
    assert rows[2]["path"] == "/docs"


def test_links_to_allowed_hostnames_carry_the_visitor_across(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1", allowed_hostnames=("localhost",))
    with PageServer({}) as web:
        script = tag(server, site, allowed_hostnames="localhost")
        landing = f"http://localhost:{web.port}/landing?x=1"
        web.pages["/"] = html(script, f'<a id="cross" href="{landing}">Our shop</a>')
        web.pages["/landing"] = html(script)
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        [first] = wait_for(server, site, count(1))
        tab.click("#cross")
        tab.wait_for_url(landing)  # the ids were read and stripped on arrival
        rows = wait_for(server, site, count(2))
        landed = tab.evaluate("localStorage.getItem('datafast_visitor_id')")
        ctx.close()
    arrival = rows[1]
    assert arrival["hostname"] == "localhost" and arrival["href"] == landing
    assert arrival["visitor_id"] == first["visitor_id"] == landed  # one visitor across both hostnames
    assert arrival["session_id"] == first["session_id"]
    assert [r["type"] for r in rows] == ["pageview", "pageview"]  # not an outbound click


def test_opt_out_flags_are_respected(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    pages = {"/": html(tag(server, site))}
    with PageServer(pages) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        wait_for(server, site, count(1))
        for flag in ("footfall_ignore", "datafast_ignore", "postmetric_ignore"):
            tab.evaluate(f"localStorage.setItem('{flag}', 'true')")
            tab.goto(web.url + f"/?{flag}")
            tab.evaluate("footfall('while_opted_out')")
            tab.evaluate(f"localStorage.removeItem('{flag}')")
        tab.goto(web.url + "/?back")
        rows = wait_for(server, site, count(2))
        ctx.close()
    assert [r["href"].rsplit("/", 1)[1] for r in rows] == ["", "?back"]


@pytest.mark.parametrize("respect", [True, False])
def test_global_privacy_control_follows_the_site_setting(server: AppServer, browser: Browser, respect: bool) -> None:
    site, _ = server.add_site("127.0.0.1")
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"respect_gpc": respect}))
    with PageServer({"/": html(tag(server, site))}) as web:
        ctx = context(browser)
        ctx.add_init_script("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})")
        tab = ctx.new_page()
        responses = []
        tab.on("response", lambda r: "/api/events" in r.url and responses.append(r.headers.get("x-footfall-dropped")))
        tab.goto(web.url + "/")
        tab.wait_for_function("typeof window.footfall === 'function'")
        for _ in range(100):  # the page view's answer, however busy the machine is
            if responses:
                break
            tab.wait_for_timeout(50)
        ctx.close()
    if respect:
        assert stored(server, site) == [] and responses == ["opted_out"]
    else:
        assert len(stored(server, site)) == 1 and responses == [None]


def test_failed_sends_are_retried_and_queued_events_leave_on_page_hide(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    with PageServer({"/": html(tag(server, site)), "/next": html("")}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        failures = []

        def flaky(route: Route) -> None:
            if len(failures) < 2:  # the first two attempts fail: one network error, one 503
                failures.append(route.request.url)
                route.abort() if len(failures) == 1 else route.fulfill(status=503, body="busy")
            else:
                route.continue_()

        tab.route("**/api/events", flaky)
        tab.goto(web.url + "/")
        rows = wait_for(server, site, count(1), tab=tab)  # the route handler runs while Playwright waits
        tab.unroute("**/api/events")
        # Three goals queued behind one another, then the page goes away before they could be sent.
        tab.evaluate("footfall('one'); footfall('two'); footfall('three'); location.href = '/next'")
        rows = wait_for(server, site, count(3, "custom"))
        ctx.close()
    assert len(failures) == 2
    assert sorted(names(rows)) == ["one", "three", "two"]
    assert len({r["visitor_id"] for r in rows}) == 1


def test_console_is_silent_unless_debug(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    pages = {"/": html(tag(server, site)), "/debug": html(tag(server, site, debug="true"))}
    with PageServer(pages) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        logs: list[str] = []
        tab.on("console", lambda m: logs.append(m.text))
        tab.goto(web.url + "/")
        tab.evaluate("footfall('Not Valid')")
        wait_for(server, site, count(1))
        assert [line for line in logs if "footfall" in line] == []
        tab.goto(web.url + "/debug")
        tab.evaluate("footfall('Not Valid')")
        wait_for(server, site, count(2))
        ctx.close()
    assert any(line.startswith("[footfall] invalid goal name") for line in logs)


def test_pixel_url_needs_no_attributes(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    pixel = tag(server, None, src=f"/p/{site}.js")  # only the loopback/automation opt-ins of the tests
    assert "website-id" not in pixel
    with PageServer({"/": html(pixel)}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        [row] = wait_for(server, site, count(1))
        ctx.close()
    assert row["site_id"] == site and row["hostname"] == "127.0.0.1"


def test_localhost_and_iframes_are_not_tracked_unless_allowed(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    with PageServer({}) as web:
        web.pages["/plain"] = html(tag(server, site, allow_localhost=None))  # a loopback page, no opt-in
        web.pages["/framed"] = html(tag(server, site))
        web.pages["/framed-ok"] = html(tag(server, site, allow_iframe="true"))
        web.pages["/host"] = html("", '<iframe src="/framed"></iframe><iframe src="/framed-ok"></iframe>')
        web.pages["/top"] = html(tag(server, site))
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/plain")
        tab.evaluate("footfall('on_localhost')")
        tab.goto(web.url + "/host")
        wait_for(server, site, count(1))
        tab.goto(web.url + "/top")  # the marker: everything before it has had its chance
        rows = wait_for(server, site, count(2))
        ctx.close()
    assert [r["path"] for r in rows] == ["/framed-ok", "/top"]


def test_a_postmetric_tag_keeps_postmetric_cookies(server: AppServer, browser: Browser) -> None:
    """PostMetric's tag names its site `pmid_<id>`: the visitor's ids then live in `_pm_vid` and
    `_pm_sid`, which its users' servers read and pass to /api/v1/payment and /api/v1/goal."""
    site, key = server.add_site("127.0.0.1", scopes=("analytics:read",))
    page = html(tag(server, f"pmid_{site}"))
    with PageServer({"/": page, "/b": page}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        [first] = wait_for(server, site, count(1))
        tab.wait_for_function("document.cookie.includes('_pm_sid=')")
        cookies = {c["name"]: c for c in ctx.cookies()}
        assert cookies["_pm_vid"]["value"] == first["visitor_id"] and "datafast_visitor_id" not in cookies
        assert cookies["_pm_sid"]["value"] == first["session_id"]
        assert 1700 < cookies["_pm_sid"]["expires"] - time.time() <= 1800  # half an hour, renewed by each event
        tab.goto(web.url + "/b")
        rows = wait_for(server, site, count(2))
        ctx.close()
    assert rows[1]["visitor_id"] == first["visitor_id"]
    answer = httpx.get(f"{server.url}/api/v1/visitor", params={"visitorId": cookies["_pm_vid"]["value"]},
                       headers={"authorization": f"Bearer {key}"}).json()["data"]  # fmt: skip
    assert answer["pageViewCount"] == 2
