"""A payment matched to a person by email alone counts for their visitor everywhere: overview
revenue and conversion, every breakdown's revenue, the time series, `isCustomer` in the visitors
list, and no lead score (a customer): the same as a payment made on their browser."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.collect import event, post
from tests.support.servers import UA_CHROME_MAC, UA_IPHONE, AppServer


def test_a_payment_by_email_counts_for_the_persons_visitor(server: AppServer) -> None:
    site, key = server.add_site("example.com", scopes=("analytics:read", "identify:write", "payments:write"))
    headers = {"authorization": f"Bearer {key}"}

    def get(path: str, **params: Any) -> Any:
        answer = httpx.get(f"{server.url}/api/v1{path}", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    ada = post(server.url, event(site, "https://example.com/pricing"), ua=UA_CHROME_MAC).json()["visitorId"]
    post(server.url, event(site, "https://example.com/blog"), ua=UA_IPHONE, ip="81.2.69.170")  # someone else
    named = httpx.post(
        f"{server.url}/api/v1/identify",
        json={"user_id": "u-1", "datafast_visitor_id": ada, "email": "ada@analytical.org"},
        headers=headers,
    )
    assert named.status_code == 200, named.text
    server.clock.advance(minutes=3)
    paid = httpx.post(  # the provider knows the email only
        f"{server.url}/api/v1/payments",
        json={"amount": 49, "currency": "USD", "transaction_id": "t-1", "email": "ada@analytical.org"},
        headers=headers,
    )
    assert paid.status_code == 200, paid.text
    assert server.store.read(lambda tx: tx.one("SELECT visitor_num FROM payments"))["visitor_num"] is None

    overview = get("/analytics/overview")["data"][0]
    assert (overview["revenue"], overview["payments"], overview["conversion_rate"]) == (49, 1, 50.0)
    browsers = {r["browser"]: r["revenue"] for r in get("/analytics/browsers")["data"]}
    assert browsers == {"Chrome": 49, "Mobile Safari": 0}
    pages = {r["path"]: r["revenue"] for r in get("/analytics/pages")["data"]}
    assert pages == {"/pricing": 49, "/blog": 0}
    filtered = get("/analytics/overview", filter_page="is:/pricing")["data"][0]  # kept visits' payments
    assert (filtered["revenue"], filtered["conversion_rate"]) == (49, 100.0)
    series = get("/analytics/timeseries", interval="day")
    assert series["totals"]["revenue"] == 49 and series["totals"]["conversion_rate"] == 50.0
    customers = get("/visitors", isCustomer="true")["data"]
    assert [v["visitorId"] for v in customers] == [ada]
    assert ada not in [v["visitorId"] for v in get("/visitors", isCustomer="false")["data"]]
