"""End to end: a Floqer source made through the API, its pixel_script pasted as is into a page that
real Chromium loads, the visitor identifies in the page, and the mapped row reaches the receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from footfall import accounts
from tests.api.test_floqer import PERSONAL, Floqer, account_key
from tests.support.browser import PageServer, chromium
from tests.support.receiver import Receiver
from tests.support.servers import TEST_SITE_SETTINGS, UA_CHROME_MAC, AppServer
from tests.tracker.conftest import context, count, html, wait_for

pytestmark = pytest.mark.browser

DOMAIN = "shop.example.com"
# The page is the owner's site: its name resolves to loopback inside this browser only, and the
# browser does not announce automation, so the pixel runs as on a visitor's machine.
FLAGS = (f"--host-resolver-rules=MAP {DOMAIN} 127.0.0.1", "--disable-blink-features=AutomationControlled")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def test_pixel_to_identified_row_to_workflow(server: AppServer, chromium_path: str, receiver: Receiver) -> None:
    api = Floqer(server, account_key(server))
    source = api.ok("POST", f"/sources/{PERSONAL}", {"name": "Website people", "active_domain": DOMAIN}, expect=201)
    workflow = api.webhook(receiver, ["email", "first_name", "page"])
    mapping = {"input.email": "email", "input.first_name": "firstName", "input.page": "pageUrl"}
    sync = {"workflow_id": workflow["id"], "field_mapping": mapping}
    api.ok("POST", f"/sources/{source['source_instance_id']}/sync", sync)
    # this headless Chromium says it is a Mac: a site made through the API filters it, a test's keeps it
    server.store.write(lambda tx: accounts.update_site_settings(tx, source["pixel_id"], TEST_SITE_SETTINGS))
    page = html(source["pixel_script"], "<h1>Pricing</h1>", title="Pricing")
    with PageServer({"/pricing": page}) as web, chromium(chromium_path, UA_CHROME_MAC, FLAGS) as browser:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(f"http://{DOMAIN}:{web.port}/pricing?utm_source=newsletter")
        wait_for(server, source["pixel_id"], count(1))
        tab.evaluate("footfall('identify', {userId: 'u-42', email: 'ada@acme.com', name: 'Ada Lovelace'})")
        [got] = receiver.wait(1).values()
        ctx.close()
    assert got.json()["inputs"] == {
        "email": "ada@acme.com",
        "first_name": "Ada",
        "page": f"http://{DOMAIN}:{web.port}/pricing?utm_source=newsletter",
    }
    [row] = api.ok("GET", f"/sources/{source['source_instance_id']}/data")["rows"]
    assert (row["utmSource"], row["pageTitle"], row["lastName"]) == ("newsletter", "Pricing", "Lovelace")
