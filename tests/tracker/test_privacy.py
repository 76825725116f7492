"""Privacy choices in real Chromium: excluded paths and addresses send nothing that is kept, and
truncated addresses are all that is stored."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from footfall import accounts
from tests.support.browser import PageServer
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
    assert server.app.state.components.drops[(site, "excluded_path")] == 1
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
    assert server.app.state.components.drops[(site, "excluded_ip")] == 1
