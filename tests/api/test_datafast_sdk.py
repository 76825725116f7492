"""DataFast's official SDK (npm `datafast`, installed from tests/support/clients/package.json) against
footfall, unchanged but for its `apiUrl` ([T6]): the React Native shape run with node (iOS and
Android, cookies and cookieless) and the web shape in real Chromium (cookies and cookieless).
Every event it sends is stored and read back through DataFast's visitor API."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import missing
from tests.support.browser import PageServer, chromium
from tests.support.collect import EVENTS
from tests.support.servers import UA_CHROME_MAC, AppServer

CLIENTS = Path(__file__).resolve().parents[1] / "support" / "clients"
SDK = CLIENTS / "node_modules" / "datafast"
DOMAIN = "shop.example.com"


@pytest.fixture(scope="session")
def clients() -> Path:
    """tests/support/clients/node_modules, installed with npm from its lock file the first time."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing("node and npm (for the official clients)")
    if not SDK.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENTS, check=True, capture_output=True)
    return CLIENTS


def stored(server: AppServer, site: str) -> list[dict[str, Any]]:
    return server.store.read(lambda tx: tx.all(EVENTS + " WHERE st.id = ? ORDER BY e.id", (site,)))


def visitor(server: AppServer, key: str, visitor_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{server.url}/api/v1/visitors/{visitor_id}", headers={"authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def run_app(clients: Path, server: AppServer, site: str, **config: Any) -> dict[str, Any]:
    config = {"apiUrl": server.url + "/api/events", "appId": site, "domain": DOMAIN} | config
    done = subprocess.run(["node", str(clients / "datafast.mjs"), json.dumps(config)], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["failures"] == [], result["failures"]  # the SDK saw every event accepted
    return result


@pytest.mark.parametrize(
    ("platform", "os_version", "model", "os_name", "kind"),
    [
        ("ios", "18.3", "iPhone15,2", "iOS", "mobile"),
        ("android", "14", "Pixel 8", "Android", "mobile"),
        ("ios", "17.6", "iPad13,18", "iOS", "tablet"),
    ],  # fmt: skip
)
def test_the_react_native_sdk_is_stored_whole(
    server: AppServer, clients: Path, platform: str, os_version: str, model: str, os_name: str, kind: str
) -> None:
    site, key = server.add_site(DOMAIN)
    sent = run_app(clients, server, site, platform=platform, osVersion=os_version, model=model)
    rows = stored(server, site)
    assert [r["type"] for r in rows] == ["pageview", "custom", "identify", "payment"]
    assert rows[0]["path"] == f"/__app/{platform}/Pricing" and rows[1]["name"] == "signup"
    assert len({r["visitor_id"] for r in rows}) == 1
    got = visitor(server, key, sent["visitorId"])  # the app's backend reads it by the SDK's own id
    assert got["identity"]["os"] == {"name": os_name, "version": os_version}
    assert got["identity"]["device"]["type"] == kind and got["identity"]["device"]["model"] == model
    assert [g["name"] for g in got["activity"]["completedGoals"]][:1] == ["signup"]
    assert got["profile"]["userId"] == "u-42"


def test_the_cookieless_app_gets_its_visitor_from_the_server(server: AppServer, clients: Path) -> None:
    site, key = server.add_site(DOMAIN)
    sent = run_app(clients, server, site, platform="android", osVersion="14", model="Pixel 8", cookieless=True)
    rows = stored(server, site)
    assert [r["type"] for r in rows] == ["pageview", "custom", "identify", "payment"]
    assert len({r["visitor_id"] for r in rows}) == 1  # each payload's random id gave way to the server's
    assert sent["visitorId"] == rows[0]["visitor_id"]  # read back from the answer, as the SDK does
    assert visitor(server, key, sent["visitorId"])["activity"]["pageViewCount"] == 1


WEB_PAGE = """<!doctype html><html><head><title>Pricing</title></head><body><h1>Pricing</h1>
<script type="module">
import {{ initDataFast }} from "/datafast.mjs";
const client = await initDataFast({{ websiteId: "{site}", domain: "127.0.0.1", apiUrl: "{api}",
                                     allowLocalhost: true, cookieless: {cookieless} }});
await client.trackPageview();
await client.track("signup", {{ plan: "pro" }});
await client.identify("u-7", {{ name: "Lin Wu", email: "lin@acme-corp.com" }});
await client.trackPayment({{ email: "lin@acme-corp.com", amount: 49, currency: "USD" }});
await client.flush();
window.__sent = {{ visitorId: client.getVisitorId() }};
</script></body></html>"""


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    # a person's Chrome: the SDK stops in a browser that says it is driven (navigator.webdriver)
    with chromium(chromium_path, UA_CHROME_MAC, ("--disable-blink-features=AutomationControlled",)) as b:
        yield b


@pytest.mark.parametrize("cookieless", [False, True])
def test_the_web_sdk_in_chromium_is_stored_whole(
    server: AppServer, clients: Path, browser: Any, cookieless: bool
) -> None:
    site, key = server.add_site("127.0.0.1")
    page = WEB_PAGE.format(site=site, api=server.url + "/api/events", cookieless=str(cookieless).lower())
    pages = {"/pricing": page, "/datafast.mjs": (SDK / "dist" / "web" / "index.mjs").read_text()}
    with PageServer(pages) as web:
        ctx = browser.new_context()
        tab = ctx.new_page()
        tab.goto(web.url + "/pricing")
        tab.wait_for_function("window.__sent !== undefined", timeout=15_000)
        sent = tab.evaluate("window.__sent")
        ctx.close()
    rows = stored(server, site)
    assert sorted(r["type"] for r in rows) == ["custom", "identify", "pageview", "payment"]
    assert len({r["visitor_id"] for r in rows}) == 1 and rows[0]["browser"] == "Chrome"
    got = visitor(server, key, rows[0]["visitor_id"])
    assert got["activity"]["pageViewCount"] == 1 and got["identity"]["os"]["name"] == "Mac OS X"
    if not cookieless:  # the SDK keeps its own id in the cookie: the visitor API answers to it
        assert visitor(server, key, sent["visitorId"])["profile"]["userId"] == "u-7"
