"""Fixtures for the tracker's tests in real Chromium: one browser per module, pages on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.support.browser import chromium
from tests.support.collect import EVENTS
from tests.support.servers import UA_CHROME_MAC, AppServer


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with chromium(chromium_path, user_agent=UA_CHROME_MAC) as b:
        yield b


# The tracker has handled the server's reply (it keeps the visitor id it was given). A page left
# before that starts a browser the server can only presume is the same one (identity/devices.py).
REPLIED = "document.cookie.includes('datafast_session_id=')"


def tag(server: AppServer, site: str | None, src: str = "/js/script.js", **attrs: str) -> str:
    """The script tag a site owner pastes, with the opt-in tests need (loopback). Test sites keep
    automated traffic (tests/support/servers.py), so Playwright's browser is counted."""
    base = {"allow-localhost": "true"}
    if site:
        base |= {"website-id": site, "domain": "127.0.0.1"}
    base |= {k.replace("_", "-"): v for k, v in attrs.items()}
    data = " ".join(f'data-{k}="{v}"' for k, v in base.items() if v is not None)
    return f'<script defer {data} src="{server.url}{src}"></script>'


def html(head: str, body: str = "", title: str = "Page") -> str:
    return f"<!doctype html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>"


def stored(server: AppServer, site: str) -> list[dict[str, Any]]:
    return server.store.read(lambda tx: tx.all(EVENTS + " WHERE st.id = ? ORDER BY e.id", (site,)))


def wait_for(
    server: AppServer,
    site: str,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 10,
    tab: Page | None = None,
) -> list[dict[str, Any]]:
    """The site's stored events once `until(rows)` holds; fails with what was stored if it never does.

    With `tab`, waits inside Playwright so that the tab's route handlers keep running.
    """
    deadline = time.monotonic() + timeout
    while True:
        rows = stored(server, site)
        if until(rows):
            return rows
        if time.monotonic() > deadline:
            summary = [(r["type"], r["name"], r["path"]) for r in rows]
            raise AssertionError(f"not stored within {timeout}s; stored: {summary}")
        tab.wait_for_timeout(50) if tab else time.sleep(0.05)


def count(n: int, type_: str | None = None) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda rows: len([r for r in rows if type_ is None or r["type"] == type_]) >= n


def context(browser: Browser, **kw: Any) -> Any:
    return browser.new_context(user_agent=UA_CHROME_MAC, viewport={"width": 1200, "height": 800}, **kw)
