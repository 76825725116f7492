"""Upgrades keep every row: a database made and filled by the previous release (0.1.0, run from
its git tag) is opened by this checkout, which migrates it; every row of every table is still
there, unchanged, and the APIs answer as they did (docs/storage.md, "Upgrades").

The release is filled through its own HTTP APIs and CLI only, the way a user filled it: events
from several browsers with device signals, sessions, goals, identify calls, payments, email links,
imported contacts, a Floqer source synced into a webhook workflow that delivered, a dashboard user
and keys.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import geo_dbs
from tests.support.receiver import Receiver
from tests.support.release import admin_key, cli, release_source, tables
from tests.support.servers import UA_CHROME_MAC, UA_IPHONE, ServerProcess

# tables whose rows are a running server's state, not data: leases expire and are retaken
TRANSIENT = {"job_leases"}
# API answers of the release that this version deliberately changed, by (path, key): each names why
CHANGED: dict[tuple[str, str], str] = {}
# breakdowns whose rows of equal visitors the release left in the order the database read them
# (an index of 0007 changed it); this version orders them by key: compared in one order
TIES = ("/api/v1/analytics/pages",)
# tables a migration replaced, with where their rows went: new table and old column -> new column
MOVED = {
    "drop_counts": ("filtered", {"site_id": "site_id", "reason": "reason", "day": "day", "count": "count"}),  # 0004
}
# derived tables a migration emptied for their job to compute again from the rows (0004: the
# rollups fold visits without a device type as "unknown"; 0009: entry and exit pages are folded
# too; 0010: the visit columns filtered analytics read); the API answers read from them are
# still compared below
REBUILT = {"rollups", "rollup_columns", "rollup_codes", "rollup_state"}
MOVING = {"timeSinceFirstVisit", "timeSinceCurrentVisit"}  # seconds since, read at different times


def _untied(path: str, answer: Any) -> Any:
    if not path.startswith(TIES) or not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        return answer
    rows = sorted(answer["data"], key=lambda r: (-r["visitors"], str(r.get("hostname")), str(r.get("path"))))
    return answer | {"data": rows}


def _env(data_dir: Path, database_url: str, city_dbs: dict[str, Path]) -> dict[str, str]:
    return {
        **os.environ,
        "FOOTFALL_DATA_DIR": str(data_dir),
        "FOOTFALL_DATABASE_URL": database_url,
        "FOOTFALL_GEOIP_CITY": str(city_dbs["geoip2"]),
        "FOOTFALL_GEOIP_ASN": str(city_dbs["asn"]),
        "FOOTFALL_TRUSTED_PROXIES": "127.0.0.1",
        "FOOTFALL_SCORING_INTERVAL_SECONDS": "0",
        "FOOTFALL_ROLLUP_INTERVAL_SECONDS": "0",
        "FOOTFALL_DELIVERY_INTERVAL_SECONDS": "0.2",
        "FOOTFALL_DELIVERY_BACKOFF_MS": "100",
        "FOOTFALL_OUTBOUND_ALLOW": "127.0.0.0/8",  # the workflow's receiver is on loopback
    }


def _post(url: str, body: Any, ip: str, ua: str = UA_CHROME_MAC, path: str = "/api/events") -> dict[str, Any]:
    answer = httpx.post(url + path, json=body, headers={"user-agent": ua, "x-forwarded-for": ip}, timeout=10)
    assert answer.status_code in (200, 202), answer.text
    return dict(answer.json())


def _fill(url: str, key: str, site: str, receiver: Receiver) -> dict[str, str]:
    """What a user of 0.1.0 would have stored; returns the ids the API reads use."""
    auth = {"authorization": f"Bearer {key}"}
    api = httpx.Client(base_url=url, headers=auth, timeout=10)
    workflow = api.post("/api/v1/workflows", json={"name": "crm", "kind": "webhook", "inputs": ["email", "name"],
                                                    "url": receiver.url + "/hook",
                                                    "headers": {"X-Crm-Token": "tok-123"}})  # fmt: skip
    assert workflow.status_code == 201, workflow.text
    source = api.post("/api/v1/sources/track_personal_website_visitors",
                      json={"name": "people", "active_domain": "example.com"})  # fmt: skip
    assert source.status_code == 201, source.text
    source_id = source.json()["data"]["source_instance_id"]
    mapping = {"input.email": "email", "input.name": "firstName"}
    synced = api.post(
        f"/api/v1/sources/{source_id}/sync",
        json={"workflow_id": workflow.json()["data"]["id"], "field_mapping": mapping},
    )
    assert synced.status_code == 200, synced.text
    page = {"websiteId": site, "type": "pageview"}
    device = {"h": "0a1b2c3d", "s": "1a2b3c4d", "c": {"canvas": "x1", "screen": "1440x900"}, "q": 2048, "m": 4096}
    first = _post(url, {**page, "href": "https://example.com/?utm_source=news", "device": device}, geo_dbs.LONDON_IP)
    visitor = first["visitorId"]
    for path in ("/pricing", "/docs", "/signup"):
        _post(url, {**page, "href": f"https://example.com{path}", "visitorId": visitor}, geo_dbs.LONDON_IP)
    _post(url, {**page, "type": "custom", "href": "https://example.com/signup", "visitorId": visitor,
                "extraData": {"eventName": "signup", "plan": "pro"}}, geo_dbs.LONDON_IP)  # fmt: skip
    _post(url, {**page, "type": "identify", "href": "https://example.com/signup", "visitorId": visitor,
                "extraData": {"user_id": "u-1", "email": "alice@acme.com", "name": "Alice Liddell"}},
          geo_dbs.LONDON_IP)  # fmt: skip
    phone = _post(url, {**page, "href": "https://example.com/blog"}, geo_dbs.TOKYO_IP, UA_IPHONE)["visitorId"]
    _post(url, {**page, "href": "https://example.com/about", "referrer": "https://www.google.com/"}, geo_dbs.MIT_IP)
    crawler = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"  # counted in drop_counts
    assert _post(url, {**page, "href": "https://example.com/"}, geo_dbs.LONDON_IP, crawler) == {"dropped": "bot"}
    q = {"websiteId": site}
    for call in (
        api.post("/api/v1/identify", params=q, json={"user_id": "u-2", "datafast_visitor_id": phone,
                                                     "email": "bob@globex.com", "name": "Bob Ross"}),
        api.post("/api/v1/goals", params=q, json={"datafast_visitor_id": phone, "name": "newsletter"}),
        api.post("/api/v1/payments", params=q, json={"amount": 49, "currency": "USD", "transaction_id": "t-1",
                                                     "datafast_visitor_id": visitor, "email": "alice@acme.com"}),
        api.post("/api/v1/links", params=q, json={"email": "carol@initech.com", "name": "Carol"}),
        api.post("/api/v1/contacts/import", params=q, json={"contacts": [
            {"email": "dave@hooli.com", "name": "Dave", "company": "Hooli", "title": "CTO"}],
            "companies": [{"domain": "hooli.com", "name": "Hooli", "industry": "Software"}]}),
    ):  # fmt: skip
        assert call.status_code in (200, 201), call.text
    assert len(receiver.wait(2)) == 2  # both people were delivered (no delivery left pending)
    people = api.get("/api/v1/people", params=q).json()
    alice = next(p for p in people["data"] if p.get("email") == "alice@acme.com")
    return {"visitor": visitor, "phone": phone, "person": alice["id"], "source": source_id,
            "workflow": workflow.json()["data"]["id"]}  # fmt: skip


def _reads(url: str, key: str, site: str, ids: dict[str, str]) -> dict[str, Any]:
    """API answers that must survive the upgrade."""
    day = time.strftime("%Y-%m-%d", time.gmtime())
    q = f"websiteId={site}"
    rng = f"{q}&startAt={day}&endAt={day}"
    paths = [
        f"/api/v1/visitors/{ids['visitor']}?{q}",
        f"/api/v1/visitors/{ids['phone']}?{q}",
        f"/api/v1/visitors?{q}",
        f"/api/v1/people?{q}",
        f"/api/v1/people/{ids['person']}?{q}",
        f"/api/v1/companies?{q}",
        f"/api/v1/analytics/overview?{rng}",
        f"/api/v1/analytics/pages?{rng}",
        f"/api/v1/analytics/referrers?{rng}",
        f"/api/v1/analytics/countries?{rng}",
        f"/api/v1/analytics/goals?{rng}",
        f"/api/v1/sources/{ids['source']}/data",
        f"/api/v1/workflows/{ids['workflow']}/deliveries",
    ]
    auth = {"authorization": f"Bearer {key}"}
    answers = {}
    for path in paths:
        got = httpx.get(url + path, headers=auth, timeout=10)
        assert got.status_code == 200, (path, got.text)
        answers[path] = got.json()
    fingerprint = httpx.get(f"{url}/visitors/{ids['visitor']}", headers={"auth-api-key": key}, timeout=10)
    assert fingerprint.status_code == 200, fingerprint.text
    answers["/visitors (Fingerprint)"] = fingerprint.json()
    return answers


def _contained(old: Any, new: Any, where: str, problems: list[str]) -> None:
    """Everything the release answered is in the new answer (new keys may be added)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for k, v in old.items():
            if k in MOVING:
                continue
            if k not in new:
                problems.append(f"{where}.{k}: gone")
            else:
                _contained(v, new[k], f"{where}.{k}", problems)
    elif isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            problems.append(f"{where}: {len(old)} items became {len(new)}")
        for i, (a, b) in enumerate(zip(old, new, strict=False)):
            _contained(a, b, f"{where}[{i}]", problems)
    elif old != new:
        problems.append(f"{where}: {old!r} became {new!r}")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_database_of_the_previous_release_upgrades_with_every_row(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, city_dbs: dict[str, Path]
) -> None:
    database_url = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    release = release_source(tmp_path / "release")
    env = _env(tmp_path / "data", database_url, city_dbs)
    key = admin_key(cli(release, env, "init"))
    site = cli(release, env, "sites", "add", "example.com").split("Site id: ")[1].split()[0]
    with Receiver() as receiver:
        old = ServerProcess({**env, "PYTHONPATH": str(release)}, log=tmp_path / "release.log").start()
        try:
            assert httpx.get(old.url + "/openapi.json").json()["info"]["version"] == "0.1.0"
            ids = _fill(old.url, key, site, receiver)
            before = _reads(old.url, key, site, ids)
        finally:
            old.stop()
        rows_before = tables(tmp_path / "data", database_url)

        env.pop("PYTHONPATH", None)
        new = ServerProcess(env, port=old.port, log=tmp_path / "new.log").start()  # URLs in answers stay
        try:
            after = _reads(new.url, key, site, ids)
        finally:
            new.stop()
        rows_after = tables(tmp_path / "data", database_url)

    assert rows_before["drop_counts"], "the release counted the crawler's hit"
    for table, rows in rows_before.items():
        if table in TRANSIENT or table in REBUILT:
            continue
        if table in MOVED:
            target, renamed = MOVED[table]
            moved = [tuple(sorted((renamed[c], v) for c, v in row if c in renamed)) for row in rows]
            landed = {tuple(sorted(p for p in row if p[0] in renamed.values())) for row in rows_after[target]}
            assert set(moved) <= landed, f"{table}: rows lost on the way to {target}"
            continue
        assert table in rows_after, f"table {table} is gone"
        columns = {c for row in rows[:1] for c, _ in row}
        kept = sorted((tuple(p for p in row if p[0] in columns) for row in rows_after[table]), key=repr)
        if table == "schema_migrations":
            assert set(rows) <= set(kept), "the release's migrations are still recorded"
            continue
        assert kept == rows, f"{table}: rows changed by the upgrade"
    filled = {"events", "visitors", "sessions", "people", "person_ids", "payments", "identifications",
              "source_rows", "deliveries", "workflows", "api_keys", "companies"}  # fmt: skip
    assert not [t for t in filled if not rows_before[t]], "the release stored something in each"
    problems: list[str] = []
    for path, answer in before.items():
        _contained(_untied(path, answer), _untied(path, after[path]), path, problems)
    problems = [p for p in problems if not any(path in p and key in p for path, key in CHANGED)]
    assert not problems, "\n".join(problems)
