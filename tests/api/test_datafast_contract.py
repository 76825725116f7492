"""DataFast's API held to the field lists of ../shared/specs/datafast.md ([T6]), on both stores:
website metadata with every field, the account admin routes with DataFast's permission rules, and
the shapes its clients read from the visitor, analytics, goal and payment routes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from footfall import accounts
from footfall.api.errors import datafast_body
from tests.support.collect import event, post
from tests.support.servers import AppServer

SPEC_METADATA = ("domain", "timezone", "name", "logo", "kpiColorScheme", "kpi", "currency")
COLORS = ("red", "orange", "yellow", "green", "purple", "pink", "gray", "blue", "teal", "indigo")


def call(server: AppServer, key: str, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, server.url + path, headers={"authorization": f"Bearer {key}"}, timeout=10, **kw)


def account_key(server: AppServer, scopes: tuple[str, ...]) -> str:
    def go(tx: Any) -> str:
        account = accounts.first_account(tx)
        return accounts.create_key(tx, account["id"], list(scopes), server.clock.now_ms())[0]

    return server.store.write(go)


def set_site(server: AppServer, site: str, **settings: Any) -> None:
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, settings))


def test_metadata_answers_every_field_datafast_lists(server: AppServer) -> None:
    site, key = server.add_site("shop.example.com", scopes=("analytics:read", "payments:write"))
    path = "/api/v1/analytics/metadata"
    [row] = call(server, key, "GET", path).json()["data"]
    assert row == {"domain": "shop.example.com", "timezone": "UTC", "name": "shop.example.com",
                   "kpiColorScheme": "orange", "kpi": None, "currency": "USD"}  # fmt: skip  # no logo: optional
    named = call(server, key, "GET", path, params={"fields": ",".join(SPEC_METADATA)}).json()["data"][0]
    assert list(named) == list(SPEC_METADATA) and named["logo"] is None  # asked for by name: null
    for i in range(2):  # payments in euros: the site's currency until the owner sets one
        sent = {"amount": 10, "currency": "EUR", "transaction_id": f"t{i}"}
        assert call(server, key, "POST", "/api/v1/payments", json=sent).status_code == 200
    assert call(server, key, "GET", path, params={"fields": "currency"}).json()["data"] == [{"currency": "EUR"}]
    set_site(server, site, name="The Shop", logo="https://cdn.example.com/logo.png", kpi="signup",
             kpi_color_scheme="teal", currency="GBP")  # fmt: skip
    [row] = call(server, key, "GET", path).json()["data"]
    assert (row["name"], row["logo"], row["kpi"], row["kpiColorScheme"], row["currency"]) == (
        "The Shop", "https://cdn.example.com/logo.png", "signup", "teal", "GBP"
    )  # fmt: skip
    assert row["kpiColorScheme"] in COLORS
    bad = call(server, key, "GET", path, params={"fields": "domain,plan"})
    assert bad.status_code == 400 and bad.json()["status"] == "error" and "plan" in bad.json()["error"]["message"]


def test_the_cli_and_the_settings_page_check_metadata(server: AppServer) -> None:
    from footfall import site_metadata

    with pytest.raises(site_metadata.InvalidMetadata):
        site_metadata.changes({"kpi_color_scheme": "magenta"})
    with pytest.raises(site_metadata.InvalidMetadata):
        site_metadata.changes({"logo": "javascript:alert(1)"})
    with pytest.raises(site_metadata.InvalidMetadata):
        site_metadata.changes({"currency": "EURO"})
    assert site_metadata.changes({"name": " ", "kpi": "Sign_Up", "currency": "eur"}) == {
        "name": None, "kpi": "sign_up", "currency": "EUR"
    }  # fmt: skip


def test_access_tokens_follow_datafasts_permission_rules(server: AppServer) -> None:
    site, site_key = server.add_site("shop.example.com", scopes=("*",))
    admin = account_key(server, ("api-keys:read", "api-keys:write", "analytics:read"))
    reader = account_key(server, ("api-keys:read",))
    base = "/api/v1/admin/access-tokens"

    website_key = call(server, site_key, "GET", base)  # df_ keys may not manage tokens, whatever their scopes
    assert website_key.status_code == 403 and website_key.json()["status"] == "error"
    assert call(server, reader, "POST", base, json={"name": "x", "permissions": ["api-keys:read"]}).status_code == 403

    made = call(server, admin, "POST", base, json={"name": "reporting", "permissions": ["analytics:read"],
                                                   "websiteIds": [site]})  # fmt: skip
    assert made.status_code == 200, made.text
    [token] = made.json()["data"]
    assert {"id", "name", "displayKey", "key", "permissions"} <= set(token)
    assert (token["name"], token["permissions"], token["websiteIds"]) == ("reporting", ["analytics:read"], [site])
    assert token["displayKey"].startswith(token["key"][:10]) and token["key"] not in token["displayKey"]
    # the new token works where its permission and website allow, and nowhere else
    assert call(server, token["key"], "GET", "/api/v1/analytics/overview").status_code == 200
    assert call(server, token["key"], "POST", "/api/v1/goals", json={"name": "x"}).status_code == 403

    wider = call(server, admin, "POST", base, json={"name": "too much", "permissions": ["payments:write"]})
    assert wider.status_code == 403 and "payments:write" in wider.json()["error"]["message"]
    star = call(server, admin, "POST", base, json={"name": "all", "permissions": ["*"]})
    assert star.status_code == 403
    several = call(server, admin, "POST", base, json={"name": "two", "permissions": ["analytics:read"],
                                                      "websiteIds": [site, "0" * 24]})  # fmt: skip
    assert several.status_code == 400
    unknown_site = call(server, admin, "POST", base, json={"name": "x", "permissions": ["analytics:read"],
                                                           "websiteIds": ["f" * 24]})  # fmt: skip
    assert unknown_site.status_code == 404

    listed = call(server, reader, "GET", base).json()["data"]
    assert token["id"] in {t["id"] for t in listed} and all("key" not in t for t in listed)
    assert call(server, reader, "DELETE", f"{base}/{token['id']}").status_code == 403
    gone = call(server, admin, "DELETE", f"{base}/{token['id']}")
    assert gone.status_code == 200 and gone.json()["data"][0]["id"] == token["id"]
    assert call(server, token["key"], "GET", "/api/v1/analytics/overview").status_code == 401
    assert call(server, admin, "DELETE", f"{base}/nope").json() == datafast_body(404, "Access token not found")


def test_the_account_route_reads_and_renames(server: AppServer) -> None:
    server.add_site("shop.example.com")
    reader = account_key(server, ("settings:read",))
    writer = account_key(server, ("settings:read", "settings:write"))
    profile = call(server, reader, "GET", "/api/v1/admin/account").json()["data"]
    assert {"id", "name", "plan"} <= set(profile) and profile["plan"]["websites"] == 1
    assert call(server, reader, "PUT", "/api/v1/admin/account", json={"name": "Acme"}).status_code == 403
    renamed = call(server, writer, "PUT", "/api/v1/admin/account", json={"name": "Acme"})
    assert renamed.status_code == 200 and renamed.json()["data"]["name"] == "Acme"
    assert call(server, writer, "PUT", "/api/v1/admin/account", json={"name": ""}).status_code == 400


# Field lists of ../shared/specs/datafast.md 1.6, with the JSON types a typed client reads.
OVERVIEW = {"visitors": int, "sessions": int, "bounce_rate": (int, float), "avg_session_duration": (int, float),
            "currency": str, "revenue": (int, float), "payments": int, "revenue_per_visitor": (int, float),
            "conversion_rate": (int, float)}  # fmt: skip
VISITOR_ROW = {"visitorId": str, "lastSeenAt": str, "currentUrl": str, "identity": dict, "acquisition": dict}
ACTIVITY = {"visitCount": int, "pageViewCount": int, "timeSinceFirstVisit": int, "timeSinceCurrentVisit": int,
            "firstVisitAt": str, "lastVisitAt": str, "currentUrl": str, "visitedPages": list,
            "completedGoals": list}  # fmt: skip


def wrong(value: dict[str, Any], fields: dict[str, Any]) -> dict[str, str]:
    return {k: type(value.get(k)).__name__ for k, t in fields.items() if not isinstance(value.get(k), t)}


def test_the_shapes_datafast_clients_read(server: AppServer) -> None:
    site, key = server.add_site("example.com", scopes=("analytics:read", "goals:write", "payments:write"))
    vid = post(server.url, event(site, "https://example.com/pricing?utm_source=news")).json()["visitorId"]
    [overview] = call(server, key, "GET", "/api/v1/analytics/overview").json()["data"]
    assert wrong(overview, OVERVIEW) == {}
    series = call(server, key, "GET", "/api/v1/analytics/timeseries", params={"interval": "day"}).json()
    assert {"status", "fields", "interval", "timezone", "currency", "totals", "data", "pagination"} <= set(series)
    listed = call(server, key, "GET", "/api/v1/visitors").json()
    assert [wrong(r, VISITOR_ROW) for r in listed["data"]] == [{}]
    assert listed["data"][0]["currentUrl"] == "example.com/pricing" and set(listed["pagination"]) >= {"hasMore"}
    goal = call(server, key, "POST", "/api/v1/goals", json={"datafast_visitor_id": vid, "name": "Sign Up"}).json()
    assert goal["status"] == "success" and goal["data"][0]["message"]
    payment = {"amount": 5, "currency": "USD", "transaction_id": "t1", "datafast_visitor_id": vid}
    paid = call(server, key, "POST", "/api/v1/payments", json=payment)
    assert set(paid.json()) == {"message", "transaction_id"}  # not wrapped, as DataFast's
    data = call(server, key, "GET", f"/api/v1/visitors/{vid}").json()["data"]
    assert set(data) >= {"visitorId", "identity", "activity", "profile", "prediction"}
    assert wrong(data["activity"], ACTIVITY) == {}
    assert [g["name"] for g in data["activity"]["completedGoals"]] == ["sign_up", "payment"]
