"""Privacy choices in real Chromium: excluded paths, addresses, countries and hostnames send
nothing that is kept; truncated addresses are all that is stored; retention purges old visits."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser

from footfall import accounts
from footfall.retention import purge
from tests.support.browser import PageServer
from tests.support.geo_dbs import LONDON_IP, TOKYO_IP
from tests.support.servers import AppServer
from tests.tracker.conftest import context, count, html, tag, wait_for

pytestmark = pytest.mark.browser


def test_excluded_paths_are_dropped_and_addresses_truncated(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    changes = accounts.privacy_changes({"exclude_paths": "/admin/*"}) | {"truncate_ips": True}
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, changes))
    pages = {p: html(tag(server, site), title=p) for p in ("/admin/users", "/pricing")}
    with PageServer(pages) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/admin/users")
        tab.wait_for_timeout(500)  # its page view was sent (and dropped)
        tab.goto(web.url + "/pricing")
        rows = wait_for(server, site, count(1))
        ctx.close()
    assert [r["path"] for r in rows] == ["/pricing"]
    assert server.app.state.components.filtered.pending(site, "excluded_path") == 1
    stored = server.store.read(lambda tx: tx.all("SELECT ip FROM events"))
    assert [s["ip"] for s in stored] == ["127.0.0.0"]  # 127.0.0.1 cut to its /24


def test_an_excluded_address_sends_nothing_that_is_kept(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    other, _ = server.add_site("localhost")
    changes = accounts.privacy_changes({"exclude_ips": "127.0.0.0/8"})
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, changes))
    with PageServer({"/": html(tag(server, site)), "/control": html(tag(server, other, domain="localhost"))}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        tab.goto(web.url.replace("127.0.0.1", "localhost") + "/control")  # the same browser, a site without it
        wait_for(server, other, count(1))
        ctx.close()
    assert wait_for(server, site, lambda rows: True) == []
    assert server.app.state.components.filtered.pending(site, "excluded_ip") == 1


def test_excluded_countries_and_hostnames(server: AppServer, browser: Browser) -> None:
    """Browsers seen from London (through the trusted proxy header) and a staging hostname."""
    site, _ = server.add_site("127.0.0.1", allowed_hostnames=("localhost",))
    changes = accounts.privacy_changes({"exclude_countries": "GB", "exclude_hostnames": "localhost"})
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, changes))
    with PageServer({"/": html(tag(server, site)), "/tokyo": html(tag(server, site))}) as web:
        london = context(browser, extra_http_headers={"x-forwarded-for": LONDON_IP})
        london.new_page().goto(web.url + "/")
        staging = context(browser, extra_http_headers={"x-forwarded-for": TOKYO_IP})
        staging.new_page().goto(web.url.replace("127.0.0.1", "localhost") + "/")
        tokyo = context(browser, extra_http_headers={"x-forwarded-for": TOKYO_IP})
        tokyo.new_page().goto(web.url + "/tokyo")
        rows = wait_for(server, site, count(1))
        for ctx in (london, staging, tokyo):
            ctx.close()
    drops = server.app.state.components.filtered
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (
        drops.pending(site, "excluded_country") and drops.pending(site, "excluded_hostname")
    ):
        time.sleep(0.05)  # the other two pages' events arrive in their own time
    assert drops.pending(site, "excluded_country") == 1 and drops.pending(site, "excluded_hostname") == 1
    assert [(r["path"], r["country_code"]) for r in wait_for(server, site, count(1))] == [("/tokyo", "JP")]
    assert rows


def test_retention_purges_what_chromium_recorded_long_ago(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    with PageServer({"/old": html(tag(server, site)), "/new": html(tag(server, site))}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/old")
        wait_for(server, site, count(1))
        server.clock.advance(minutes=40 * 24 * 60)
        tab.goto(web.url + "/new")
        wait_for(server, site, count(2))
        ctx.close()
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"retention_days": 30}))
    assert purge(server.store, server.clock) > 0
    assert [r["path"] for r in wait_for(server, site, count(1))] == ["/new"]
    assert server.store.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM sessions"))["n"] == 1
