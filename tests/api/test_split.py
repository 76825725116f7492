"""Taking a browser away from a person (`POST /api/v1/people/{id}/split`): the owner says a
browser is not theirs (a shared computer, a wrong claim); its visits and the payments made on it
leave the person, a payment in the person's email stays, and a later identification links it again."""

from __future__ import annotations

from tests.api.test_people import api, identify, person, site, visit  # noqa: F401
from tests.support.servers import UA_IPHONE, AppServer


def test_a_browser_split_off_takes_its_visits_and_payments(server: AppServer, site: tuple[str, str]) -> None:  # noqa: F811
    site_id, key = site
    laptop = visit(server, site_id, "/")
    phone = visit(server, site_id, "/blog", ua=UA_IPHONE)
    identify(server, site_id, laptop, user_id="u-1", email="sam@example.org")
    server.clock.advance(minutes=5)
    identify(server, site_id, phone, user_id="u-1")
    sam = api(server, key, "GET", "/api/v1/people").json()["data"][0]
    assert sam["visitCount"] == 2

    answer = api(server, key, "POST", f"/api/v1/people/{sam['id']}/split", json={"visitorId": phone})
    assert answer.status_code == 200, answer.text
    after = answer.json()["data"]
    assert after["visitCount"] == 1 and after["emails"] == ["sam@example.org"]  # ids stay
    detail = person(server, key, sam["id"])
    assert [d["visitorId"] for d in detail["devices"]] == [laptop]
    assert [p["url"] for p in detail["pages"]] == ["example.com/"]
    profile = api(server, key, "GET", f"/api/v1/visitors/{phone}").json()["data"]["profile"]
    assert profile is None  # the phone is anonymous again

    # not theirs (any more), unknown, or malformed: refused without a change
    again = api(server, key, "POST", f"/api/v1/people/{sam['id']}/split", json={"visitorId": phone})
    assert again.status_code == 404 and again.json()["status"] == "error"
    bad = api(server, key, "POST", f"/api/v1/people/{sam['id']}/split", json={"visitor": phone})
    assert bad.status_code == 400 and "visitorId" in bad.json()["error"]["message"]
    assert api(server, key, "POST", "/api/v1/people/p_nobody/split", json={"visitorId": phone}).status_code == 404

    # a later identification of the phone links it again
    identify(server, site_id, phone, user_id="u-1")
    assert person(server, key, sam["id"])["visitCount"] == 2


def test_payments_on_a_split_browser_leave_unless_in_the_persons_email(server: AppServer) -> None:
    site_id, key = server.add_site("example.com", scopes=("analytics:read", "identify:write", "payments:write"))
    laptop = visit(server, site_id, "/")
    phone = visit(server, site_id, "/blog", ua=UA_IPHONE)
    identify(server, site_id, laptop, user_id="u-1", email="sam@example.org")
    identify(server, site_id, phone, user_id="u-1")
    for n, email in enumerate([None, "sam@example.org"]):
        body = {"amount": 10 + n, "currency": "USD", "transaction_id": f"t{n}", "datafast_visitor_id": phone}
        if email:
            body["email"] = email
        assert api(server, key, "POST", "/api/v1/payments", json=body).status_code == 200
    [sam] = api(server, key, "GET", "/api/v1/people", params={"email": "sam@example.org"}).json()["data"]

    def theirs() -> list[float]:
        rows = server.store.read(
            lambda tx: tx.all(
                "SELECT y.amount FROM payments y JOIN people p ON p.num = y.person_num WHERE p.id = ? "
                "ORDER BY y.amount",
                (sam["id"],),
            )
        )
        return [r["amount"] for r in rows]

    assert theirs() == [10, 11]
    assert api(server, key, "POST", f"/api/v1/people/{sam['id']}/split", json={"visitorId": phone}).status_code == 200
    assert theirs() == [11]  # made on the phone, but in their email: still theirs
