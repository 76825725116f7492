"""Goals, identify and payments from the tracker, in real Chromium, as the server stored them."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser

from tests.support.browser import PageServer
from tests.support.servers import AppServer
from tests.tracker.conftest import context, count, html, tag, wait_for

pytestmark = pytest.mark.browser


def goals(rows: list[dict]) -> list[tuple[str, dict]]:
    custom = [r for r in rows if r["type"] == "custom"]
    return [(r["name"], {k: v for k, v in json.loads(r["extra"]).items() if k != "eventName"}) for r in custom]


def test_js_goals_follow_datafast_name_and_parameter_rules(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    with PageServer({"/": html(tag(server, site, debug="true"))}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        logs: list[str] = []
        tab.on("console", lambda m: logs.append(m.text))
        tab.goto(web.url + "/")
        tab.wait_for_function("window.footfall && window.footfall.getVisitorId")
        tab.evaluate(
            """() => {
              footfall('Sign Up', {plan: 'pro'});          // invalid name: not sent
              footfall('identify');                          // reserved for identify calls
              footfall('signup', {plan: 'pro', 'Bad Key': 'x', seats: 3, note: '<b>hi</b>', nested: {a: 1}});
              const many = {}; for (let i = 0; i < 12; i++) many['p' + i] = String(i);
              footfall('checkout:step-2', many);
            }"""
        )
        rows = wait_for(server, site, count(2, "custom"))
        ctx.close()
    assert goals(rows) == [
        ("signup", {"plan": "pro", "seats": "3", "note": "hi"}),
        ("checkout:step-2", {f"p{i}": str(i) for i in range(10)}),
    ]
    assert any('invalid goal name "Sign Up"' in line for line in logs)
    assert any("parameter ignored: Bad Key" in line for line in logs)


def test_click_and_scroll_goals_from_html_attributes(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    body = (
        '<button id="a" data-fast-goal="start_trial" data-fast-goal-plan-name="pro">Try</button>'
        '<a id="b" href="#x" data-postmetric-goal="pm_click" data-postmetric-goal-source="nav">PM</a>'
        '<span id="c" data-footfall-goal="ff_click"><i id="inner">icon</i></span>'
        '<div style="height:3000px"></div>'
        '<section id="s" style="height:400px" data-fast-scroll="saw_pricing" data-fast-scroll-threshold="0.9" '
        'data-fast-scroll-delay="300" data-fast-scroll-section="pricing">Pricing</section>'
        '<div style="height:3000px"></div>'
    )
    with PageServer({"/": html(tag(server, site), body)}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        tab.click("#a")
        tab.click("#b")
        tab.click("#inner")  # a click inside the goal element counts
        wait_for(server, site, count(3, "custom"))
        wait_for(server, site, count(2, "pageview"))  # the #x link is a page view too
        tab.evaluate("document.getElementById('s').scrollIntoView({block: 'center'})")
        wait_for(server, site, count(4, "custom"))
        for _ in range(3):  # scrolling away and back in the same page view: not again
            tab.evaluate("window.scrollTo(0, 0)")
            tab.wait_for_timeout(100)
            tab.evaluate("document.getElementById('s').scrollIntoView({block: 'center'})")
            tab.wait_for_timeout(400)
        tab.evaluate("history.pushState({}, '', '/next')")  # a new page view: the scroll goal may fire again
        tab.evaluate("window.scrollTo(0, 0)")
        tab.wait_for_timeout(100)
        tab.evaluate("document.getElementById('s').scrollIntoView({block: 'center'})")
        rows = wait_for(server, site, count(5, "custom"))
        ctx.close()
    assert goals(rows) == [
        ("start_trial", {"plan_name": "pro"}),
        ("pm_click", {"source": "nav"}),
        ("ff_click", {}),
        ("saw_pricing", {"section": "pricing"}),
        ("saw_pricing", {"section": "pricing"}),
    ]
    assert [r["href"].rsplit("/", 1)[1] for r in rows if r["name"] == "saw_pricing"] == ["#x", "next"]


def test_identify_in_datafast_and_postmetric_forms(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    with PageServer({"/": html(tag(server, site))}) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        tab.goto(web.url + "/")
        tab.wait_for_function("window.postMetric && window.postMetric.getVisitorId()")
        tab.evaluate(
            "datafast('identify', {user_id: 'u_1', name: 'Ada Lovelace', email: 'ada@example.com', plan: 'pro'})"
        )
        tab.evaluate("postMetric('identify', {userId: 'u_2', email: 'grace@example.com', name: 'Grace'})")
        tab.evaluate("footfall('identify', {email: 'nobody@example.com'})")  # no user id: not sent
        tab.evaluate("footfall('marker')")
        rows = wait_for(server, site, count(1, "custom"))
        ctx.close()
    identified = [json.loads(r["extra"]) for r in rows if r["type"] == "identify"]
    assert identified == [
        {"user_id": "u_1", "name": "Ada Lovelace", "email": "ada@example.com", "plan": "pro"},
        {"user_id": "u_2", "email": "grace@example.com", "name": "Grace"},
    ]
    assert len({r["visitor_id"] for r in rows}) == 1


def test_payment_success_pages_are_detected_once_per_id(server: AppServer, browser: Browser) -> None:
    site, _ = server.add_site("127.0.0.1")
    pages = {"/thanks": html(tag(server, site)), "/quiet": html(tag(server, site, disable_payments="true"))}
    with PageServer(pages) as web:
        ctx = context(browser)
        tab = ctx.new_page()
        for query in ("session_id=cs_test_A1", "session_id=cs_test_A1", "checkout_id=polar_9", "order_id=1234"):
            tab.goto(f"{web.url}/thanks?{query}")
            tab.wait_for_timeout(150)
        tab.goto(f"{web.url}/thanks?session_id=not_a_checkout")  # Stripe ids start with cs_
        tab.goto(f"{web.url}/quiet?session_id=cs_test_B2")  # data-disable-payments
        tab.evaluate("footfall('payment', {email: 'buyer@example.com'})")  # the client-side form
        rows = wait_for(server, site, count(4, "payment"))
        tab.evaluate("footfall('marker')")
        rows = wait_for(server, site, count(1, "custom"))
        ctx.close()
    payments = [json.loads(r["extra"]) for r in rows if r["type"] == "payment"]
    assert payments == [
        {"stripe_session_id": "cs_test_A1"},
        {"polar_checkout_id": "polar_9"},
        {"lemonsqueezy_order_id": "1234"},
        {"email": "buyer@example.com"},
    ]
