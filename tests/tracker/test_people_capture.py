"""Form capture and email-link identification in real Chromium, read back as people."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.sync_api import Browser

from footfall import accounts
from tests.support.browser import PageServer
from tests.support.servers import AppServer
from tests.tracker.conftest import REPLIED, context, count, html, tag, wait_for

pytestmark = pytest.mark.browser

# Handled by the page's script (as single-page apps do), so nothing lands in a URL.
FORM = """
<form action="/thanks" method="get" onsubmit="return false">
  <input type="email" name="work_email" value="jane@acme.com">
  <input name="first_name" value="Jane">
  <input id="lname" name="lname" value="Doe">
  <input name="company" value="Acme Ltd">
  <input name="job_title" value="Head of Marketing">
  <input type="tel" name="phone" value="+44 20 7946 0000">
  <input type="password" name="password" value="hunter2-secret">
  <input type="hidden" name="plan_secret" value="hidden-value">
  <input name="card_number" autocomplete="cc-number" value="4242424242424242">
  <input name="nickname" data-footfall-ignore value="ignored-value">
  <div data-footfall-ignore><input name="full_name" value="Ignored Name"></div>
  <button id="go" type="submit">Send</button>
</form>
"""


def people(server: AppServer, key: str) -> list[dict]:
    response = httpx.get(f"{server.url}/api/v1/people", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def everything_stored(server: AppServer) -> str:
    """Every row of the tables a person's data could end up in, as text."""
    tables = ("events", "sessions", "people", "person_ids", "identifications")
    return json.dumps(server.store.read(lambda tx: [tx.all(f"SELECT * FROM {t}") for t in tables]), default=str)


def test_form_capture_takes_contact_fields_and_nothing_secret(server: AppServer, browser: Browser) -> None:
    site, key = server.add_site("127.0.0.1", scopes=("analytics:read",))
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"form_capture": True}))
    pixel = tag(server, None, src=f"/p/{site}.js")  # the preset carries the site's setting
    with PageServer({"/": html(pixel, FORM), "/thanks": html(pixel, "thanks")}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        wait_for(server, site, count(1))
        tab.click("#go")
        rows = wait_for(server, site, lambda r: any(e["type"] == "form" for e in r))
        ctx.close()
    [jane] = people(server, key)
    assert (jane["email"], jane["firstName"], jane["lastName"], jane["company"]) == (
        "jane@acme.com",
        "Jane",
        "Doe",
        "Acme Ltd",
    )
    assert (jane["title"], jane["department"], jane["seniority"]) == ("Head of Marketing", "Marketing", "Head/Director")
    assert jane["phone"] == "+44 20 7946 0000" and jane["sources"]["email"] == "form"
    [form] = [e for e in rows if e["type"] == "form"]
    assert json.loads(form["extra"]) == {"fields": ["company", "email", "first_name", "last_name", "phone", "title"]}
    stored = everything_stored(server)
    for secret in ("hunter2-secret", "hidden-value", "4242424242424242", "ignored-value", "Ignored Name"):
        assert secret not in stored
    assert jane["visitCount"] == 1 and jane["pageViewCount"] == 1  # the page before the form is theirs too


def test_no_form_capture_without_the_setting(server: AppServer, browser: Browser) -> None:
    site, key = server.add_site("127.0.0.1", scopes=("analytics:read",))
    with PageServer({"/": html(tag(server, site), FORM), "/thanks": html(tag(server, site), "thanks")}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        sent: list[dict] = []
        tab.on("request", lambda r: "/api/events" in r.url and sent.append(json.loads(r.post_data or "{}")))
        tab.goto(web.url + "/")
        wait_for(server, site, count(1))
        tab.click("#go")
        tab.evaluate("footfall('after_submit')")  # sent after anything the submit could have sent
        wait_for(server, site, count(2))
        ctx.close()
    assert [e["type"] for e in sent] == ["pageview", "custom"]  # the tracker never read the form
    assert people(server, key) == [] and "jane@acme.com" not in everything_stored(server)


def test_an_email_link_identifies_the_visitor_and_leaves_the_address_bar(server: AppServer, browser: Browser) -> None:
    site, key = server.add_site("127.0.0.1", scopes=("analytics:read", "identify:write"))
    with PageServer({"/offer": html(tag(server, site), "offer")}) as web:
        made = httpx.post(
            f"{server.url}/api/v1/links",
            headers={"authorization": f"Bearer {key}"},
            json={"email": "sam@example.org", "name": "Sam Lee", "url": web.url + "/offer?utm_source=newsletter"},
        ).json()["data"]
        assert "ff_t=" + made["token"] in made["url"]
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(made["url"])
        [row] = wait_for(server, site, count(1))
        address = tab.evaluate("location.href")
        ctx.close()
    assert "ff_t" not in address and "utm_source=newsletter" in address
    assert "ff_t" not in row["href"] and json.loads(row["params"]) == {"utm_source": "newsletter"}
    [sam] = people(server, key)
    assert sam["id"] == made["personId"] and sam["email"] == "sam@example.org" and sam["pageViewCount"] == 1
    assert (sam["firstName"], sam["lastName"]) == ("Sam", "Lee")


def test_identify_in_the_page_names_the_person_with_what_came_before(server: AppServer, browser: Browser) -> None:
    site, key = server.add_site("127.0.0.1", scopes=("analytics:read",))
    pages = {p: html(tag(server, site), p) for p in ("/pricing", "/account")}
    with PageServer(pages) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/pricing")
        wait_for(server, site, count(1))
        tab.wait_for_function(REPLIED)
        tab.goto(web.url + "/account")
        wait_for(server, site, count(2))
        tab.evaluate(
            "footfall('identify', {userId: 'u-7', email: 'Lin@Acme.com', name: 'Lin Wu', title: 'Sales Director'})"
        )
        wait_for(server, site, count(3))
        ctx.close()
    [lin] = people(server, key)
    assert (lin["userId"], lin["email"], lin["firstName"], lin["department"]) == ("u-7", "lin@acme.com", "Lin", "Sales")
    detail = httpx.get(f"{server.url}/api/v1/people/{lin['id']}", headers={"authorization": f"Bearer {key}"}).json()
    assert [p["url"].split("/", 1)[1] for p in detail["data"]["pages"]] == ["pricing", "account"]
