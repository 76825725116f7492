"""The dashboard in real Chromium: log in, every page with data recorded through the tracker,
filters and date ranges that change the numbers as the API does, keys and workflows made from the
UI, forged posts refused, and screenshots of every page at desktop and phone widths."""

from __future__ import annotations

import csv
import random
import re
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from footfall import accounts
from footfall.dashboard import users
from footfall.filtered import flush
from footfall.scoring.scorer import Scoring
from tests.api.test_floqer import Floqer, account_key, identify
from tests.support.browser import PageServer, chromium
from tests.support.collect import event, post
from tests.support.receiver import Receiver
from tests.support.servers import UA_CHROME_MAC, UA_IPHONE, AppServer
from tests.support.shop import replay as shop
from tests.support.shop import visit
from tests.tracker.conftest import REPLIED, context, count, html, tag, wait_for

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "owner@shop.example.com", "correct horse battery staple"
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with chromium(chromium_path, user_agent=UA_CHROME_MAC) as b:
        yield b


def add_user(server: AppServer) -> None:
    def go(tx: Any) -> None:
        account, _ = accounts.ensure_account(tx, "test", server.clock.now_ms())
        users.add_user(tx, account["id"], EMAIL, PASSWORD, server.clock.now_ms())

    server.store.write(go)


def log_in(tab: Page, server: AppServer) -> None:
    tab.goto(server.url + "/")
    assert "/login" in tab.url  # not logged in: sent to the login form
    tab.fill("#email", EMAIL)
    tab.fill("#password", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(re.compile(r"/sites/"))


def api(server: AppServer, key: str, path: str, **params: Any) -> Any:
    answer = httpx.get(f"{server.url}/api/v1{path}", params=params, headers={"authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def stat(tab: Page, name: str) -> str:
    return tab.locator(f"[data-stat={name}]").inner_text().strip()


def not_blank(png: bytes) -> bool:
    """A PNG with more than a handful of distinct byte values in its pixel data (a blank page has ~2)."""
    pos, data = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        if kind == b"IDAT":
            data += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return len(set(zlib.decompress(data))) > 16


def shoot(tab: Page, backend: str, name: str) -> None:
    """The page at desktop and phone widths, written to artifacts/screenshots and checked."""
    folder = SHOTS / backend
    folder.mkdir(parents=True, exist_ok=True)
    for label, size in WIDTHS.items():
        tab.set_viewport_size(size)
        png = tab.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
        assert not_blank(png), f"{name} at {label} width is blank"
    tab.set_viewport_size(WIDTHS["desktop"])


def record(server: AppServer, browser: Browser, site: str, key: str) -> None:
    """Two visitors through the tracker: Lin reads pricing, signs up and identifies (then pays through
    the API); another reads the home page and the blog."""
    pages = {p: html(tag(server, site), title=p) for p in ("/", "/pricing", "/blog")}
    with PageServer(pages) as web:
        lin = context(browser)
        tab = lin.new_page()
        tab.goto(web.url + "/pricing?utm_source=newsletter&utm_medium=email")
        wait_for(server, site, count(1))
        tab.evaluate("footfall('signup', {plan: 'pro'})")
        wait_for(server, site, count(2))
        tab.evaluate("footfall('identify', {userId: 'u-7', email: 'lin@acme-corp.com', name: 'Lin Wu'})")
        wait_for(server, site, count(3))
        lin.close()
        other = browser.new_context(  # another person's phone
            user_agent=UA_IPHONE, viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True
        )
        tab = other.new_page()
        tab.goto(web.url + "/")
        wait_for(server, site, count(4))
        tab.wait_for_function(REPLIED)  # the phone keeps the id it was given before moving on
        tab.goto(web.url + "/blog")
        wait_for(server, site, count(5))
        other.close()
    visitor = server.store.read(
        lambda tx: tx.one("SELECT v.id FROM visitors v JOIN people p ON p.num = v.person_num WHERE p.user_id = 'u-7'")
    )["id"]
    pay = {"amount": 49, "currency": "USD", "transaction_id": "t1", "datafast_visitor_id": visitor}
    paid = httpx.post(f"{server.url}/api/v1/payments", json=pay, headers={"authorization": f"Bearer {key}"})
    assert paid.status_code == 200, paid.text


def test_every_page_shows_what_the_tracker_recorded(server: AppServer, browser: Browser, backend: str) -> None:
    site, key = server.add_site("127.0.0.1", scopes=("analytics:read", "payments:write"))
    add_user(server)
    record(server, browser, site, key)
    ctx = browser.new_context(viewport=WIDTHS["desktop"])
    tab = ctx.new_page()
    log_in(tab, server)
    base = f"{server.url}/sites/{site}"

    # overview: the API's numbers, for the site's last 30 days
    tab.goto(base + "/")
    expected = api(server, key, "/analytics/overview", startAt=_days_ago(server, 29), endAt=_days_ago(server, 0))
    totals = expected["data"][0]
    assert stat(tab, "visitors") == "2" == str(totals["visitors"])
    assert stat(tab, "sessions") == str(totals["sessions"]) and stat(tab, "pageviews") == "3"
    assert stat(tab, "revenue") == "49 USD"
    assert tab.locator("#chart-title").text_content() == "Visitors and visits"
    assert (tab.locator("svg.chart circle.dot-0 title").last.text_content() or "").endswith(": 2 visitors")  # today
    for text in ("/pricing", "/blog", "newsletter / email", "signup"):
        assert tab.get_by_text(text, exact=False).count() >= 1, text
    shoot(tab, backend, "overview")
    # a filter from a panel's row: only the visitor who saw /pricing is left, as the API counts it
    tab.get_by_role("link", name="/pricing").first.click()
    tab.wait_for_url(re.compile("filter_page"))
    filtered = api(server, key, "/analytics/overview", filter_page="is:/pricing")["data"][0]
    assert stat(tab, "visitors") == "1" == str(filtered["visitors"])
    assert tab.locator(".chip").inner_text().startswith("page is:/pricing")
    tab.locator(".chip").click()  # removing it
    assert stat(tab, "visitors") == "2"
    # date ranges: a custom range before anything happened, then today
    tab.select_option("#period", "custom")
    tab.fill("#startAt", "2001-01-01")
    tab.fill("#endAt", "2001-01-31")
    tab.click("form.range button")
    assert stat(tab, "visitors") == "0" and tab.get_by_text("No visits in this range").count() == 1
    tab.select_option("#period", "today")
    tab.click("form.range button")
    assert stat(tab, "visitors") == "2"

    tab.goto(base + "/realtime")
    assert tab.locator("[data-stat=live]").inner_text() == "2"
    assert sorted(tab.locator("tbody td.url").all_inner_texts()) == ["/blog", "/pricing"]  # paths, not URLs
    assert tab.get_by_text("Lin Wu").count() >= 1 and tab.get_by_text("customer").count() >= 1
    shoot(tab, backend, "realtime")

    tab.goto(base + "/people")
    tab.get_by_role("link", name="Lin Wu").click()
    tab.wait_for_url(re.compile("/people/"))
    assert tab.get_by_text("lin@acme-corp.com").count() >= 1
    assert tab.get_by_text("acme-corp.com").count() >= 1 and tab.get_by_text("49 USD").count() == 1
    assert tab.get_by_text("signup").count() >= 1 and tab.get_by_text("/pricing").count() >= 1
    # one payment: lead scores are not made up, the page says what is missing
    assert "1 of the 40 converting visitors" in tab.locator("[data-scoring=learning]").inner_text()
    shoot(tab, backend, "person")
    tab.goto(base + "/people?q=nobody")
    assert tab.get_by_text("Nobody matches").count() == 1
    tab.goto(base + "/people?q=lin")
    assert tab.get_by_role("link", name="Lin Wu").count() == 1
    assert tab.locator("p[data-scoring=learning]").inner_text().startswith("Lead scores: Not enough data yet")
    shoot(tab, backend, "people")

    tab.goto(base + "/companies")
    assert tab.get_by_text("acme-corp.com").count() >= 1
    shoot(tab, backend, "companies")

    tab.goto(base + "/visitors")
    assert tab.locator("tbody tr").count() == 2
    # short ids from the random end of the ids (their start is the time: visitors of one minute shared it)
    links = tab.locator("tbody [data-visitor]")  # each opens the visitor's page, by its whole id
    shown = [(c.inner_text(), (c.get_attribute("href") or "").rsplit("/", 1)[1]) for c in links.all()]
    assert len({s for s, _ in shown}) == 2 and all(full.endswith(short) and len(short) == 8 for short, full in shown)
    assert tab.locator("tbody tr", has_text="Lin Wu").count() == 1 and tab.get_by_text("Anonymous").count() == 1
    tab.fill("#page", "/pricing")
    tab.click("form.inline button")
    assert tab.locator("tbody tr").count() == 1
    shoot(tab, backend, "visitors")

    tab.goto(base + "/install")
    assert site in tab.locator("#snippet").inner_text()
    assert tab.locator("[data-last-event]").inner_text().startswith("Last event received")
    tag = re.search(r'src="([^"]+)"', tab.locator("#snippet").inner_text())
    assert tag is not None
    printed = [*tab.locator("[data-url]").all_inner_texts(), tag[1]]  # every URL the page prints
    assert len(printed) == 3 and all(url.startswith(server.url) for url in printed)
    assert [httpx.get(url, headers={"referer": "https://example.com/"}).status_code for url in printed] == [200] * 3
    shoot(tab, backend, "install")

    tab.goto(base + "/contacts")
    tab.fill("#csv", "email,name,company\nada@analytical.org,Ada Lovelace,Analytical Engines\n")
    tab.click("form.stack button")
    assert tab.locator("[data-imported]").inner_text().startswith("Contacts: 1 new")
    assert api(server, key, "/people", email="ada@analytical.org")["data"][0]["name"] == "Ada Lovelace"
    shoot(tab, backend, "contacts")

    # filtered traffic: a crawler's and a script's hits, with the reason in words and their samples
    for ua in ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "python-requests/2.32.3"):
        post(server.url, event(site, "http://127.0.0.1/pricing"), ua=ua)
    c = server.app.state.components
    flush(server.store, c.filtered, c.clock)
    tab.goto(base + "/filtered")
    assert tab.get_by_text("Crawler, monitor or script").count() >= 1
    assert tab.locator("table.by-day tbody tr", has_text="Googlebot").count() == 1
    assert tab.locator("table.by-day tbody tr", has_text="python-requests").count() == 1
    tab.locator("details summary").first.click()
    assert tab.get_by_text("python-requests/2.32.3", exact=True).count() == 1
    shoot(tab, backend, "filtered")

    tab.goto(base + "/settings")
    tab.fill("#conversion_goals", "signup, demo")
    tab.check("input[name=respect_gpc]")
    tab.click("form.stack button")
    assert tab.get_by_text("Saved.").count() == 1
    saved = server.store.read(lambda tx: accounts.get_site(tx, site))
    assert saved is not None and saved.settings["conversion_goals"] == ["signup", "demo"]
    assert saved.settings["respect_gpc"] is True and saved.settings["device_signals"] is True
    shoot(tab, backend, "settings")

    tab.goto(base + "/workflows")
    shoot(tab, backend, "workflows")
    tab.goto(server.url + "/keys")
    shoot(tab, backend, "keys")
    tab.goto(server.url + "/sites")
    shoot(tab, backend, "sites")
    ctx.close()
    login = browser.new_context(viewport=WIDTHS["desktop"])
    tab = login.new_page()
    tab.goto(server.url + "/login")
    shoot(tab, backend, "login")
    login.close()


def test_keys_and_workflows_are_made_from_the_ui(server: AppServer, browser: Browser, backend: str) -> None:
    floqer = Floqer(server, account_key(server))
    site = floqer.source()["pixel_id"]  # a Floqer source of people for shop.example.com
    identify(server, floqer, site, 1, email="ana@acme-corp.com")
    add_user(server)
    ctx = browser.new_context(viewport=WIDTHS["desktop"])
    tab = ctx.new_page()
    log_in(tab, server)
    tab.goto(server.url + "/keys")
    tab.fill("#key-name", "reporting")
    tab.select_option("#key-site", site)
    tab.check("input[value='analytics:read']")
    tab.check("input[value='workflows:read']")
    tab.click("form.stack button")
    key = tab.locator("#new-key").inner_text().strip()
    assert api(server, key, "/analytics/overview")["status"] == "success"
    assert tab.get_by_text("analytics:read workflows:read").count() == 1

    with Receiver() as receiver:
        tab.goto(f"{server.url}/sites/{site}/workflows")
        tab.fill("#name", "to the CRM")
        tab.fill("#url", receiver.url + "/hook")
        tab.fill("#inputs", "email, lead_score")
        tab.click("form.stack button")
        assert len(tab.locator("#secret").inner_text().strip()) >= 16  # the signing secret, shown once
        made = httpx.get(f"{server.url}/api/v1/workflows", headers={"authorization": f"Bearer {key}"}).json()
        assert [(w["name"], w["inputs"]) for w in made["data"]] == [("to the CRM", ["email", "lead_score"])]
        tab.get_by_role("link", name="to the CRM").click()
        assert tab.get_by_text("Nothing delivered yet").count() == 1
        # sync the source into it: the person already in the source is delivered
        tab.select_option("#map-email", "email")
        tab.select_option("#map-lead_score", "leadScore")
        tab.click("form[aria-label='Sync a source'] button")
        assert tab.locator("[data-synced]").inner_text().startswith("Synced: 1 existing rows")
        [first] = receiver.wait(1).values()
        assert first.json()["inputs"]["email"] == "ana@acme-corp.com" and "lead_score" in first.json()["inputs"]
        shoot(tab, backend, "workflow")
        tab.reload()
        assert tab.locator(".status-delivered").count() == 1
        tab.click("button:has-text('Send again')")  # a replay: the same delivery, sent once more
        deadline = time.monotonic() + 20
        while len(receiver.accepted()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        again = receiver.accepted()
        assert len(again) == 2 and again[1].headers["idempotency-key"] == again[0].headers["idempotency-key"]
    # a bad workflow: every problem listed, nothing made
    tab.goto(f"{server.url}/sites/{site}/workflows")
    tab.fill("#name", "broken")
    tab.fill("#url", "ftp://nope")
    tab.fill("#inputs", "Not Snake")
    tab.click("form.stack button")
    assert tab.locator(".error li").count() == 2
    listed = httpx.get(f"{server.url}/api/v1/workflows", headers={"authorization": f"Bearer {key}"}).json()
    assert len(listed["data"]) == 1

    # revoking from the UI: the key stops working
    tab.goto(server.url + "/keys")
    tab.click("tr:has-text('reporting') button.danger")
    gone = httpx.get(f"{server.url}/api/v1/analytics/overview", headers={"authorization": f"Bearer {key}"})
    assert gone.status_code == 401
    ctx.close()


def test_forged_posts_are_refused(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    add_user(server)
    keys_before = server.store.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM api_keys")["n"])
    ctx = browser.new_context(viewport=WIDTHS["desktop"])
    tab = ctx.new_page()
    log_in(tab, server)
    cookie = next(c for c in ctx.cookies() if c["name"] == "ff_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    # another page (another origin) posting a form to the dashboard with the user's cookie
    attack = html("", f'<form id="f" method="post" action="{server.url}/keys">'
                      '<input name="scope" value="*"><input name="csrf" value="guess"></form>')  # fmt: skip
    with PageServer({"/": attack}) as evil:
        tab.goto(evil.url + "/")
        with tab.expect_navigation():
            tab.evaluate("document.getElementById('f').submit()")
        assert "Refused" in tab.content()
    # the same post without a token, and with a wrong one, from a client holding the session
    jar = {"ff_session": cookie["value"]}
    for body in ({"scope": "*"}, {"scope": "*", "csrf": "x" * 32}):
        refused = httpx.post(f"{server.url}/keys", data=body, cookies=jar)
        assert refused.status_code == 403 and "Refused" in refused.text
    assert server.store.read(lambda tx: tx.one("SELECT COUNT(*) AS n FROM api_keys")["n"]) == keys_before
    # pages are not served to strangers, and come with the security headers
    anonymous = httpx.get(f"{server.url}/sites/{site}/people", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    page = httpx.get(f"{server.url}/sites/{site}/people", cookies=jar)
    assert "script-src 'self'" in page.headers["content-security-policy"] and page.headers["x-frame-options"] == "DENY"
    # a wrong password
    tab.context.clear_cookies()
    tab.goto(server.url + "/login")
    tab.fill("#email", EMAIL)
    tab.fill("#password", "not the password")
    tab.click("button[type=submit]")
    assert tab.get_by_text("Wrong email or password.").count() == 1
    ctx.close()


def _days_ago(server: AppServer, n: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.fromtimestamp(server.clock.now_ms() / 1000, UTC).date() - timedelta(days=n)).isoformat()


def test_a_lead_shows_why_it_scores(server: AppServer, browser: Browser, backend: str) -> None:
    """A shop with enough conversions to score: the person page shows the score, its measured
    quality and the signals behind it; the people list shows no "not enough data" notice."""
    add_user(server)
    site, key = server.add_site("shop.example.com", scopes=("analytics:read", "payments:write", "identify:write"))
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"conversion_goals": ["signup"]}))
    shop(server, site, key, 240, seed=8)
    num = server.store.read(lambda tx: tx.one("SELECT num FROM sites WHERE id = ?", (site,)))["num"]
    job = Scoring(server.store, server.clock)
    assert "trained" in job.site(num, ["signup"])
    lead = visit(server, site, True, random.Random(3))  # home, pricing, one more page
    assert "scored" in job.site(num, ["signup"])
    body = {"user_id": "ada", "datafast_visitor_id": lead, "email": "ada@analytical.org", "name": "Ada Lovelace"}
    named = httpx.post(f"{server.url}/api/v1/identify", json=body, headers={"authorization": f"Bearer {key}"})
    assert named.status_code == 200, named.text
    prediction = api(server, key, f"/visitors/{lead}")["data"]["prediction"]
    assert prediction["score"] > 50 and prediction["signals"], prediction

    tab = browser.new_page()
    log_in(tab, server)
    tab.goto(f"{server.url}/sites/{site}/people")
    assert tab.locator("[data-scoring]").count() == 0  # scoring: no notice
    tab.get_by_role("link", name="Ada Lovelace").click()
    tab.wait_for_url(re.compile("/people/"))
    assert tab.locator("[data-score]").inner_text() == str(prediction["score"])
    why = tab.locator("[data-signals] li").all_inner_texts()
    assert why and why[0].startswith(prediction["signals"][0]["label"]), why
    shoot(tab, backend, "person-scored")

    # the lists export as CSV, with the page's filters and cells a spreadsheet will not run
    other = visit(server, site, False, random.Random(4))
    body = {"user_id": "mallory", "datafast_visitor_id": other, "name": '=HYPERLINK("http://evil")'}
    named = httpx.post(f"{server.url}/api/v1/identify", json=body, headers={"authorization": f"Bearer {key}"})
    assert named.status_code == 200, named.text
    tab.goto(f"{server.url}/sites/{site}/people?sort=score")
    shoot(tab, backend, "people-scored")
    people = download(tab)
    assert [r["name"] for r in people] == ["Ada Lovelace", '\'=HYPERLINK("http://evil")']  # by score, then the rest
    assert people[0]["score"] == str(prediction["score"]) and people[0]["email"] == "ada@analytical.org"
    tab.goto(f"{server.url}/sites/{site}/people?q=ada")
    assert [r["userId"] for r in download(tab)] == ["ada"]
    tab.goto(f"{server.url}/sites/{site}/visitors")
    visitors = download(tab)
    assert len(visitors) == 242 and {r["visitorId"] for r in visitors} >= {lead}  # 240 shoppers, the lead, mallory's
    assert next(r for r in visitors if r["visitorId"] == lead)["person"] == "Ada Lovelace"
    tab.goto(f"{server.url}/sites/{site}/companies")
    assert "analytical.org" in {r["domain"] for r in download(tab)}
    tab.close()


def download(tab: Page) -> list[dict[str, str]]:
    """The page's CSV export, downloaded by clicking its link, as rows."""
    with tab.expect_download() as started:
        tab.click("[data-export]")
    with open(started.value.path(), newline="") as f:
        return list(csv.DictReader(f))
