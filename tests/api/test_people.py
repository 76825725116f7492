"""People: identify routes, stitching across devices, shared computers, merges, deletion, reads."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from footfall import accounts
from tests.support.collect import event, post
from tests.support.servers import UA_CHROME_MAC, UA_IPHONE, AppServer


@pytest.fixture
def site(server: AppServer) -> tuple[str, str]:
    """(site id, a key that can read and identify)."""
    return server.add_site("example.com", scopes=("analytics:read", "identify:write"))


def visit(server: AppServer, site: str, path: str, visitor: str | None = None, ua: str = UA_CHROME_MAC) -> str:
    body = event(site, f"https://example.com{path}")
    if visitor:
        body["visitorId"] = visitor
    answer = post(server.url, body, ua=ua).json()
    return str(answer["visitorId"])


def identify(server: AppServer, site: str, visitor: str, **props: Any) -> dict[str, Any]:
    """The tracker's footfall('identify', {...}): an identify event through collect."""
    body = event(site, "https://example.com/account", type="identify", visitorId=visitor, extraData=props)
    response = post(server.url, body)
    assert response.status_code == 202, response.text
    return dict(response.json())


def api(server: AppServer, key: str, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, server.url + path, headers={"authorization": f"Bearer {key}"}, timeout=10, **kw)


def people(server: AppServer, key: str, **params: Any) -> list[dict[str, Any]]:
    response = api(server, key, "GET", "/api/v1/people", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def person(server: AppServer, key: str, person_id: str) -> dict[str, Any]:
    response = api(server, key, "GET", f"/api/v1/people/{person_id}")
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def test_identify_names_the_visitor_with_its_anonymous_history(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    v = visit(server, site_id, "/pricing")
    server.clock.advance(minutes=1)
    visit(server, site_id, "/docs", v)
    server.clock.advance(minutes=1)
    identify(server, site_id, v, user_id="u-42", email="Jane.Doe@Acme.co.uk", name="Jane Doe", title="VP of Sales")
    [jane] = people(server, key)
    assert (jane["userId"], jane["email"], jane["businessEmail"], jane["personalEmail"]) == (
        "u-42",
        "jane.doe@acme.co.uk",
        "jane.doe@acme.co.uk",
        None,
    )
    assert (jane["firstName"], jane["lastName"], jane["department"], jane["seniority"]) == (
        "Jane",
        "Doe",
        "Sales",
        "VP",
    )
    assert jane["companyDomain"] == "acme.co.uk" and jane["location"] == "London, England, United Kingdom"
    assert jane["sources"] == {
        "user_id": "identify",
        "email": "identify",
        "name": "identify",
        "title": "identify",
        "first_name": "rule:name",
        "last_name": "rule:name",
        "department": "rule:title",
        "seniority": "rule:title",
        "company_domain": "rule:email_domain",
        "location": "geo",
    }
    detail = person(server, key, jane["id"])
    assert [p["url"] for p in detail["pages"]] == ["example.com/pricing", "example.com/docs"]  # before identifying
    assert [d["visitorId"] for d in detail["devices"]] == [v]
    # DataFast's visitor read carries the profile
    profile = api(server, key, "GET", f"/api/v1/visitors/{v}").json()["data"]["profile"]
    assert profile["userId"] == "u-42" and profile["metadata"]["email"] == "jane.doe@acme.co.uk"


def test_one_person_many_devices(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    laptop = visit(server, site_id, "/")
    phone = visit(server, site_id, "/blog", ua=UA_IPHONE)
    identify(server, site_id, laptop, user_id="u-1")
    server.clock.advance(minutes=5)
    identify(server, site_id, phone, user_id="u-1", email="sam@example.org")
    [sam] = people(server, key)
    detail = person(server, key, sam["id"])
    assert {d["visitorId"] for d in detail["devices"]} == {laptop, phone}
    assert {d["os"] for d in detail["devices"]} == {"Mac OS X", "iOS"}
    assert sorted(p["url"] for p in detail["pages"]) == ["example.com/", "example.com/blog"]
    assert sam["emails"] == ["sam@example.org"] and sam["visitCount"] == 2


def test_a_shared_computer_keeps_two_people_apart(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    desk = visit(server, site_id, "/a")
    identify(server, site_id, desk, user_id="alice")
    visit(server, site_id, "/alice-page", desk)
    server.clock.advance(minutes=2)
    identify(server, site_id, desk, user_id="bob")  # Bob signs in on the same browser
    visit(server, site_id, "/bob-page", desk)
    by_user = {p["userId"]: p for p in people(server, key)}
    assert set(by_user) == {"alice", "bob"}
    alice, bob = person(server, key, by_user["alice"]["id"]), person(server, key, by_user["bob"]["id"])
    assert [p["url"] for p in alice["pages"]] == ["example.com/a", "example.com/alice-page"]
    assert [p["url"] for p in bob["pages"]] == ["example.com/bob-page"]
    profile = api(server, key, "GET", f"/api/v1/visitors/{desk}").json()["data"]["profile"]
    assert profile["userId"] == "bob"


def test_an_email_joins_a_person_without_user_id_but_not_another_account(
    server: AppServer, site: tuple[str, str]
) -> None:
    site_id, key = site
    a, b, c = (visit(server, site_id, "/") for _ in range(3))
    identify(server, site_id, a, user_id="u-1", email="shared@acme.com")
    identify(server, site_id, b, user_id="u-2", email="shared@acme.com")  # another account, same email
    found = {p["userId"]: p for p in people(server, key)}
    assert set(found) == {"u-1", "u-2"} and found["u-2"]["emails"] == [] and found["u-2"]["email"] is None
    assert found["u-1"]["emails"] == ["shared@acme.com"]
    identify(server, site_id, c, user_id="u-1", email="second@acme.com")  # a second email for u-1
    assert person(server, key, found["u-1"]["id"])["emails"] == ["shared@acme.com", "second@acme.com"]


@pytest.mark.parametrize("junk", ["undefined", "null", "anonymous", "0", " ", "[object Object]"])
def test_junk_ids_identify_nobody(server: AppServer, site: tuple[str, str], junk: str) -> None:
    site_id, key = site
    v = visit(server, site_id, "/")
    body = event(site_id, "https://example.com/", type="identify", visitorId=v, extraData={"user_id": junk})
    assert post(server.url, body).status_code in (202, 400)  # stored as an event, or refused when blank
    assert people(server, key) == []
    response = api(server, key, "POST", "/api/v1/identify", json={"user_id": junk, "datafast_visitor_id": v})
    assert response.status_code == 400 and response.json()["status"] == "error"


def test_datafast_identify_route(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    v = visit(server, site_id, "/")
    ok = api(server, key, "POST", "/api/v1/identify", json={"user_id": "u-9", "datafast_visitor_id": v, "plan": "pro"})
    assert ok.status_code == 200 and ok.json()["data"]["message"] == "User profile created successfully"
    profile_id = ok.json()["data"]["profileId"]
    assert person(server, key, profile_id)["metadata"] == {"plan": "pro"}
    cases = [
        ({"datafast_visitor_id": v}, 400, "user_id"),
        ({"user_id": "x" * 256, "datafast_visitor_id": v}, 400, "255"),
        ({"user_id": "u", "datafast_visitor_id": "nope"}, 400, "UUID"),
        ({"user_id": "u", "datafast_visitor_id": "0190a4b2-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}, 404, "no pageviews"),
    ]
    for body, status, words in cases:
        response = api(server, key, "POST", "/api/v1/identify", json=body)
        assert response.status_code == status and words in response.json()["error"]["message"], body
    reader = server.add_site("other.example.com")[1]  # analytics:read only
    denied = api(server, reader, "POST", "/api/v1/identify", json={"user_id": "u", "datafast_visitor_id": v})
    assert denied.status_code == 403 and "identify:write" in denied.json()["error"]["message"]


def test_postmetric_identify_route(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    v = visit(server, site_id, "/")
    ok = httpx.post(
        f"{server.url}/api/identify", json={"site": site_id, "userId": "pm-1", "email": "a@b.io", "visitorId": v}
    )
    assert ok.status_code == 200 and ok.json()["success"] is True
    [p] = people(server, key)
    assert p["userId"] == "pm-1" and p["email"] == "a@b.io" and p["visitCount"] == 1
    missing = httpx.post(f"{server.url}/api/identify", json={"site": site_id})
    assert missing.status_code == 400 and missing.json() == {"error": "site and userId are required"}
    unknown = httpx.post(f"{server.url}/api/identify", json={"site": "nosuchsite", "userId": "x"})
    assert unknown.status_code == 404


def test_explicit_merge_and_the_old_id_still_finds_the_person(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    a, b = visit(server, site_id, "/a"), visit(server, site_id, "/b")
    identify(server, site_id, a, user_id="old-account")
    identify(server, site_id, b, user_id="new-account", title="Data Engineer")
    found = {p["userId"]: p["id"] for p in people(server, key)}
    response = api(
        server, key, "POST", f"/api/v1/people/{found['new-account']}/merge", json={"personId": found["old-account"]}
    )
    assert response.status_code == 200, response.text
    merged = response.json()["data"]
    assert merged["userIds"] == ["new-account", "old-account"] and merged["department"] == "Data"
    assert person(server, key, found["old-account"])["id"] == found["new-account"]  # followed
    assert len(people(server, key)) == 1 and merged["visitCount"] == 2
    bad = api(
        server, key, "POST", f"/api/v1/people/{found['new-account']}/merge", json={"personId": found["new-account"]}
    )
    assert bad.status_code == 400


def test_delete_erases_the_person_and_only_their_visits(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    desk, own = visit(server, site_id, "/shared"), visit(server, site_id, "/mine")
    identify(server, site_id, desk, user_id="alice")
    identify(server, site_id, own, user_id="alice")
    server.clock.advance(minutes=1)
    identify(server, site_id, desk, user_id="bob")
    visit(server, site_id, "/bob", desk)
    found = {p["userId"]: p["id"] for p in people(server, key)}
    assert api(server, key, "DELETE", f"/api/v1/people/{found['alice']}").status_code == 200
    assert api(server, key, "GET", f"/api/v1/people/{found['alice']}").status_code == 404
    assert [p["userId"] for p in people(server, key)] == ["bob"]
    assert [p["url"] for p in person(server, key, found["bob"])["pages"]] == ["example.com/bob"]
    paths = server.store.read(lambda tx: [r["path"] for r in tx.all("SELECT path FROM events WHERE type = 'pageview'")])
    assert sorted(paths) == ["/bob"]  # alice's pages on both devices are gone; bob's stay


def test_list_filters_and_pagination(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    for i in range(5):
        identify(
            server,
            site_id,
            visit(server, site_id, "/"),
            user_id=f"u{i}",
            email=f"p{i}@corp{i % 2}.com",
            company=f"Corp{i % 2}",
        )
        server.clock.advance(seconds=1)
    page = api(server, key, "GET", "/api/v1/people", params={"limit": 2, "offset": 1}).json()
    assert [p["userId"] for p in page["data"]] == ["u3", "u2"] and page["pagination"] == {
        "limit": 2,
        "offset": 1,
        "total": 5,
    }
    assert [p["userId"] for p in people(server, key, email="P3@corp1.com")] == ["u3"]
    assert [p["userId"] for p in people(server, key, company="corp0")] == ["u4", "u2", "u0"]
    bad = api(server, key, "GET", "/api/v1/people", params={"limit": 0})
    assert bad.status_code == 400 and "limit" in bad.json()["error"]["message"]


def test_concurrent_identifications_make_one_person(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    visitors = [visit(server, site_id, "/") for _ in range(12)]
    start = threading.Barrier(len(visitors))

    def go(v: str) -> None:
        start.wait()
        identify(server, site_id, v, user_id="same-user", email="same@acme.com")

    threads = [threading.Thread(target=go, args=(v,)) for v in visitors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [one] = people(server, key)
    assert len(person(server, key, one["id"])["devices"]) == 12 and one["visitCount"] == 12


def make_link(server: AppServer, key: str, **body: Any) -> dict[str, Any]:
    response = api(server, key, "POST", "/api/v1/links", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def test_link_tokens_identify_only_on_their_site(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    other_id, other_key = server.add_site("example.org", scopes=("analytics:read", "identify:write"))
    link = make_link(server, key, email="lee@acme.com", title="CTO", url="https://example.com/welcome?x=1")
    assert link["url"] == f"https://example.com/welcome?x=1&ff_t={link['token']}"
    # a server-side sender passing the landing URL as it came: the token is read and not stored
    answer = post(server.url, event(site_id, link["url"])).json()
    stored = server.store.read(
        lambda tx: tx.one("SELECT href FROM events WHERE request_id = ?", (answer["requestId"],))
    )
    assert stored["href"] == "https://example.com/welcome?x=1"
    lee = person(server, key, link["personId"])
    assert [d["visitorId"] for d in lee["devices"]] == [answer["visitorId"]] and lee["department"] == "Engineering"
    # the same token on another site, and a tampered one, identify nobody
    post(server.url, event(other_id, "https://example.org/?ff_t=" + link["token"]))
    tampered = link["token"][:-2] + ("AA" if not link["token"].endswith("AA") else "BB")
    post(server.url, event(site_id, "https://example.com/", linkToken=tampered))
    assert people(server, other_key) == [] and len(person(server, key, link["personId"])["devices"]) == 1
    missing = api(server, key, "POST", "/api/v1/links", json={"name": "No Email"})
    assert missing.status_code == 400 and "email" in missing.json()["error"]["message"]


def test_forms_need_the_site_setting_and_join_the_signed_in_person(server: AppServer, site: tuple[str, str]) -> None:
    site_id, key = site
    off_id, off_key = server.add_site("example.org", scopes=("analytics:read",))
    fields = {"email": "kim@acme.com"}
    dropped = post(server.url, event(off_id, "https://example.org/contact", type="form", extraData=fields))
    assert dropped.headers["x-footfall-dropped"] == "form_capture_off" and people(server, off_key) == []
    server.store.write(lambda tx: accounts.update_site_settings(tx, site_id, {"form_capture": True}))
    v = visit(server, site_id, "/")
    identify(server, site_id, v, user_id="kim-1")
    form = event(site_id, "https://example.com/contact", type="form", visitorId=v, extraData=fields)
    captured = post(server.url, form)
    assert captured.status_code == 202 and "x-footfall-dropped" not in captured.headers
    [kim] = people(server, key)  # not a second person: the signed-in user gave their email
    assert kim["userId"] == "kim-1" and kim["emails"] == ["kim@acme.com"] and kim["sources"]["email"] == "form"


def test_a_shared_computers_next_visit_is_whoever_signs_in_during_it(server: AppServer, site: tuple[str, str]) -> None:
    """Bob opens the site on the computer Alice used an hour ago: his landing page is presumed
    Alice's until he signs in, then the whole visit is his."""
    site_id, key = site
    desk = visit(server, site_id, "/a")
    identify(server, site_id, desk, user_id="alice")
    server.clock.advance(minutes=60)  # a new visit
    visit(server, site_id, "/landing", desk)
    identify(server, site_id, desk, user_id="bob")
    visit(server, site_id, "/bob-page", desk)
    found = {p["userId"]: p["id"] for p in people(server, key)}
    assert [p["url"] for p in person(server, key, found["alice"])["pages"]] == ["example.com/a"]
    assert [p["url"] for p in person(server, key, found["bob"])["pages"]] == [
        "example.com/landing",
        "example.com/bob-page",
    ]


def test_segments_are_rules_over_people(server: AppServer) -> None:
    site_id, key = server.add_site("example.com", scopes=("analytics:read", "identify:write", "settings:write"))
    made = {}
    for name, rules in (
        ("UK pricing", {"path": ["/pricing*"], "country": ["gb"]}),
        ("Acme", {"companyDomain": ["ACME.com"]}),
        ("Business emails", {"businessEmail": True}),
        ("Signed up", {"goal": ["signup"]}),
        ("Hot leads", {"minScore": 70}),
    ):
        response = api(server, key, "POST", "/api/v1/segments", json={"name": name, "rules": rules})
        assert response.status_code == 201, response.text
        made[name] = response.json()["data"]["id"]
    jane = visit(server, site_id, "/pricing/teams")
    post(
        server.url,
        event(site_id, "https://example.com/welcome", type="custom", visitorId=jane, extraData={"eventName": "signup"}),
    )
    identify(server, site_id, jane, user_id="jane", email="jane@acme.com")
    sam = visit(server, site_id, "/blog")
    identify(server, site_id, sam, user_id="sam", email="sam@gmail.com")
    found = {p["userId"]: [s["segmentName"] for s in p["segments"]] for p in people(server, key)}
    assert found == {"jane": ["UK pricing", "Acme", "Business emails", "Signed up"], "sam": []}
    listed = api(server, key, "GET", "/api/v1/segments").json()["data"]
    assert [s["name"] for s in listed] == list(made) and listed[0]["rules"] == {
        "path": ["/pricing*"],
        "country": ["gb"],
    }
    bad = api(server, key, "POST", "/api/v1/segments", json={"name": "x", "rules": {"colour": ["red"]}})
    assert bad.status_code == 400 and "colour" in bad.json()["error"]["message"]
    assert api(server, key, "DELETE", f"/api/v1/segments/{made['Acme']}").status_code == 200
    assert api(server, key, "DELETE", f"/api/v1/segments/{made['Acme']}").status_code == 404
    assert "Acme" not in [s["segmentName"] for s in person(server, key, people(server, key)[-1]["id"])["segments"]]
