"""The install page never misleads (docs/dashboard.md): on localhost its snippet, pasted as it is
into a page, counts the visit; its identify and goal examples, run as written, produce what they
promise; a refused event shows with its reason and the fix; and the tracker says in the console,
without debug, when it will not run."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from footfall.filtered import flush
from tests.dashboard.test_dashboard import WIDTHS, add_user, browser, log_in, shoot  # noqa: F401
from tests.support.browser import PageServer
from tests.support.servers import AppServer
from tests.tracker.conftest import context, count, html, stored, wait_for

pytestmark = pytest.mark.browser


def wait_for_refusal(server: AppServer, page: Page) -> None:
    """Until the collector's refused events are flushed to `filtered` with their time (the server
    flushes every 10 seconds; the test flushes as it waits)."""
    c = server.app.state.components
    refusals = "SELECT COUNT(*) AS n FROM filtered WHERE last_at IS NOT NULL"
    for _ in range(50):
        flush(server.store, c.filtered, c.clock)
        if server.store.read(lambda tx: tx.one(refusals))["n"]:
            return
        page.wait_for_timeout(100)
    raise AssertionError("no refused event was recorded")


def test_a_local_install_works_as_written(server: AppServer, browser: Browser, backend: str) -> None:  # noqa: F811
    site, _ = server.add_site("localhost")
    add_user(server)
    owner = browser.new_context(viewport=WIDTHS["desktop"])
    tab = owner.new_page()
    log_in(tab, server)
    tab.goto(f"{server.url}/sites/{site}/install")
    snippet = tab.locator("#snippet").inner_text()
    assert 'data-allow-localhost="true"' in snippet and tab.locator("[data-local]").count() == 1
    identify = tab.locator("[data-example=identify]").inner_text()
    goal = tab.locator("[data-example=goal]").inner_text()

    with PageServer({"/": html(snippet, title="Home")}) as web:
        visitor = context(browser)
        page = visitor.new_page()
        page.goto(web.url.replace("127.0.0.1", "localhost") + "/")  # the snippet as pasted, on localhost
        wait_for(server, site, count(1, "pageview"))
        page.evaluate(identify)
        page.evaluate(goal)
        rows = wait_for(server, site, lambda r: count(1, "identify")(r) and count(1, "custom")(r))
        sent = next(r for r in rows if r["type"] == "custom")
        assert sent["name"] == "signup" and '"plan": "pro"' in sent["extra"].replace('":"', '": "')
        person = server.store.read(lambda tx: tx.one("SELECT name, email, user_id FROM people"))
        assert (person["user_id"], person["email"], person["name"]) == ("u-42", "ada@example.com", "Ada Lovelace")

        # the same page on 127.0.0.1: the tracker runs (the snippet allows local addresses), the
        # server refuses the host; the install page says so, why, and what to do
        page.goto(web.url + "/")
        wait_for_refusal(server, page)
        visitor.close()
    tab.reload()
    refused = tab.locator("[data-last-refused]").inner_text()
    assert "The page's host is not the site's" in refused and web.url in refused
    assert "add its host to the site's other allowed hostnames" in tab.locator("[data-fix]").inner_text()
    assert tab.locator("[data-last-event]").inner_text().startswith("Last event received")
    shoot(tab, backend, "install-local")
    owner.close()
    assert [r["type"] for r in stored(server, site)].count("pageview") == 1  # the refused one was not kept


def test_the_tracker_says_why_it_does_not_run(server: AppServer, browser: Browser) -> None:  # noqa: F811
    site, _ = server.add_site("example.com")
    src = f"{server.url}/js/script.js"
    plain = f'<script defer data-website-id="{site}" data-domain="example.com" src="{src}"></script>'
    quiet = plain.replace("<script defer", '<script defer data-disable-console="true"')
    with PageServer({"/": html(plain), "/quiet": html(quiet)}) as web:
        visitor = context(browser)
        page = visitor.new_page()
        lines: list[str] = []
        page.on("console", lambda m: lines.append(m.text))
        page.goto(web.url.replace("127.0.0.1", "localhost") + "/")
        page.wait_for_function("typeof window.footfall === 'function'")
        assert [line for line in lines if line.startswith("[footfall]")] == [
            "[footfall] not tracking: localhost is not tracked (data-allow-localhost)"
        ]
        lines.clear()
        page.goto(web.url.replace("127.0.0.1", "localhost") + "/quiet")
        page.wait_for_function("typeof window.footfall === 'function'")
        assert not [line for line in lines if line.startswith("[footfall]")]
        visitor.close()
