"""GET /api/v1/visitors/{visitorId}: the DataFast "Get visitor" schema, auth and errors."""

from __future__ import annotations

import uuid

import httpx
import pytest

from footfall import accounts
from footfall.ids import hash_key
from tests.support.collect import event, post
from tests.support.servers import UA_IPHONE, AppServer

IDENTITY_KEYS = {
    "country",
    "countryCode",
    "region",
    "city",
    "params",
    "adClickIds",
    "browser",
    "os",
    "device",
    "viewport",
}
ACTIVITY_KEYS = {
    "visitCount",
    "pageViewCount",
    "timeSinceFirstVisit",
    "timeSinceCurrentVisit",
    "firstVisitAt",
    "lastVisitAt",
    "currentUrl",
    "completedGoals",
    "visitedPages",
}


def get(server: AppServer, vid: str, key: str | None, **params: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{server.url}/api/v1/visitors/{vid}", params=params, headers=headers)


def test_visitor_read_back_has_the_seed_schema_and_real_values(server: AppServer) -> None:
    site, key = server.add_site("example.com")
    first = post(
        server.url,
        event(
            site, "https://example.com/?ref=hn&utm_campaign=launch&fbclid=f1", viewport={"width": 390, "height": 700}
        ),
        ua=UA_IPHONE,
    ).json()
    vid = first["visitorId"]
    server.clock.advance(seconds=5)
    post(
        server.url,
        event(site, "https://example.com/pricing", visitorId=vid, viewport={"width": 390, "height": 800}),
        ua=UA_IPHONE,
    )
    post(
        server.url,
        event(
            site,
            "https://example.com/pricing",
            visitorId=vid,
            type="custom",
            extraData={"eventName": "signup", "plan": "pro"},
        ),
        ua=UA_IPHONE,
    )
    server.clock.advance(seconds=2)
    r = get(server, vid, key)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "success" and set(body["data"]) == {
        "visitorId",
        "identity",
        "activity",
        "profile",
        "prediction",
        "resolution",  # footfall's addition: how the browser was resolved
    }
    assert body["data"]["resolution"] == {"method": "signed_id", "presumed": False, "confidence": 1.0}
    data = body["data"]
    assert data["visitorId"] == vid and data["profile"] is None and data["prediction"] is None
    identity, activity = data["identity"], data["activity"]
    assert set(identity) == IDENTITY_KEYS and set(activity) == ACTIVITY_KEYS
    assert identity["browser"]["name"] == "Mobile Safari" and identity["os"] == {"name": "iOS", "version": "17.4"}
    assert identity["device"] == {"type": "mobile", "vendor": "Apple", "model": "iPhone"}
    assert identity["viewport"] == {"width": 390, "height": 800}  # from the latest page view
    assert (identity["countryCode"], identity["country"], identity["city"]) == ("GB", "United Kingdom", "London")
    assert identity["params"]["ref"] == "hn" and identity["params"]["utm_campaign"] == "launch"
    assert identity["params"]["utm_source"] is None and identity["adClickIds"] == {"fbclid": "f1"}
    assert activity["visitCount"] == 1 and activity["pageViewCount"] == 2
    assert activity["currentUrl"] == "example.com/pricing"
    assert [p["url"] for p in activity["visitedPages"]] == ["example.com/", "example.com/pricing"]
    assert activity["completedGoals"] == [
        {"name": "signup", "origin": "manual", "type": "custom", "timestamp": activity["lastVisitAt"]}
    ]
    assert activity["timeSinceFirstVisit"] == 7000 and activity["timeSinceCurrentVisit"] == 7000
    assert activity["firstVisitAt"].endswith("Z") and len(activity["firstVisitAt"]) == 24


def test_account_key_names_the_site_with_website_id(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    vid = post(server.url, event(site)).json()["visitorId"]

    def account_key(tx) -> str:
        account = accounts.first_account(tx)
        return accounts.create_key(tx, account["id"], ["analytics:read"], 1)[0]

    key = server.store.write(account_key)
    assert get(server, vid, key).status_code == 400
    assert get(server, vid, key, websiteId=site).json()["data"]["visitorId"] == vid


def _revoked(server: AppServer, key: str) -> str:
    server.store.write(lambda tx: tx.execute("UPDATE api_keys SET revoked_at = 1 WHERE key_hash = ?", (hash_key(key),)))
    return key


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("no_key", 401),
        ("wrong_key", 401),
        ("revoked_key", 401),
        ("wrong_scope", 403),
        ("other_site_key", 403),
        ("invalid_id", 400),
        ("unknown_visitor", 404),
        ("no_pageviews", 404),
    ],
)
def test_errors_use_the_datafast_envelope(server: AppServer, case: str, status: int) -> None:
    site, key = server.add_site("example.com")
    other_site, other_key = server.add_site("other.com")
    _, goals_key = server.add_site("third.com", scopes=("goals:write",))
    vid = post(server.url, event(site)).json()["visitorId"]
    only_goal = post(server.url, event(site, type="custom", extraData={"eventName": "x"})).json()["visitorId"]
    vid_for, key_for, params = vid, key, {}
    if case == "no_key":
        key_for = None
    elif case == "wrong_key":
        key_for = "ff_" + "x" * 40
    elif case == "revoked_key":
        key_for = _revoked(server, key)
    elif case == "wrong_scope":
        key_for = goals_key
    elif case == "other_site_key":
        key_for, params = other_key, {"websiteId": site}
    elif case == "invalid_id":
        vid_for = "not-a-uuid"
    elif case == "unknown_visitor":
        vid_for = str(uuid.uuid4())
    elif case == "no_pageviews":
        vid_for = only_goal
    r = get(server, vid_for, key_for, **params)
    assert r.status_code == status
    assert r.json() == {"status": "error", "error": {"code": status, "message": r.json()["error"]["message"]}}
    assert r.json()["error"]["message"]


def test_another_sites_visitor_is_not_found_with_this_sites_key(server: AppServer) -> None:
    site, _ = server.add_site("example.com")
    _, other_key = server.add_site("other.com")
    vid = post(server.url, event(site)).json()["visitorId"]
    assert get(server, vid, other_key).status_code == 404
