"""Privacy on the server: country and hostname exclusions, settings checked when saved, the
retention purge, and deletion that leaves nothing of a person in any table."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from footfall import accounts
from footfall.retention import purge
from tests.support.collect import event, post
from tests.support.geo_dbs import LONDON_IP, TOKYO_IP
from tests.support.servers import AppServer


def count(server: AppServer, sql: str, *params: Any) -> int:
    return int(server.store.read(lambda tx: tx.one(sql, params))["n"])


def test_country_and_hostname_exclusions(server: AppServer) -> None:
    site, _ = server.add_site("example.com", allowed_hostnames=("example.org",))
    changes = accounts.privacy_changes({"exclude_countries": "gb", "exclude_hostnames": "staging.example.com"})
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, changes))
    assert post(server.url, event(site), ip=LONDON_IP).headers["x-footfall-dropped"] == "excluded_country"
    staging = post(server.url, event(site, "https://staging.example.com/"), ip=TOKYO_IP)
    assert staging.headers["x-footfall-dropped"] == "excluded_hostname"
    assert post(server.url, event(site), ip=TOKYO_IP).status_code == 202
    assert count(server, "SELECT COUNT(*) AS n FROM events") == 1


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"exclude_ips": "10.0.0.0/8, not-an-ip"}, "not an IP address"),
        ({"exclude_countries": "GB, Britain"}, "two-letter"),
        ({"exclude_paths": "admin/*"}, "start with /"),
        ({"retention_days": "-3"}, "number of days"),
    ],
)
def test_bad_privacy_settings_are_refused(given: dict[str, str], problem: str) -> None:
    with pytest.raises(accounts.InvalidInput, match=problem):
        accounts.privacy_changes(given)


def test_retention_purges_old_visits_only(server: AppServer) -> None:
    site, key = server.add_site("example.com")
    old = post(server.url, event(site, "https://example.com/old"), ip=LONDON_IP).json()["visitorId"]
    server.clock.advance(minutes=40 * 24 * 60)
    recent = post(server.url, event(site, "https://example.com/new"), ip=TOKYO_IP).json()["visitorId"]
    server.app.state.rollups.fold()
    assert purge(server.store, server.clock) == 0  # no retention set: everything stays
    server.store.write(lambda tx: accounts.update_site_settings(tx, site, {"retention_days": 30}))
    assert purge(server.store, server.clock) > 0
    assert [r["path"] for r in server.store.read(lambda tx: tx.all("SELECT path FROM events"))] == ["/new"]
    assert count(server, "SELECT COUNT(*) AS n FROM sessions") == 1
    assert count(server, "SELECT COUNT(*) AS n FROM visitors WHERE id = ?", old) == 0
    assert count(server, "SELECT COUNT(*) AS n FROM visitors WHERE id = ?", recent) == 1
    overview = httpx.get(f"{server.url}/api/v1/analytics/overview", headers={"authorization": f"Bearer {key}"})
    assert overview.json()["data"][0]["visitors"] == 1  # all time: what is kept


def test_deleting_a_person_leaves_nothing_in_any_table(server: AppServer) -> None:
    site, key = server.add_site("example.com", scopes=("analytics:read", "identify:write", "payments:write"))
    auth = {"authorization": f"Bearer {key}"}
    visitor = post(server.url, event(site, "https://example.com/pricing", extraData={"x": 1})).json()["visitorId"]
    post(server.url, event(site, "https://example.com/", type="custom", visitorId=visitor,
                           extraData={"eventName": "signup"}))  # fmt: skip
    body = {
        "datafast_visitor_id": visitor,
        "user_id": "u-erase",
        "email": "erase.me@acme-corp.com",
        "name": "Erin Rase",
    }
    assert httpx.post(f"{server.url}/api/v1/identify", json=body, params={"websiteId": site}, headers=auth).is_success
    pay = {"amount": 10, "currency": "USD", "transaction_id": "t-erase", "datafast_visitor_id": visitor}
    assert httpx.post(f"{server.url}/api/v1/payments", json=pay, headers=auth).is_success
    server.app.state.rollups.fold()
    server.app.state.scoring.run()
    person = httpx.get(f"{server.url}/api/v1/people", params={"websiteId": site}, headers=auth).json()["data"][0]
    nums = server.store.read(
        lambda tx: tx.one(
            "SELECT v.num AS visitor, p.num AS person FROM visitors v JOIN people p ON p.num = v.person_num"
        )
    )
    assert httpx.delete(f"{server.url}/api/v1/people/{person['id']}", headers=auth).is_success
    traces = ["erase.me@acme-corp.com", "u-erase", "Erin Rase", person["id"]]
    for table in tables(server):
        for row in server.store.read(lambda tx, t=table: tx.all(f"SELECT * FROM {t}")):
            text = " ".join(str(v) for v in row.values())
            assert not any(t in text for t in traces), (table, row)
            for column, value in row.items():
                if column in ("visitor_num", "alias_of") or (table == "visitors" and column == "num"):
                    assert value != nums["visitor"], (table, row)
                if column == "person_num" or (table == "people" and column == "num"):
                    assert value != nums["person"], (table, row)
    # the visitor id goes on the deny list (a browser holding it gets a new visitor), nothing else
    assert count(server, "SELECT COUNT(*) AS n FROM deleted_visitor_ids WHERE id = ?", visitor) == 1
    assert count(server, "SELECT COUNT(*) AS n FROM payments WHERE transaction_id = 't-erase' AND email IS NULL") == 1


def tables(server: AppServer) -> list[str]:
    def names(tx: Any) -> list[str]:
        if tx.dialect == "sqlite":
            rows = tx.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        else:
            rows = tx.all("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'")
        return sorted(r["name"] for r in rows)

    found = server.store.read(names)
    assert len(found) > 25 and {"events", "sessions", "visitors", "people", "identifications"} <= set(found)
    return [t for t in found if t != "deleted_visitor_ids"]
